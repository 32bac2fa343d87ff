/**
 * A Service (and its EndpointSlices) → the records ExternalDNS's Service
 * source would publish for it. Pure: no I/O, no clock.
 *
 * - hostname annotation: LoadBalancer → the status addresses (IP → A/AAAA,
 *   hostname → CNAME); headless (clusterIP None) → the published pod
 *   addresses, and `<pod hostname>.<hostname>` for pods with a hostname;
 *   ExternalName → the external name; ClusterIP and NodePort → nothing (as
 *   ExternalDNS without --publish-internal-services; NodePort's node addresses
 *   are not read).
 * - target annotation: replaces those targets for the hostname records.
 * - internal-hostname annotation: the ClusterIP addresses.
 * - srv annotation "true": `_<port>._<proto>.<hostname>` SRV for each named port.
 */
import { readAnnotations } from './annotations.js';
import { hasReadyEndpoint, publishedAddresses } from './readiness.js';
import { loadBalancerTargets, RecordBuilder } from './record-builder.js';
import type { EndpointSliceResource, ServiceResource } from './resources.js';
import type { WorkloadRecords } from './workload-records.js';

/** SRV priority and weight: one target per record, so any fixed value would do; these are RFC 2782's "no preference". */
export const SRV_PRIORITY = 0;
export const SRV_WEIGHT = 100;

function clusterIps(service: ServiceResource): string[] {
  const spec = service.spec ?? {};
  const ips = Array.isArray(spec.clusterIPs) && spec.clusterIPs.length > 0 ? spec.clusterIPs : typeof spec.clusterIP === 'string' ? [spec.clusterIP] : [];
  return ips.filter((ip) => typeof ip === 'string' && ip !== '' && ip !== 'None');
}

export function isHeadless(service: ServiceResource): boolean {
  return service.spec?.clusterIP === 'None';
}

export function serviceRecords(service: ServiceResource, slices: readonly EndpointSliceResource[], prefixes: readonly string[]): WorkloadRecords {
  const spec = service.spec ?? {};
  const ann = readAnnotations(service.metadata?.annotations, prefixes);
  const records = new RecordBuilder(ann.ttl);
  const type = spec.type ?? 'ClusterIP';
  const publishNotReady = spec.publishNotReadyAddresses === true;

  for (const hostname of ann.hostnames) {
    if (ann.targets.length > 0) {
      records.addTargets(hostname, ann.targets);
    } else if (type === 'LoadBalancer') {
      records.addTargets(hostname, loadBalancerTargets(service.status?.loadBalancer?.ingress));
    } else if (type === 'ExternalName') {
      if (typeof spec.externalName === 'string' && spec.externalName !== '') records.addTargets(hostname, [spec.externalName]);
    } else if (isHeadless(service)) {
      const addresses = publishedAddresses(slices, publishNotReady);
      records.addTargets(hostname, addresses.map((a) => a.address));
      for (const a of addresses) if (a.hostname) records.addTargets(`${a.hostname}.${hostname.replace(/^\.+/, '')}`, [a.address]);
    }
    if (ann.srv) {
      const fqdn = hostname.endsWith('.') ? hostname : `${hostname}.`;
      for (const port of Array.isArray(spec.ports) ? spec.ports : []) {
        if (!port || typeof port.name !== 'string' || port.name === '' || typeof port.port !== 'number') continue;
        const protocol = (typeof port.protocol === 'string' ? port.protocol : 'TCP').toLowerCase();
        records.add(`_${port.name}._${protocol}.${hostname.replace(/\.$/, '')}`, 'SRV', `${SRV_PRIORITY} ${SRV_WEIGHT} ${port.port} ${fqdn}`);
      }
    }
  }
  for (const hostname of ann.internalHostnames) records.addTargets(hostname, clusterIps(service));

  // ExternalName has no endpoints to check; publishNotReadyAddresses says readiness must not matter.
  const healthGated = ann.healthCheck && type !== 'ExternalName' && !publishNotReady;
  return { endpoints: records.build(), problems: ann.problems, healthGated, healthy: hasReadyEndpoint(slices), names: [...ann.hostnames, ...ann.internalHostnames] };
}
