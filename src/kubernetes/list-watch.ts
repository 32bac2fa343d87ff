/**
 * List and watch of one kind of resource, for the watch supervisor. Generic
 * over the kind: a source names its resource (group, version, plural) and gets
 * paged lists and bookmarked watches with the same behaviour as every other.
 */

import { Watch, type KubeConfig } from '@kubernetes/client-node';
import { getJson } from './client.js';
import { httpStatusOf } from './errors.js';
import { probeReadiness } from './readiness-probe.js';
import type { Reachability } from './reachability.js';
import type { ListResult, ListWatchClient, WatchStream, WatchStreamHandlers } from './watch-supervisor.js';

/** A kind of resource as the API addresses it; group '' is the core group (/api/v1). */
export interface ResourceKind {
  group: string;
  version: string;
  plural: string;
}

/** The collection path of a kind, cluster-wide or for one namespace. */
export function collectionPath(kind: ResourceKind, namespace?: string): string {
  const base = kind.group === '' ? `/api/${kind.version}` : `/apis/${kind.group}/${kind.version}`;
  return namespace ? `${base}/namespaces/${encodeURIComponent(namespace)}/${kind.plural}` : `${base}/${kind.plural}`;
}

export interface ResourceListWatchOptions {
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

export class ResourceListWatch<T> implements ListWatchClient<T> {
  readonly description: string;
  private readonly watcher: Watch;
  private readonly path: string;

  constructor(private readonly kc: KubeConfig, kind: ResourceKind, private readonly options: ResourceListWatchOptions = {}) {
    this.watcher = new Watch(kc);
    this.path = collectionPath(kind, options.namespace);
    this.description = options.labelSelector ? `${this.path}?labelSelector=${options.labelSelector}` : this.path;
  }

  async list(signal: AbortSignal): Promise<ListResult<T>> {
    const items: T[] = [];
    let resourceVersion = '';
    let continueToken: string | undefined;
    // Pages share one snapshot; if the continue token expires (410) the whole
    // list fails and the supervisor starts over.
    do {
      const page = (await getJson(
        this.kc,
        this.path,
        { limit: this.options.pageSize ?? 500, labelSelector: this.options.labelSelector, continue: continueToken },
        signal,
      )) as { items?: unknown; metadata?: { resourceVersion?: unknown; continue?: unknown } } | null;
      if (!page || !Array.isArray(page.items)) throw new Error(`list of ${this.path} returned no items array`);
      for (const item of page.items as T[]) items.push(item);
      if (!resourceVersion && typeof page.metadata?.resourceVersion === 'string') resourceVersion = page.metadata.resourceVersion;
      continueToken = typeof page.metadata?.continue === 'string' && page.metadata.continue ? page.metadata.continue : undefined;
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

  /**
   * A one-second watch from resourceVersion on a connection of its own: any
   * change it delivers, or a 410, is something the caller's open stream
   * should have delivered too. Nothing here touches the caller's state.
   */
  changedSince(resourceVersion: string, signal: AbortSignal): Promise<boolean | undefined> {
    return new Promise((resolve) => {
      let settled = false;
      let controller: AbortController | undefined;
      // The server ends the watch after timeoutSeconds; this only guards against one that does not.
      const guard = setTimeout(() => done(undefined), 10_000);
      // One signal serves every check of a watch session (one every few seconds for up to an
      // hour), so the listener must go with its check or they pile up on the signal.
      const onAbort = (): void => done(undefined);
      const done = (answer: boolean | undefined): void => {
        if (settled) return;
        settled = true;
        clearTimeout(guard);
        signal.removeEventListener('abort', onAbort);
        controller?.abort();
        resolve(answer);
      };
      if (signal.aborted) return done(undefined);
      signal.addEventListener('abort', onAbort, { once: true });
      const query = { resourceVersion, allowWatchBookmarks: false, labelSelector: this.options.labelSelector, timeoutSeconds: 1 };
      this.watcher
        .watch(
          this.path,
          query,
          (type, object) => {
            if (type === 'ADDED' || type === 'MODIFIED' || type === 'DELETED') done(true);
            else if (type === 'ERROR') done((object as { code?: unknown } | null)?.code === 410 ? true : undefined);
          },
          (err) => done(err ? (httpStatusOf(err) === 410 ? true : undefined) : false),
        )
        .then(
          (c) => {
            controller = c;
            if (settled) c.abort();
          },
          () => done(undefined),
        );
    });
  }

  /** Whether the API server is back and ready; the supervisor asks while it waits after a failure. */
  probe(signal: AbortSignal): Promise<Reachability> {
    return probeReadiness(this.kc, signal);
  }
}
