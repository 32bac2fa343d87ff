/**
 * The only file that talks to @kubernetes/client-node's request machinery:
 * DNSEndpoint list and watch for the watch supervisor, status patches and
 * Event creation for the status reporter. Everything above it works against
 * the small ListWatchClient / StatusApi interfaces, which unit tests fake.
 */

import {
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
  PatchStrategy,
  Watch,
  setHeaderMiddleware,
  type ConfigurationOptions,
  type CoreV1Event,
} from '@kubernetes/client-node';
import { DNSENDPOINT, dnsEndpointPath, type DnsEndpointResource, type DnsEndpointStatus } from './dnsendpoint.js';
import type { ListResult, ListWatchClient, WatchStream, WatchStreamHandlers } from './watch-supervisor.js';

/**
 * Loads credentials: an explicit kubeconfig file, else client-node's default
 * rules ($KUBECONFIG, ~/.kube/config, then the in-cluster service account,
 * whose token file it re-reads so projected-token rotation keeps working).
 */
export function loadKubeConfig(path?: string): KubeConfig {
  const kc = new KubeConfig();
  if (path) kc.loadFromFile(path);
  else kc.loadFromDefault();
  const cluster = kc.getCurrentCluster();
  // loadFromDefault's last resort is http://localhost:8080 with no user, an
  // insecure port no API server has had since 1.20: say what is missing instead.
  if (!cluster?.server || (!path && cluster.name === 'cluster' && cluster.server === 'http://localhost:8080')) {
    throw new Error(
      path
        ? `kubeconfig ${path} names no current cluster`
        : 'no Kubernetes credentials: pass --kubeconfig, set $KUBECONFIG, create ~/.kube/config, or run in a pod with a service account',
    );
  }
  return kc;
}

/**
 * Per-request options for the generated API clients: an abort signal (1.4.0's
 * calls otherwise have no timeout at all) and optionally a Content-Type. The
 * signal is set from inside a header middleware because client-node exports no
 * other way to build a middleware for its Observable-based pipeline.
 */
function requestOptions(signal: AbortSignal, contentType?: string): ConfigurationOptions {
  const base = setHeaderMiddleware(contentType ? 'Content-Type' : 'Accept', contentType ?? 'application/json');
  return {
    middleware: [
      {
        pre: (context) => {
          context.setSignal(signal);
          return base.pre(context);
        },
        post: (response) => base.post(response),
      },
    ],
    middlewareMergeStrategy: 'append',
  };
}

export interface DnsEndpointListWatchOptions {
  /** One namespace, or undefined for all. */
  namespace?: string;
  labelSelector?: string;
  /**
   * Seconds the server should keep each watch open, asked afresh per watch;
   * undefined lets the server choose (--min-request-timeout, 30-60 min by
   * default).
   */
  watchTimeoutSeconds?: () => number | undefined;
  /** Items per list page. */
  pageSize?: number;
}

export class DnsEndpointListWatch implements ListWatchClient<DnsEndpointResource> {
  readonly description: string;
  private readonly api: CustomObjectsApi;
  private readonly watcher: Watch;
  private readonly path: string;

  constructor(kc: KubeConfig, private readonly options: DnsEndpointListWatchOptions = {}) {
    this.api = kc.makeApiClient(CustomObjectsApi);
    this.watcher = new Watch(kc);
    this.path = dnsEndpointPath(options.namespace);
    this.description = options.labelSelector ? `${this.path}?labelSelector=${options.labelSelector}` : this.path;
  }

  async list(signal: AbortSignal): Promise<ListResult<DnsEndpointResource>> {
    const { group, version, plural } = DNSENDPOINT;
    const items: DnsEndpointResource[] = [];
    let resourceVersion = '';
    let continueToken: string | undefined;
    // Pages share one snapshot; if the continue token expires (410) the whole
    // list fails and the supervisor starts over.
    do {
      const common = {
        group,
        version,
        plural,
        limit: this.options.pageSize ?? 500,
        ...(this.options.labelSelector ? { labelSelector: this.options.labelSelector } : {}),
        ...(continueToken ? { _continue: continueToken } : {}),
      };
      const page: unknown = this.options.namespace
        ? await this.api.listNamespacedCustomObject({ ...common, namespace: this.options.namespace }, requestOptions(signal))
        : await this.api.listClusterCustomObject(common, requestOptions(signal));
      const list = page as { items?: unknown; metadata?: { resourceVersion?: unknown; continue?: unknown } } | null;
      if (!list || !Array.isArray(list.items)) throw new Error(`list of ${this.path} returned no items array`);
      items.push(...(list.items as DnsEndpointResource[]));
      if (!resourceVersion && typeof list.metadata?.resourceVersion === 'string') resourceVersion = list.metadata.resourceVersion;
      continueToken = typeof list.metadata?.continue === 'string' && list.metadata.continue ? list.metadata.continue : undefined;
    } while (continueToken);
    return { items, resourceVersion };
  }

  async watch(resourceVersion: string, handlers: WatchStreamHandlers): Promise<WatchStream> {
    const query: Record<string, string | number | boolean | undefined> = {
      resourceVersion,
      // Bookmarks keep resourceVersion fresh on quiet watches (so a reconnect
      // rarely needs a relist) and prove the stream alive to the watchdog.
      allowWatchBookmarks: true,
      labelSelector: this.options.labelSelector,
      timeoutSeconds: this.options.watchTimeoutSeconds?.(),
    };
    const controller = await this.watcher.watch(
      this.path,
      query,
      (type, object) => handlers.onEvent(type, object),
      (err) => handlers.onDone(err),
    );
    return { abort: () => controller.abort() };
  }
}

/** A core/v1 Event as crdns writes it. */
export type EventBody = CoreV1Event;

/** The writes the status reporter makes. Errors carry the HTTP status as `code` (ApiException). */
export interface StatusApi {
  /** JSON merge patch of the status subresource; resolves to the object as stored. */
  patchStatus(namespace: string, name: string, status: DnsEndpointStatus, signal: AbortSignal): Promise<DnsEndpointResource>;
  createEvent(namespace: string, event: EventBody, signal: AbortSignal): Promise<void>;
}

export class KubernetesStatusApi implements StatusApi {
  private readonly custom: CustomObjectsApi;
  private readonly core: CoreV1Api;

  constructor(kc: KubeConfig) {
    this.custom = kc.makeApiClient(CustomObjectsApi);
    this.core = kc.makeApiClient(CoreV1Api);
  }

  async patchStatus(namespace: string, name: string, status: DnsEndpointStatus, signal: AbortSignal): Promise<DnsEndpointResource> {
    const { group, version, plural } = DNSENDPOINT;
    const stored: unknown = await this.custom.patchNamespacedCustomObjectStatus(
      {
        group,
        version,
        plural,
        namespace,
        name,
        body: { status },
        // With ExternalDNS's own CRD, status.conditions is not in the schema:
        // let the server prune it silently instead of warning on every write.
        fieldValidation: 'Ignore',
      },
      requestOptions(signal, PatchStrategy.MergePatch),
    );
    return (stored ?? {}) as DnsEndpointResource;
  }

  async createEvent(namespace: string, event: EventBody, signal: AbortSignal): Promise<void> {
    await this.core.createNamespacedEvent({ namespace, body: event }, requestOptions(signal));
  }
}
