/**
 * An Ingress → the records ExternalDNS's Ingress source would publish: every
 * `spec.rules[].host` and hostname-annotation name, pointing at the
 * controller's load balancer addresses (or the target annotation). Pure.
 *
 * Health: published while at least one backend Service (default backend or
 * any path's) has a ready endpoint, or does not ask for readiness
 * (publishNotReadyAddresses, the health-check opt-out); an Ingress without
 * Service backends has nothing to check and is always published.
 */
import { readAnnotations } from './annotations.js';
import { hasReadyEndpoint } from './readiness.js';
import { loadBalancerTargets, RecordBuilder } from './record-builder.js';
import type { EndpointSliceResource, IngressResource, ServiceResource } from './resources.js';
import type { WorkloadRecords } from './workload-records.js';

export interface BackendView {
  service(name: string): ServiceResource | undefined;
  slices(serviceName: string): readonly EndpointSliceResource[];
}

export function backendServiceNames(ingress: IngressResource): string[] {
  const names = new Set<string>();
  const add = (n: unknown) => {
    if (typeof n === 'string' && n !== '') names.add(n);
  };
  add(ingress.spec?.defaultBackend?.service?.name);
  for (const rule of Array.isArray(ingress.spec?.rules) ? ingress.spec.rules : []) {
    for (const path of Array.isArray(rule?.http?.paths) ? rule.http.paths : []) add(path?.backend?.service?.name);
  }
  return [...names].sort();
}

export function ingressRecords(ingress: IngressResource, backends: BackendView, prefixes: readonly string[]): WorkloadRecords {
  const ann = readAnnotations(ingress.metadata?.annotations, prefixes);
  const records = new RecordBuilder(ann.ttl);
  const hosts: string[] = [];
  for (const rule of Array.isArray(ingress.spec?.rules) ? ingress.spec.rules : []) {
    if (typeof rule?.host === 'string' && rule.host !== '') hosts.push(rule.host);
  }
  hosts.push(...ann.hostnames);
  const targets = ann.targets.length > 0 ? ann.targets : loadBalancerTargets(ingress.status?.loadBalancer?.ingress);
  for (const host of hosts) records.addTargets(host, targets);

  const names = backendServiceNames(ingress);
  let gated = ann.healthCheck && names.length > 0;
  let healthy = false;
  for (const name of names) {
    const svc = backends.service(name);
    const svcAnn = svc ? readAnnotations(svc.metadata?.annotations, prefixes) : undefined;
    // A backend that opts out of readiness makes the Ingress ungated, as that Service itself would be.
    if (svc && (svc.spec?.publishNotReadyAddresses === true || svcAnn?.healthCheck === false || svc.spec?.type === 'ExternalName')) gated = false;
    if (hasReadyEndpoint(backends.slices(name))) healthy = true;
  }
  return { endpoints: records.build(), problems: ann.problems, healthGated: gated, healthy, names: hosts };
}
