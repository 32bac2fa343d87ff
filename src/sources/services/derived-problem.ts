/**
 * How to name a problem of an entry crdns derived from a Service, Ingress or
 * route rather than read from a DNSEndpoint: its author never wrote an
 * `endpoints[]` list, so the index means nothing to them; the record it would
 * have published does.
 */
import type { EndpointProblem } from '../../endpoint/endpoint.js';

/** e.g. `record www.example.org CNAME field=targets[0]: not a valid name`. */
export function describeDerivedProblem(endpoints: readonly unknown[], p: EndpointProblem): string {
  const entry = p.index >= 0 ? (endpoints[p.index] as { dnsName?: unknown; recordType?: unknown } | undefined) : undefined;
  const what = entry && typeof entry.dnsName === 'string' ? `record ${entry.dnsName} ${String(entry.recordType ?? '')}` : 'object';
  return `${what}${p.field ? ` field=${p.field}` : ''}: ${p.reason}`;
}
