/**
 * An HTTPRoute or GRPCRoute → the records ExternalDNS's gateway-httproute and
 * gateway-grpcroute sources would publish: the route's names (spec.hostnames
 * and the hostname annotation), narrowed by each attached listener's hostname,
 * pointing at the addresses of the parent Gateways that accepted the route.
 * Pure.
 *
 * A parent counts when it is a Gateway the route lists in spec.parentRefs, its
 * entry in status.parents says Accepted=True, and at least one of its
 * listeners (the one named by sectionName, or all) speaks HTTP or HTTPS, has
 * the port asked for, and allows routes of this kind from this namespace.
 * Targets: the Gateway's target annotation, else its status.addresses.
 * Annotations are read where ExternalDNS reads them: target on the Gateway,
 * everything else on the route.
 *
 * Differences from ExternalDNS, on purpose (docs/sources.md): an Accepted
 * condition counts even when its observedGeneration is older than the route
 * (ExternalDNS drops the records until the controller re-judges an edited
 * route, a flap on every edit); `allowedRoutes.namespaces.from: Selector` is
 * left to the controller's Accepted (crdns does not watch Namespaces); names
 * are not pre-filtered, so a bad one is reported by validation instead of
 * vanishing. Health as for an Ingress: published while at least one
 * backendRef Service has a ready endpoint.
 */
import { findAnnotation, readAnnotations, type AnnotationProblem } from './annotations.js';
import { hasReadyEndpoint } from './readiness.js';
import { RecordBuilder } from './record-builder.js';
import { GATEWAY_GROUP, type EndpointSliceResource, type GatewayListener, type GatewayResource, type ParentReference, type RouteParentStatus, type RouteResource, type ServiceResource } from './resources.js';
import type { WorkloadRecords } from './workload-records.js';

export type RouteKind = 'httproute' | 'grpcroute';

const KIND_NAME: Record<RouteKind, string> = { httproute: 'HTTPRoute', grpcroute: 'GRPCRoute' };

/** What a route's records depend on besides the route: its parent Gateways and backend Services. */
export interface RouteView {
  gateway(namespace: string, name: string): GatewayResource | undefined;
  service(namespace: string, name: string): ServiceResource | undefined;
  slices(namespace: string, serviceName: string): readonly EndpointSliceResource[];
}

const str = (v: unknown, fallback: string): string => (typeof v === 'string' && v !== '' ? v : fallback);
const list = <T>(v: readonly T[] | undefined | null): T[] => (Array.isArray(v) ? v.filter((x) => x !== null && typeof x === 'object') : []);

function isGatewayRef(ref: ParentReference): boolean {
  return str(ref.group, GATEWAY_GROUP) === GATEWAY_GROUP && str(ref.kind, 'Gateway') === 'Gateway';
}

function sameParent(a: ParentReference, b: ParentReference, routeNamespace: string): boolean {
  return isGatewayRef(a) && isGatewayRef(b) && a.name === b.name && str(a.namespace, routeNamespace) === str(b.namespace, routeNamespace);
}

/**
 * The name to publish for a route host under a listener host, or undefined
 * when they do not overlap. "" matches anything; "*.example.org" matches any
 * name below example.org (not example.org itself); the more specific wins.
 */
export function matchingHost(listenerHost: string, routeHost: string): string | undefined {
  const a = listenerHost.trim().toLowerCase().replace(/\.$/, '');
  const b = routeHost.trim().toLowerCase().replace(/\.$/, '');
  if (a === '') return routeHost.trim();
  if (b === '' || a === b) return a;
  const [pattern, name] = a.length < b.length || (a.length === b.length && a.startsWith('*.')) ? [a, b] : [b, a];
  if (pattern.startsWith('*.') && name.endsWith(pattern.slice(1))) return name === b ? routeHost.trim() : name;
  return undefined;
}

function listenerAllows(gateway: GatewayResource, listener: GatewayListener, kind: RouteKind, routeNamespace: string): boolean {
  const protocol = str(listener.protocol, '');
  if (protocol !== 'HTTP' && protocol !== 'HTTPS') return false;
  const from = str(listener.allowedRoutes?.namespaces?.from, 'Same');
  if (from === 'Same' && (gateway.metadata?.namespace ?? '') !== routeNamespace) return false;
  if (from !== 'Same' && from !== 'All' && from !== 'Selector') return false;
  const kinds = list(listener.allowedRoutes?.kinds);
  return kinds.length === 0 || kinds.some((k) => str(k.group, GATEWAY_GROUP) === GATEWAY_GROUP && k.kind === KIND_NAME[kind]);
}

function isAccepted(parent: RouteParentStatus): boolean {
  return list(parent.conditions).some((c) => c.type === 'Accepted' && c.status === 'True');
}

function gatewayTargets(gateway: GatewayResource, prefixes: readonly string[]): string[] {
  const override = readAnnotations(gateway.metadata?.annotations, prefixes).targets;
  if (override.length > 0) return override;
  return list(gateway.status?.addresses).flatMap((a) => (typeof a.value === 'string' && a.value !== '' ? [a.value] : []));
}

export function routeRecords(route: RouteResource, kind: RouteKind, view: RouteView, prefixes: readonly string[]): WorkloadRecords {
  const annotations = route.metadata?.annotations;
  const ann = readAnnotations(annotations, prefixes);
  const problems: AnnotationProblem[] = [...ann.problems];
  const target = findAnnotation(annotations ?? {}, prefixes, 'target');
  if (target) problems.push({ annotation: target.key, reason: 'a route\'s targets come from its parent Gateways (put the target annotation on the Gateway, as ExternalDNS reads it)' });
  let fromSpec = true;
  let fromAnnotation = true;
  const source = findAnnotation(annotations ?? {}, prefixes, 'gateway-hostname-source');
  if (source) {
    const v = source.value.trim();
    if (v === 'defined-hosts-only') fromAnnotation = false;
    else if (v === 'annotation-only') fromSpec = false;
    else problems.push({ annotation: source.key, reason: `"${source.value}" is not "defined-hosts-only" or "annotation-only"` });
  }
  const specHosts = (Array.isArray(route.spec?.hostnames) ? route.spec.hostnames : []).filter((h): h is string => typeof h === 'string' && h.trim() !== '');
  const hosts = [...(fromSpec ? specHosts : []), ...(fromAnnotation ? ann.hostnames : [])];
  // A route without hostnames takes its listeners' (ExternalDNS does the same).
  if (specHosts.length === 0) hosts.push('');

  const namespace = route.metadata?.namespace ?? '';
  const parentRefs = list(route.spec?.parentRefs);
  const targets = new Map<string, Set<string>>();
  for (const parent of list(route.status?.parents)) {
    const ref = parent.parentRef;
    if (!ref || !isGatewayRef(ref) || typeof ref.name !== 'string') continue;
    if (!parentRefs.some((p) => sameParent(p, ref, namespace))) continue;
    if (!isAccepted(parent)) continue;
    const gateway = view.gateway(str(ref.namespace, namespace), ref.name);
    if (!gateway) continue;
    const section = str(ref.sectionName, '');
    const listeners = list(gateway.spec?.listeners).filter((l) => section === '' || l.name === section);
    for (const listener of listeners) {
      if (typeof ref.port === 'number' && listener.port !== ref.port) continue;
      if (!listenerAllows(gateway, listener, kind, namespace)) continue;
      const listenerHost = str(listener.hostname, '');
      for (const host of hosts) {
        if (host === '' && listenerHost === '') continue;
        const name = matchingHost(listenerHost, host);
        if (name === undefined) continue;
        let set = targets.get(name);
        if (!set) targets.set(name, (set = new Set()));
        for (const t of gatewayTargets(gateway, prefixes)) set.add(t);
      }
    }
  }
  const records = new RecordBuilder(ann.ttl);
  // Sorted, so the order parents are listed in never changes a record.
  for (const [name, set] of targets) records.addTargets(name, [...set].sort());

  const backends = new Map<string, { namespace: string; name: string }>();
  for (const rule of list(route.spec?.rules)) {
    for (const b of list(rule.backendRefs)) {
      if (str(b.group, '') !== '' || str(b.kind, 'Service') !== 'Service' || typeof b.name !== 'string' || b.name === '') continue;
      const ns = str(b.namespace, namespace);
      backends.set(`${ns}/${b.name}`, { namespace: ns, name: b.name });
    }
  }
  let gated = ann.healthCheck && backends.size > 0;
  let healthy = false;
  for (const b of backends.values()) {
    const svc = view.service(b.namespace, b.name);
    const svcAnn = svc ? readAnnotations(svc.metadata?.annotations, prefixes) : undefined;
    // A backend that opts out of readiness makes the route ungated, as that Service itself would be.
    if (svc && (svc.spec?.publishNotReadyAddresses === true || svcAnn?.healthCheck === false || svc.spec?.type === 'ExternalName')) gated = false;
    if (hasReadyEndpoint(view.slices(b.namespace, b.name))) healthy = true;
  }
  return { endpoints: records.build(), problems, healthGated: gated, healthy, names: hosts.filter((h) => h !== '') };
}

/** The parent Gateways a route names, as "namespace/name", so a Gateway's change refreshes only its routes. */
export function parentGatewayKeys(route: RouteResource): string[] {
  const namespace = route.metadata?.namespace ?? '';
  return list(route.spec?.parentRefs).flatMap((p) => (isGatewayRef(p) && typeof p.name === 'string' ? [`${str(p.namespace, namespace)}/${p.name}`] : []));
}
