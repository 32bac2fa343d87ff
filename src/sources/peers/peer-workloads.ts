/**
 * A peer cluster's Services and Ingresses: the workload source pointed at the
 * peer's API server with its read-only kubeconfig, re-read when the file
 * changes, as peer-cluster.ts does for the peer's DNSEndpoints. Peer tokens
 * are short-lived (TokenRequest), so a watch that kept the credentials it
 * started with would stop working within the hour.
 *
 * On a change the old watches stop and new ones start; the partitions keep
 * serving what they hold until the new listing replaces it. Whether the peer
 * is lost is judged by its DNSEndpoint watch (the same API server), not here.
 */
import { readFile } from 'node:fs/promises';
import type { EndpointSink } from '../../endpoint/endpoint.js';
import { describeError } from '../../kubernetes/errors.js';
import { silentLogger, type Logger } from '../../logger.js';
import { WorkloadSource, type WorkloadKind, type WorkloadSourceOptions } from '../services/workload-source.js';

export interface PeerWorkloadsOptions {
  kubeconfigPath: string;
  /** Everything but the credentials, for each source made. */
  source: Omit<WorkloadSourceOptions, 'kubeconfig' | 'kubeConfig' | 'listWatchFactory' | 'onAnnotationProblems'>;
  sinks: Partial<Record<WorkloadKind, EndpointSink>>;
  /** How often the kubeconfig file is checked. Default 5 s. */
  reloadCheckMs?: number;
  logger?: Logger;
}

export class PeerWorkloads {
  private source: WorkloadSource | undefined;
  private text = '';
  private timer: NodeJS.Timeout | undefined;
  private reloading: Promise<void> | undefined;
  private stopped = false;
  private readonly logger: Logger;
  credentialReloads = 0;

  constructor(private readonly options: PeerWorkloadsOptions) {
    this.logger = options.logger ?? silentLogger;
  }

  /** Throws on an unusable kubeconfig; never waits for the peer. */
  async start(): Promise<void> {
    this.text = await readFile(this.options.kubeconfigPath, 'utf8');
    this.source = this.make();
    await this.source.start(this.options.sinks);
    this.timer = setInterval(() => void this.check(), this.options.reloadCheckMs ?? 5_000);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.reloading;
    await this.source?.stop();
  }

  get connected(): boolean {
    return this.source?.connected ?? false;
  }

  private make(): WorkloadSource {
    return new WorkloadSource({ ...this.options.source, kubeconfig: this.options.kubeconfigPath, logger: this.logger });
  }

  private async check(): Promise<void> {
    if (this.stopped || this.reloading) return;
    this.reloading = (async () => {
      let text: string;
      try {
        text = await readFile(this.options.kubeconfigPath, 'utf8');
      } catch (err) {
        this.logger.warn('peer kubeconfig unreadable; keeping the credentials in use', { file: this.options.kubeconfigPath, error: describeError(err) });
        return;
      }
      if (text === this.text || this.stopped) return;
      let next: WorkloadSource;
      try {
        next = this.make();
      } catch (err) {
        this.logger.warn('peer kubeconfig changed but is unusable; keeping the credentials in use', { file: this.options.kubeconfigPath, error: describeError(err) });
        return;
      }
      this.text = text;
      const old = this.source;
      this.source = next;
      this.credentialReloads++;
      this.logger.info('peer kubeconfig changed; watching Services and Ingresses with the new credentials', { file: this.options.kubeconfigPath });
      await old?.stop();
      if (!this.stopped) await next.start(this.options.sinks);
    })().finally(() => {
      this.reloading = undefined;
    });
    await this.reloading;
  }
}
