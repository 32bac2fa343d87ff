/**
 * Raw endpoint entries, as a DNSEndpoint would hold them, for names and
 * targets read from a Service or Ingress. They are handed on unvalidated on
 * purpose: the store's validation (src/endpoint) checks them like any
 * DNSEndpoint's, so a bad name or target in an annotation becomes a problem
 * of that one entry and the object's other records still serve.
 */
import { isIPv4, isIPv6 } from 'node:net';

/** What a DNSEndpoint's spec.endpoints[] entry holds, as far as crdns writes it. */
export interface RawEndpoint {
  dnsName: string;
  recordType: string;
  targets: string[];
  recordTTL?: number;
}

/** ExternalDNS's rule for a target: IPv4 → A, IPv6 → AAAA, anything else a name → CNAME. */
export function recordTypeOf(target: string): 'A' | 'AAAA' | 'CNAME' {
  if (isIPv4(target)) return 'A';
  if (isIPv6(target)) return 'AAAA';
  return 'CNAME';
}

/**
 * Collects entries, merging targets per (name, type) in first-seen order, so
 * two hostnames that are the same name, or a target listed twice, make one
 * entry rather than a conflict.
 */
export class RecordBuilder {
  private readonly byKey = new Map<string, RawEndpoint>();

  constructor(private readonly ttl: number | undefined) {}

  /** One entry per record type the targets need (A, AAAA, CNAME). */
  addTargets(dnsName: string, targets: readonly string[]): void {
    for (const target of targets) this.add(dnsName, recordTypeOf(target), target);
  }

  add(dnsName: string, recordType: string, target: string): void {
    const name = dnsName.trim();
    if (name === '') return;
    const key = `${name.toLowerCase().replace(/\.$/, '')}\u0000${recordType}`;
    let entry = this.byKey.get(key);
    if (!entry) {
      entry = { dnsName: name, recordType, targets: [], ...(this.ttl !== undefined ? { recordTTL: this.ttl } : {}) };
      this.byKey.set(key, entry);
    }
    if (!entry.targets.includes(target)) entry.targets.push(target);
  }

  build(): RawEndpoint[] {
    return [...this.byKey.values()];
  }
}

/** Addresses and names from a load balancer status, in the order the status lists them. */
export function loadBalancerTargets(ingress: ReadonlyArray<{ ip?: string; hostname?: string }> | undefined): string[] {
  const out: string[] = [];
  for (const i of Array.isArray(ingress) ? ingress : []) {
    if (!i || typeof i !== 'object') continue;
    if (typeof i.ip === 'string' && i.ip !== '') out.push(i.ip);
    if (typeof i.hostname === 'string' && i.hostname !== '') out.push(i.hostname);
  }
  return out;
}
