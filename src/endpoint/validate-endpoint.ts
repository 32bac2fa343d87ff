/**
 * One Endpoint → one RRset, or the first reason it cannot be served. An RRset
 * is all or nothing: one bad target rejects the endpoint, since serving the
 * rest would silently answer with less than was written.
 */
import { findZone, fqdn, isInZone, parseName, quoteValue as quote } from '../dns/name.js';
import { isServedType, SERVED_TYPES, type ServedType } from '../dns/records.js';
import type { RRsetInput, RRsetOrigin } from '../dns/zone-input.js';
import type { Endpoint, EndpointProblem } from './endpoint.js';
import type { NamePolicy } from './name-policy.js';
import { TARGET_PARSERS, type TargetResult } from './parse-target.js';

export interface ValidationContext {
  /** Served zones, canonical (see name.ts). */
  zones: readonly string[];
  /** Seconds, for endpoints whose recordTTL is absent or 0. */
  defaultTtl: number;
  /** Who may publish which names; absent: anyone, anything in the served zones. */
  policy?: NamePolicy;
}

export function isEndpointProblem<T extends object>(r: T | EndpointProblem): r is EndpointProblem {
  return 'reason' in r;
}

/** How an object ranks against others: see RRsetOrigin. */
export type OwnerRank = Pick<RRsetOrigin, 'since' | 'owner' | 'locality'>;

/**
 * One shape-checked Endpoint → one RRset, or the first reason it cannot be
 * served. `origin`: the defining object's, shared by all its RRsets.
 */
export function validateEndpoint(ep: Endpoint, objectKey: string, index: number, ctx: ValidationContext, origin: RRsetOrigin = { object: objectKey, since: 0 }): RRsetInput | EndpointProblem {
  const problem = (field: string, reason: string): EndpointProblem => ({ object: objectKey, index, field, reason });
  const { dnsName, recordType, targets, recordTTL } = ep;
  const upper = recordType.toUpperCase();
  if (upper === 'SOA') return problem('recordType', 'SOA is not accepted: crdns synthesizes the SOA record of each zone from its --soa-* flags');
  if (!isServedType(upper)) return problem('recordType', `${quote(recordType)} is not a served record type (served: ${SERVED_TYPES.join(', ')})`);
  const type: ServedType = upper;
  const ttl = recordTTL === undefined || recordTTL === 0 ? ctx.defaultTtl : recordTTL;

  // ---- owner name and where it sits
  const parsed = parseName(dnsName, true);
  if (!parsed.ok) return problem('dnsName', parsed.reason);
  const name = parsed.name;
  const zone = findZone(name, ctx.zones);
  if (zone === undefined) {
    return problem('dnsName', `${quote(dnsName)} is outside every served zone (${ctx.zones.map(fqdn).join(', ')})`);
  }
  if (name === zone) {
    if (type === 'CNAME' || type === 'DNAME') {
      return problem('recordType', `${type} is not allowed at the zone apex ${quote(fqdn(zone))}, which must hold the zone's SOA and NS records`);
    }
    if (type === 'NS') {
      return problem('recordType', `NS at the zone apex ${quote(fqdn(zone))} is not accepted: crdns synthesizes the apex NS records from --ns`);
    }
  }
  const wildcard = name === '*' || name.startsWith('*.');
  if (wildcard && (type === 'NS' || type === 'DNAME')) {
    return problem('recordType', `${type} is not allowed at the wildcard name ${quote(fqdn(name))} (RFC 4592 section 4)`);
  }

  // ---- targets: parse each, drop duplicates keeping first appearance
  const parse = TARGET_PARSERS[type] as (t: string) => TargetResult<unknown>;
  let data: unknown[];
  if (targets.length === 1) {
    // Most endpoints have one target: no duplicates to look for. When it is already in canonical form
    // (an address, a name), the endpoint's own targets array is the data: one array kept, not two.
    // Nothing downstream writes into either.
    const r = parse(targets[0] as string);
    if (!r.ok) return problem('targets[0]', r.reason);
    data = r.data === targets[0] ? (targets as unknown[]) : [r.data];
  } else {
    const all: unknown[] = [];
    const seen = new Set<string>();
    for (let i = 0; i < targets.length; i++) {
      const r = parse(targets[i] as string);
      if (!r.ok) return problem(`targets[${i}]`, r.reason);
      if (seen.has(r.key)) continue;
      seen.add(r.key);
      all.push(r.data);
    }
    // A copy to its length: an array grown by push keeps room for 16 more, and this one lives as long as its object.
    data = all.slice();
  }

  // ---- rules over the whole RRset
  if ((type === 'CNAME' || type === 'DNAME') && data.length !== 1) {
    return problem('targets', `${type} takes exactly one target, got ${data.length} distinct targets`);
  }
  if (type === 'CNAME' && data[0] === name) {
    return problem('targets[0]', `CNAME ${quote(fqdn(name))} points to itself`);
  }
  if (type === 'DNAME' && isInZone(data[0] as string, name)) {
    return problem('targets[0]', `DNAME target ${quote(fqdn(data[0] as string))} is at or below its own name ${quote(fqdn(name))}, which loops`);
  }
  if (type === 'MX' && data.length > 1 && data.some((d) => (d as { exchange: string }).exchange === '')) {
    return problem('targets', 'a null MX (exchange ".") must be the only MX target (RFC 7505)');
  }

  return { name, type, ttl, data: data as RRsetInput['data'], origin, index };
}
