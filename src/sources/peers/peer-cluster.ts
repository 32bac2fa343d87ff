/**
 * A peer cluster: its API server's DNSEndpoints, watched read-only with the
 * same resilient list/watch as this cluster's, fed into the store partition
 * of that cluster. It adds what only peers need:
 *
 * - a state (connecting, connected, disconnected, lost): a peer that has been
 *   unreachable for longer than the grace is lost, and the store withdraws its
 *   targets from names a live cluster also serves, so round robin stops
 *   sending clients to a dead cluster; a lost peer that answers again is back
 *   at once (its watch resumes, or it relists);
 * - its kubeconfig file is re-read when it changes on disk (a rotated token
 *   or certificate in a mounted Secret): the watch restarts with the new
 *   credentials, and the partition keeps serving the old data until the new
 *   list replaces it.
 *
 * Peers are read-only: nothing here writes to a peer's API server. Each
 * cluster's own crdns reports on its own objects.
 */
import { loadKubeConfig } from '../../kubernetes/client.js';
import { silentLogger, type Logger } from '../../logger.js';
import type { PartitionSink } from '../../store/zone-store.js';
import { DnsEndpointSource, type DnsEndpointSourceOptions } from '../dnsendpoints/source.js';
import { KubeconfigFollower } from './kubeconfig-follower.js';

export type PeerState = 'connecting' | 'connected' | 'disconnected' | 'lost';

export interface PeerStatus {
  name: string;
  state: PeerState;
  connected: boolean;
  /** Its first complete listing has arrived. */
  synced: boolean;
  /** ms since 1970 when its data was last known current (a list, an open watch, an event). */
  lastConfirmed?: number;
  /** ms since 1970 when it stopped answering; undefined while connected. */
  disconnectedSince?: number;
  relists: number;
  restarts: number;
  /** Times its kubeconfig file was re-read after a change. */
  credentialReloads: number;
  lastError?: string;
}

export interface PeerClusterOptions {
  name: string;
  kubeconfigPath: string;
  /** The store partition for this cluster. */
  sink: PartitionSink;
  /** Unreachable for longer than this: lost. */
  graceMs: number;
  /** The watch options this cluster's own source uses (namespaces, label selector, idle timeout). */
  watch?: Pick<DnsEndpointSourceOptions, 'namespaces' | 'labelSelector' | 'watchIdleTimeoutMs' | 'backoff'>;
  logger?: Logger;
  /** Called on every change of state, e.g. for the log and metrics. */
  onStateChange?: (status: PeerStatus) => void;
  /** How often the state is judged and the kubeconfig file checked. Defaults 250 ms and 5 s. */
  tickMs?: number;
  reloadCheckMs?: number;
  clock?: () => number;
}

export class PeerCluster {
  private readonly credentials: KubeconfigFollower<DnsEndpointSource>;
  private state: PeerState = 'connecting';
  private disconnectedSince: number;
  private ticker: NodeJS.Timeout | undefined;
  private stopped = false;
  private readonly logger: Logger;
  private readonly clock: () => number;

  constructor(private readonly options: PeerClusterOptions) {
    this.logger = (options.logger ?? silentLogger).child({ peer: options.name });
    this.clock = options.clock ?? Date.now;
    this.disconnectedSince = this.clock();
    this.credentials = new KubeconfigFollower({
      path: options.kubeconfigPath,
      make: () => this.makeSource(),
      start: (source) => source.start(this.options.sink),
      what: 'DNSEndpoints',
      logger: this.logger,
      ...(options.reloadCheckMs !== undefined ? { checkMs: options.reloadCheckMs } : {}),
    });
  }

  private get source(): DnsEndpointSource | undefined {
    return this.credentials.source;
  }

  /** Starts watching; never waits for the peer and never fails because it is down. Throws on an unusable kubeconfig. */
  async start(): Promise<void> {
    await this.credentials.start();
    this.ticker = setInterval(() => this.judge(), this.options.tickMs ?? 250);
    this.ticker.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.ticker);
    await this.credentials.stop();
  }

  get status(): PeerStatus {
    const s = this.source?.state;
    const status: PeerStatus = {
      name: this.options.name,
      state: this.state,
      connected: s?.connected ?? false,
      synced: s?.synced ?? false,
      relists: s?.relists ?? 0,
      restarts: s?.restarts ?? 0,
      credentialReloads: this.credentials.reloads,
    };
    if (s?.lastSyncTime !== undefined) status.lastConfirmed = s.lastSyncTime;
    if (this.state !== 'connected') status.disconnectedSince = this.disconnectedSince;
    if (s?.lastError !== undefined) status.lastError = s.lastError;
    return status;
  }

  private makeSource(): DnsEndpointSource {
    return new DnsEndpointSource({
      ...this.options.watch,
      kubeConfig: loadKubeConfig(this.options.kubeconfigPath),
      logger: this.logger,
      // Judge at once on a connection change, not only on the next tick.
      onStateChange: () => this.judge(),
    });
  }

  private judge(): void {
    if (this.stopped || !this.source) return;
    const s = this.source.state;
    const now = this.clock();
    let next: PeerState;
    if (s.connected) {
      next = 'connected';
    } else {
      if (this.state === 'connected') this.disconnectedSince = now;
      next = this.state === 'lost' || now - this.disconnectedSince > this.options.graceMs ? 'lost' : this.state === 'connecting' ? 'connecting' : 'disconnected';
    }
    if (next === this.state) return;
    const was = this.state;
    this.state = next;
    if (next === 'lost') {
      this.options.sink.setLost(true);
      this.logger.info('peer cluster lost; its targets are withdrawn from names a live cluster serves', { unreachableMs: now - this.disconnectedSince, lastError: s.lastError });
    } else if (was === 'lost' && next === 'connected') {
      this.options.sink.setLost(false);
      this.logger.info('peer cluster restored', { unreachableMs: now - this.disconnectedSince });
    } else {
      this.logger.info(`peer cluster ${next}`, { was, ...(s.lastError ? { lastError: s.lastError } : {}) });
    }
    this.options.onStateChange?.(this.status);
  }
}
