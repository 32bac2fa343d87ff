/**
 * DNSEndpoints watched from the Kubernetes API, fed into an EndpointSink.
 *
 * One watch supervisor per scope: the whole cluster, or each listed
 * namespace. The source merges them into one cache keyed "namespace/name":
 *
 * - nothing reaches the sink until every scope has listed once; then one
 *   replaceAll() with everything and synced();
 * - afterwards each watch event becomes an upsert()/remove() at once (no
 *   batching: the sink decides how to coalesce rebuilds);
 * - a later relist (after 410 Gone) becomes one replaceAll() of the merged
 *   cache, and only if something actually changed;
 * - errors never reach the sink: while the API server is unreachable it keeps
 *   what it has. The source never calls replaceAll() except after a
 *   successful list.
 *
 * Status-only changes (our own status writes included) bump resourceVersion
 * but not generation and are not passed on, so writing status cannot make the
 * data plane rebuild.
 *
 * The source also serves as the ObjectDirectory of the StatusReporter: the
 * reporter reads uid, generation and current status from this cache instead
 * of asking the API server.
 */

import type { KubeConfig } from '@kubernetes/client-node';
import { objectFingerprint, type EndpointSink, type EndpointSource } from '../../endpoint/endpoint.js';
import type { BackoffOptions } from '../../kubernetes/backoff.js';
import {
  DNSENDPOINT,
  keyOf,
  toDirectoryEntry,
  toEndpointObject,
  type DirectoryEntry,
  type DnsEndpointResource,
  type ObjectDirectory,
} from './resource.js';
import { loadKubeConfig } from '../../kubernetes/client.js';
import { ResourceListWatch } from '../../kubernetes/list-watch.js';
import { describeError } from '../../kubernetes/errors.js';
import { silentLogger, type Logger } from '../../logger.js';
import { summarizeWatches, type WatchSummary } from '../../kubernetes/watch-summary.js';
import { WatchSupervisor, type ChangeType, type ListWatchClient } from '../../kubernetes/watch-supervisor.js';

export interface DnsEndpointSourceOptions {
  /** Path of a kubeconfig file. Without it: $KUBECONFIG, ~/.kube/config, then in-cluster credentials. */
  kubeconfig?: string;
  /** Ready-made credentials; takes precedence over `kubeconfig`. */
  kubeConfig?: KubeConfig;
  /** Namespaces to watch; empty or absent means all namespaces (one cluster-wide watch). */
  namespaces?: readonly string[];
  /** Label selector applied to both list and watch, e.g. "crdns.io/serve=true". */
  labelSelector?: string;
  /**
   * Watchdog: restart a watch that delivered nothing (not even a bookmark) for
   * this long. Default 5 min. Bookmarks come ~2 min into a watch, then every
   * minute: below 3 min, quiet but healthy watches get restarted needlessly.
   */
  watchIdleTimeoutMs?: number;
  /** Give up on a list after this long. Default 60 s. */
  listTimeoutMs?: number;
  /** Reconnect backoff. Default 0.5 s doubling to 30 s, up to half of each delay random. */
  backoff?: Partial<BackoffOptions>;
  /**
   * Per-watch server-side timeout, [min, max] seconds, drawn at random per
   * watch as client-go does so many clients do not reconnect in step.
   * Default [300, 600]. `null` sends none and lets the server's
   * --min-request-timeout decide.
   */
  watchTimeoutSeconds?: readonly [number, number] | null;
  logger?: Logger;
  /** Called whenever connection or sync state changes (metrics, readiness). */
  onStateChange?: (state: DnsEndpointSourceState) => void;
  /**
   * Makes the list/watch client of each scope. Default: client-node with the
   * credentials above. A fake here runs the source without an API server.
   */
  listWatchFactory?: (scope: { namespace?: string; labelSelector?: string }) => ListWatchClient<DnsEndpointResource>;
}

export interface DnsEndpointSourceState extends WatchSummary {
  /** The sink has received the first full listing. */
  synced: boolean;
  /** Objects currently known. */
  objects: number;
}

interface Scope {
  namespace?: string;
  supervisor: WatchSupervisor<DnsEndpointResource>;
  listedOnce: boolean;
}

interface Cached {
  scope: Scope;
  resource: DnsEndpointResource;
  fingerprint: string;
}

export class DnsEndpointSource implements EndpointSource, ObjectDirectory {
  readonly name = 'kubernetes';
  /** The credentials in use; share them with the StatusReporter. */
  readonly kubeConfig: KubeConfig | undefined;

  private readonly logger: Logger;
  private readonly objects = new Map<string, Cached>();
  private scopes: Scope[] = [];
  private sink: EndpointSink | undefined;
  private initialSyncDone = false;
  private started = false;

  constructor(private readonly options: DnsEndpointSourceOptions = {}) {
    this.logger = options.logger ?? silentLogger;
    // Fails fast on a missing or broken kubeconfig; API errors come later and never throw.
    this.kubeConfig = options.listWatchFactory ? options.kubeConfig : (options.kubeConfig ?? loadKubeConfig(options.kubeconfig));
  }

  /**
   * Starts watching and returns at once: it does not wait for the first
   * listing (the sink's synced() says when that happened) and never rejects
   * because the API server is unreachable.
   */
  async start(sink: EndpointSink): Promise<void> {
    if (this.started) throw new Error('kubernetes source already started');
    this.started = true;
    this.sink = sink;
    const namespaces = [...new Set((this.options.namespaces ?? []).filter((ns) => ns !== ''))];
    const targets: Array<string | undefined> = namespaces.length > 0 ? namespaces : [undefined];
    this.scopes = targets.map((namespace) => this.makeScope(namespace));
    this.logger.info('watching DNSEndpoints', {
      namespaces: namespaces.length > 0 ? namespaces : 'all',
      labelSelector: this.options.labelSelector ?? '',
    });
    for (const scope of this.scopes) scope.supervisor.start();
  }

  async stop(): Promise<void> {
    await Promise.all(this.scopes.map((scope) => scope.supervisor.stop()));
    this.sink = undefined;
  }

  get state(): DnsEndpointSourceState {
    return { synced: this.initialSyncDone, objects: this.objects.size, ...summarizeWatches(this.scopes.map((scope) => scope.supervisor.state)) };
  }

  lookup(key: string): DirectoryEntry | undefined {
    const cached = this.objects.get(key);
    return cached ? toDirectoryEntry(cached.resource, key) : undefined;
  }

  private makeScope(namespace: string | undefined): Scope {
    const { labelSelector } = this.options;
    const client = this.options.listWatchFactory
      ? this.options.listWatchFactory({ ...(namespace ? { namespace } : {}), ...(labelSelector ? { labelSelector } : {}) })
      : new ResourceListWatch<DnsEndpointResource>(this.requireKubeConfig(), DNSENDPOINT, {
          ...(namespace ? { namespace } : {}),
          ...(labelSelector ? { labelSelector } : {}),
          watchTimeoutSeconds: this.watchTimeout(),
        });
    // The callbacks close over `scope`, which exists by the time any of them runs.
    let scope: Scope;
    const supervisor = new WatchSupervisor<DnsEndpointResource>(
      client,
      {
        listed: (items) => this.onListed(scope, items),
        changed: (type, resource) => this.onChanged(scope, type, resource),
        stateChanged: () => this.options.onStateChange?.(this.state),
      },
      {
        logger: this.logger,
        ...(this.options.watchIdleTimeoutMs !== undefined ? { idleTimeoutMs: this.options.watchIdleTimeoutMs } : {}),
        ...(this.options.listTimeoutMs !== undefined ? { listTimeoutMs: this.options.listTimeoutMs } : {}),
        ...(this.options.backoff ? { backoff: this.options.backoff } : {}),
      },
    );
    scope = { supervisor, listedOnce: false, ...(namespace ? { namespace } : {}) };
    return scope;
  }

  private requireKubeConfig(): KubeConfig {
    if (!this.kubeConfig) throw new Error('no kubeconfig');
    return this.kubeConfig;
  }

  private watchTimeout(): (() => number | undefined) | undefined {
    const range = this.options.watchTimeoutSeconds === undefined ? ([300, 600] as const) : this.options.watchTimeoutSeconds;
    if (range === null) return undefined;
    const [min, max] = range;
    return () => Math.round(min + Math.random() * Math.max(0, max - min));
  }

  private onListed(scope: Scope, items: DnsEndpointResource[]): void {
    let changed = false;
    const seen = new Set<string>();
    for (const resource of items) {
      const key = keyOf(resource);
      if (!key) continue;
      seen.add(key);
      const fingerprint = objectFingerprint(toEndpointObject(resource, key));
      const previous = this.objects.get(key);
      if (!previous || previous.fingerprint !== fingerprint) changed = true;
      this.objects.set(key, { scope, resource, fingerprint });
    }
    for (const [key, cached] of this.objects) {
      if (cached.scope === scope && !seen.has(key)) {
        this.objects.delete(key);
        changed = true;
      }
    }
    const wasListed = scope.listedOnce;
    scope.listedOnce = true;
    if (!this.initialSyncDone) {
      if (this.scopes.every((s) => s.listedOnce)) {
        this.initialSyncDone = true;
        this.replaceAll();
        this.callSink((sink) => sink.synced());
        this.logger.info('initial list of DNSEndpoints complete', { objects: this.objects.size });
      }
      return;
    }
    if (changed) {
      this.logger.info('relist found changes; replacing all objects', { objects: this.objects.size });
      this.replaceAll();
    } else if (wasListed) {
      this.logger.debug('relist found no changes', { objects: this.objects.size });
    }
  }

  private onChanged(scope: Scope, type: ChangeType, resource: DnsEndpointResource): void {
    const key = keyOf(resource);
    if (!key) return;
    if (type === 'DELETED') {
      if (!this.objects.delete(key)) return;
      if (this.initialSyncDone) this.callSink((sink) => sink.remove(key));
      return;
    }
    const fingerprint = objectFingerprint(toEndpointObject(resource, key));
    const previous = this.objects.get(key);
    this.objects.set(key, { scope, resource, fingerprint });
    if (this.initialSyncDone && previous?.fingerprint !== fingerprint) {
      this.callSink((sink) => sink.upsert(toEndpointObject(resource, key)));
    }
  }

  private replaceAll(): void {
    const all = [...this.objects].map(([key, cached]) => toEndpointObject(cached.resource, key));
    this.callSink((sink) => sink.replaceAll(all));
  }

  private callSink(fn: (sink: EndpointSink) => void): void {
    const sink = this.sink;
    if (!sink) return;
    try {
      fn(sink);
    } catch (err) {
      this.logger.error('endpoint sink threw', { error: describeError(err) });
    }
  }
}
