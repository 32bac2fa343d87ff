/**
 * Services and Ingresses watched from the Kubernetes API, with the
 * EndpointSlices that say whether they have ready endpoints, fed into one
 * sink per kind (each kind is its own store partition).
 *
 * One watch supervisor per (resource, scope). Nothing reaches a sink until
 * every watch has listed once (a Service's health is unknown until its slices
 * are in); then one replaceAll() per sink and synced(). Afterwards every event
 * recomputes only the objects it can affect (a slice → its Service and the
 * Ingresses of that namespace) and hands over those whose entries changed.
 * Errors never reach a sink: while the API is unreachable it keeps what it has.
 *
 * Health: a gated object's entries are handed over while it has a ready
 * endpoint, and for --health-hold-down after it lost the last one (hold-down.ts);
 * meanwhile its object stays in the sink with no entries, so a withdrawal
 * never changes who owns the name once it comes back.
 */
import type { KubeConfig } from '@kubernetes/client-node';
import { objectFingerprint, type EndpointObject, type EndpointSink } from '../../endpoint/endpoint.js';
import { loadKubeConfig } from '../../kubernetes/client.js';
import { describeError } from '../../kubernetes/errors.js';
import { ResourceListWatch, type ResourceKind } from '../../kubernetes/list-watch.js';
import { summarizeWatches, type WatchSummary } from '../../kubernetes/watch-summary.js';
import { WatchSupervisor, type ChangeType, type ListWatchClient } from '../../kubernetes/watch-supervisor.js';
import { silentLogger, type Logger } from '../../logger.js';
import { DEFAULT_ANNOTATION_PREFIXES, type AnnotationProblem } from './annotations.js';
import { HoldDown, systemClock, type Clock } from './hold-down.js';
import { ingressRecords } from './ingress-records.js';
import {
  ENDPOINTSLICE,
  GATEWAY,
  GRPCROUTE,
  HTTPROUTE,
  INGRESS,
  keyOfMeta,
  SERVICE,
  SERVICE_NAME_LABEL,
  type EndpointSliceResource,
  type GatewayResource,
  type IngressResource,
  type ObjectMeta,
  type RouteResource,
  type ServiceResource,
} from './resources.js';
import { parentGatewayKeys, routeRecords, type RouteKind } from './route-records.js';
import { serviceRecords } from './service-records.js';
import type { WorkloadRecords } from './workload-records.js';

export type WorkloadKind = 'service' | 'ingress' | RouteKind;

type Resource = { metadata?: ObjectMeta };
export type Watched = 'services' | 'endpointslices' | 'ingresses' | 'gateways' | 'httproutes' | 'grpcroutes';

const KINDS: Record<Watched, ResourceKind> = { services: SERVICE, endpointslices: ENDPOINTSLICE, ingresses: INGRESS, gateways: GATEWAY, httproutes: HTTPROUTE, grpcroutes: GRPCROUTE };
const ROUTE_KINDS: readonly RouteKind[] = ['httproute', 'grpcroute'];
const ROUTE_RESOURCE: Record<RouteKind, Watched> = { httproute: 'httproutes', grpcroute: 'grpcroutes' };

function isRouteKind(kind: WorkloadKind): kind is RouteKind {
  return kind === 'httproute' || kind === 'grpcroute';
}

export interface WorkloadSourceOptions {
  /** Which kinds to publish; at least one. */
  kinds: readonly WorkloadKind[];
  kubeconfig?: string;
  kubeConfig?: KubeConfig;
  /** Namespaces to watch; empty or absent: all. */
  namespaces?: readonly string[];
  /** Default: both ExternalDNS prefixes (annotations.ts). */
  annotationPrefixes?: readonly string[];
  /** How long records outlive the last ready endpoint. Default 5 s. */
  holdDownMs?: number;
  clock?: Clock;
  watchIdleTimeoutMs?: number;
  logger?: Logger;
  /** Called with every object's annotation problems when it is (re)computed, for Events. */
  onAnnotationProblems?: (kind: WorkloadKind, key: string, meta: ObjectMeta, problems: readonly AnnotationProblem[]) => void;
  /** A fake here runs the source without an API server. */
  listWatchFactory?: (resource: Watched, scope: { namespace?: string }) => ListWatchClient<Resource>;
}

interface Scope {
  resource: Watched;
  namespace?: string;
  supervisor: WatchSupervisor<Resource>;
  listedOnce: boolean;
}

interface Emitted {
  fingerprint: string;
}

export class WorkloadSource {
  readonly kubeConfig: KubeConfig | undefined;
  private readonly logger: Logger;
  private readonly prefixes: readonly string[];
  private readonly holdDown: HoldDown;
  private readonly services = new Map<string, { scope: Scope; resource: ServiceResource }>();
  private readonly slices = new Map<string, { scope: Scope; resource: EndpointSliceResource; service: string | undefined }>();
  /** Service key → keys of its slices. */
  private readonly slicesByService = new Map<string, Set<string>>();
  private readonly ingresses = new Map<string, { scope: Scope; resource: IngressResource }>();
  private readonly gateways = new Map<string, { scope: Scope; resource: GatewayResource }>();
  private readonly routes: Record<RouteKind, Map<string, { scope: Scope; resource: RouteResource }>> = { httproute: new Map(), grpcroute: new Map() };
  private readonly emitted: Record<WorkloadKind, Map<string, Emitted>> = { service: new Map(), ingress: new Map(), httproute: new Map(), grpcroute: new Map() };
  /**
   * The entries of each gated object when it last had a ready endpoint: what a
   * hold-down keeps serving, since a headless Service without ready endpoints
   * has no addresses left to compute records from.
   */
  private readonly lastHealthy = new Map<string, readonly unknown[]>();
  private scopes: Scope[] = [];
  private sinks: Partial<Record<WorkloadKind, EndpointSink>> = {};
  private initialSyncDone = false;
  private started = false;

  constructor(private readonly options: WorkloadSourceOptions) {
    if (options.kinds.length === 0) throw new Error('workload source needs at least one kind');
    this.logger = options.logger ?? silentLogger;
    this.prefixes = options.annotationPrefixes ?? DEFAULT_ANNOTATION_PREFIXES;
    this.holdDown = new HoldDown(options.holdDownMs ?? 5000, (key) => this.onHoldDownExpired(key), options.clock ?? systemClock);
    this.kubeConfig = options.listWatchFactory ? options.kubeConfig : (options.kubeConfig ?? loadKubeConfig(options.kubeconfig));
  }

  get synced(): boolean {
    return this.initialSyncDone;
  }

  get connected(): boolean {
    return this.scopes.length > 0 && this.scopes.every((s) => s.supervisor.state.connected);
  }

  /** Each watched resource's watches (one per namespace) summed up, for metrics; empty before start(). */
  watches(): Array<{ resource: Watched } & WatchSummary> {
    const resources = [...new Set(this.scopes.map((s) => s.resource))];
    return resources.map((resource) => ({ resource, ...summarizeWatches(this.scopes.filter((s) => s.resource === resource).map((s) => s.supervisor.state)) }));
  }

  /** Starts watching and returns at once; each sink hears synced() after the first complete listing. */
  async start(sinks: Partial<Record<WorkloadKind, EndpointSink>>): Promise<void> {
    if (this.started) throw new Error('workload source already started');
    this.started = true;
    this.sinks = sinks;
    const namespaces = [...new Set((this.options.namespaces ?? []).filter((ns) => ns !== ''))];
    const targets: Array<string | undefined> = namespaces.length > 0 ? namespaces : [undefined];
    // Ingress and route health reads their backend Services' slices, so both are watched for every kind.
    const kinds = this.options.kinds;
    const routeKinds = ROUTE_KINDS.filter((k) => kinds.includes(k));
    const watched: Watched[] = [
      'services',
      'endpointslices',
      ...(kinds.includes('ingress') ? (['ingresses'] as const) : []),
      ...(routeKinds.length > 0 ? (['gateways'] as const) : []),
      ...routeKinds.map((k) => ROUTE_RESOURCE[k]),
    ];
    this.scopes = watched.flatMap((resource) => targets.map((namespace) => this.makeScope(resource, namespace)));
    this.logger.info('watching workloads', { kinds: this.options.kinds, namespaces: namespaces.length > 0 ? namespaces : 'all', annotationPrefixes: this.prefixes });
    for (const scope of this.scopes) scope.supervisor.start();
  }

  async stop(): Promise<void> {
    this.holdDown.stop();
    await Promise.all(this.scopes.map((s) => s.supervisor.stop()));
    this.sinks = {};
  }

  /** The object behind a key of either kind, for Events about it. */
  lookup(kind: WorkloadKind, key: string): ObjectMeta | undefined {
    return this.objectsOf(kind).get(key)?.resource.metadata;
  }

  private objectsOf(kind: WorkloadKind): Map<string, { resource: { metadata?: ObjectMeta } }> {
    if (isRouteKind(kind)) return this.routes[kind];
    return kind === 'service' ? this.services : this.ingresses;
  }

  private makeScope(resource: Watched, namespace: string | undefined): Scope {
    const client = this.options.listWatchFactory
      ? this.options.listWatchFactory(resource, namespace ? { namespace } : {})
      : new ResourceListWatch<Resource>(this.requireKubeConfig(), KINDS[resource], {
          ...(namespace ? { namespace } : {}),
          watchTimeoutSeconds: () => Math.round(300 + Math.random() * 300),
        });
    let scope: Scope;
    const supervisor = new WatchSupervisor<Resource>(
      client,
      { listed: (items) => this.onListed(scope, items), changed: (type, item) => this.onChanged(scope, type, item) },
      { logger: this.logger, ...(this.options.watchIdleTimeoutMs !== undefined ? { idleTimeoutMs: this.options.watchIdleTimeoutMs } : {}) },
    );
    scope = { resource, supervisor, listedOnce: false, ...(namespace ? { namespace } : {}) };
    return scope;
  }

  private requireKubeConfig(): KubeConfig {
    if (!this.kubeConfig) throw new Error('no kubeconfig');
    return this.kubeConfig;
  }

  private onListed(scope: Scope, items: Resource[]): void {
    // Drop what this scope held, then take the listing: the complete current set.
    for (const [key, v] of this.mapOf(scope.resource)) if (v.scope === scope) this.forgetCached(scope.resource, key);
    for (const item of items) this.cache(scope, item);
    scope.listedOnce = true;
    if (!this.initialSyncDone) {
      if (!this.scopes.every((s) => s.listedOnce)) return;
      this.initialSyncDone = true;
      for (const kind of this.options.kinds) {
        const objects = this.keysOf(kind).flatMap((key) => {
          const o = this.compute(kind, key);
          return o ? [o] : [];
        });
        for (const o of objects) this.emitted[kind].set(o.key, { fingerprint: objectFingerprint(o) });
        this.callSink(kind, (sink) => sink.replaceAll(objects));
        this.callSink(kind, (sink) => sink.synced());
      }
      this.logger.info('initial list of workloads complete', {
        services: this.services.size,
        endpointSlices: this.slices.size,
        ingresses: this.ingresses.size,
        gateways: this.gateways.size,
        httpRoutes: this.routes.httproute.size,
        grpcRoutes: this.routes.grpcroute.size,
      });
      return;
    }
    // A relist (410 Gone) may have changed anything: recompute everything, hand over only differences.
    for (const kind of this.options.kinds) this.refreshAll(kind);
  }

  private onChanged(scope: Scope, type: ChangeType, item: Resource): void {
    const key = keyOfMeta(item.metadata);
    if (!key) return;
    const before = scope.resource === 'endpointslices' ? this.slices.get(key)?.service : undefined;
    if (type === 'DELETED') this.forgetCached(scope.resource, key);
    else this.cache(scope, item);
    if (!this.initialSyncDone) return;
    const namespace = item.metadata?.namespace as string;
    switch (scope.resource) {
      case 'services':
        this.refresh('service', key);
        this.refreshIngressesIn(namespace);
        // A backendRef may name a Service of another namespace (with a ReferenceGrant).
        this.refreshRoutes(() => true);
        break;
      case 'endpointslices': {
        const after = this.slices.get(key)?.service;
        for (const svc of new Set([before, after])) if (svc) this.refresh('service', svc);
        this.refreshIngressesIn(namespace);
        this.refreshRoutes(() => true);
        break;
      }
      case 'ingresses':
        this.refresh('ingress', key);
        break;
      case 'gateways':
        this.refreshRoutes((route) => parentGatewayKeys(route).includes(key));
        break;
      case 'httproutes':
        this.refresh('httproute', key);
        break;
      case 'grpcroutes':
        this.refresh('grpcroute', key);
        break;
    }
  }

  private onHoldDownExpired(holdKey: string): void {
    const [kind, key] = splitHoldKey(holdKey);
    this.refresh(kind, key);
  }

  private mapOf(resource: Watched): Map<string, { scope: Scope }> {
    switch (resource) {
      case 'services':
        return this.services;
      case 'ingresses':
        return this.ingresses;
      case 'gateways':
        return this.gateways;
      case 'httproutes':
        return this.routes.httproute;
      case 'grpcroutes':
        return this.routes.grpcroute;
      case 'endpointslices':
        return this.slices;
    }
  }

  private cache(scope: Scope, item: Resource): void {
    const key = keyOfMeta(item.metadata);
    if (!key) return;
    if (scope.resource === 'services') this.services.set(key, { scope, resource: item as ServiceResource });
    else if (scope.resource === 'ingresses') this.ingresses.set(key, { scope, resource: item as IngressResource });
    else if (scope.resource === 'gateways') this.gateways.set(key, { scope, resource: item as GatewayResource });
    else if (scope.resource === 'httproutes') this.routes.httproute.set(key, { scope, resource: item as RouteResource });
    else if (scope.resource === 'grpcroutes') this.routes.grpcroute.set(key, { scope, resource: item as RouteResource });
    else {
      this.forgetCached('endpointslices', key);
      const label = item.metadata?.labels?.[SERVICE_NAME_LABEL];
      const service = typeof label === 'string' && label !== '' ? `${item.metadata?.namespace}/${label}` : undefined;
      this.slices.set(key, { scope, resource: item as EndpointSliceResource, service });
      if (service) {
        let set = this.slicesByService.get(service);
        if (!set) this.slicesByService.set(service, (set = new Set()));
        set.add(key);
      }
    }
  }

  private forgetCached(resource: Watched, key: string): void {
    if (resource !== 'endpointslices') {
      this.mapOf(resource).delete(key);
      return;
    }
    const old = this.slices.get(key);
    if (!old) return;
    this.slices.delete(key);
    if (old.service) {
      const set = this.slicesByService.get(old.service);
      set?.delete(key);
      if (set && set.size === 0) this.slicesByService.delete(old.service);
    }
  }

  private slicesOf(serviceKey: string): EndpointSliceResource[] {
    return [...(this.slicesByService.get(serviceKey) ?? [])].sort().map((k) => this.slices.get(k)?.resource as EndpointSliceResource);
  }

  private keysOf(kind: WorkloadKind): string[] {
    return [...this.objectsOf(kind).keys()].sort();
  }

  private compute(kind: WorkloadKind, key: string): EndpointObject | undefined {
    const holdKey = `${kind}:${key}`;
    let meta: ObjectMeta | undefined;
    let records: WorkloadRecords;
    if (kind === 'service') {
      const svc = this.services.get(key)?.resource;
      if (!svc) return undefined;
      meta = svc.metadata;
      records = serviceRecords(svc, this.slicesOf(key), this.prefixes);
    } else if (kind === 'ingress') {
      const ing = this.ingresses.get(key)?.resource;
      if (!ing) return undefined;
      meta = ing.metadata;
      const namespace = ing.metadata?.namespace ?? '';
      records = ingressRecords(ing, { service: (n) => this.services.get(`${namespace}/${n}`)?.resource, slices: (n) => this.slicesOf(`${namespace}/${n}`) }, this.prefixes);
    } else {
      const route = this.routes[kind].get(key)?.resource;
      if (!route) return undefined;
      meta = route.metadata;
      records = routeRecords(
        route,
        kind,
        {
          gateway: (ns, n) => this.gateways.get(`${ns}/${n}`)?.resource,
          service: (ns, n) => this.services.get(`${ns}/${n}`)?.resource,
          slices: (ns, n) => this.slicesOf(`${ns}/${n}`),
        },
        this.prefixes,
      );
    }
    this.options.onAnnotationProblems?.(kind, key, meta ?? {}, records.problems);
    if (!records.healthGated || records.healthy) {
      if (records.healthGated) this.holdDown.update(holdKey, true);
      else this.holdDown.forget(holdKey);
      this.lastHealthy.set(holdKey, records.endpoints);
      return toObject(kind, key, meta ?? {}, records.endpoints);
    }
    const held = this.holdDown.update(holdKey, false);
    if (!held) this.lastHealthy.delete(holdKey);
    return toObject(kind, key, meta ?? {}, held ? (this.lastHealthy.get(holdKey) ?? []) : []);
  }

  private refresh(kind: WorkloadKind, key: string): void {
    if (!this.options.kinds.includes(kind)) return;
    const object = this.compute(kind, key);
    const emitted = this.emitted[kind];
    if (!object) {
      this.holdDown.forget(`${kind}:${key}`);
      this.lastHealthy.delete(`${kind}:${key}`);
      if (emitted.delete(key)) this.callSink(kind, (sink) => sink.remove(key));
      return;
    }
    const fingerprint = objectFingerprint(object);
    if (emitted.get(key)?.fingerprint === fingerprint) return;
    emitted.set(key, { fingerprint });
    this.callSink(kind, (sink) => sink.upsert(object));
  }

  private refreshAll(kind: WorkloadKind): void {
    const keys = new Set([...this.keysOf(kind), ...this.emitted[kind].keys()]);
    for (const key of keys) this.refresh(kind, key);
  }

  private refreshRoutes(affected: (route: RouteResource) => boolean): void {
    for (const kind of ROUTE_KINDS) {
      if (!this.options.kinds.includes(kind)) continue;
      for (const [key, { resource }] of this.routes[kind]) if (affected(resource)) this.refresh(kind, key);
    }
  }

  private refreshIngressesIn(namespace: string): void {
    if (!this.options.kinds.includes('ingress')) return;
    for (const key of this.ingresses.keys()) if (key.startsWith(`${namespace}/`)) this.refresh('ingress', key);
  }

  private callSink(kind: WorkloadKind, fn: (sink: EndpointSink) => void): void {
    const sink = this.sinks[kind];
    if (!sink) return;
    try {
      fn(sink);
    } catch (err) {
      this.logger.error('endpoint sink threw', { kind, error: describeError(err) });
    }
  }
}

function splitHoldKey(holdKey: string): [WorkloadKind, string] {
  const colon = holdKey.indexOf(':');
  return [holdKey.slice(0, colon) as WorkloadKind, holdKey.slice(colon + 1)];
}

function toObject(kind: WorkloadKind, key: string, meta: ObjectMeta, endpoints: readonly unknown[]): EndpointObject {
  const origin: EndpointObject['origin'] = { source: kind, namespace: meta.namespace ?? '', name: meta.name ?? '' };
  if (typeof meta.generation === 'number') origin.generation = meta.generation;
  if (typeof meta.uid === 'string') origin.uid = meta.uid;
  const created = typeof meta.creationTimestamp === 'string' ? Date.parse(meta.creationTimestamp) : NaN;
  if (Number.isFinite(created)) origin.createdAt = created;
  return { key, origin, endpoints };
}
