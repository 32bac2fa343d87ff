/**
 * One raw `spec.endpoints[]` entry → one RRset, or the first reason it cannot
 * be served. An RRset is all or nothing: one bad target rejects the endpoint,
 * since serving the rest would silently answer with less than was written.
 */
import { findZone, fqdn, isInZone, parseName, quoteValue as quote } from '../dns/name.js';
import { isServedType, SERVED_TYPES, type ServedType } from '../dns/records.js';
import type { RRsetInput } from '../dns/zone-input.js';
import type { EndpointProblem } from './endpoint.js';
import { TARGET_PARSERS, type TargetResult } from './parse-target.js';

export interface ValidationContext {
  /** Served zones, canonical (see name.ts). */
  zones: readonly string[];
  /** Seconds, for endpoints whose recordTTL is absent or 0. */
  defaultTtl: number;
}

const MAX_TTL = 2147483647;

export function isEndpointProblem(r: RRsetInput | EndpointProblem): r is EndpointProblem {
  return 'reason' in r;
}

/** What a value is, for messages about a field of the wrong kind. */
function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  switch (typeof v) {
    case 'string': return `the string ${quote(v)}`;
    case 'number': case 'boolean': case 'bigint': return `the ${typeof v} ${String(v)}`;
    case 'object': return 'a map';
    default: return typeof v;
  }
}

const isMap = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

export function validateEndpoint(raw: unknown, objectKey: string, index: number, ctx: ValidationContext): RRsetInput | EndpointProblem {
  const problem = (field: string, reason: string): EndpointProblem => ({ object: objectKey, index, field, reason });

  // ---- shape: every field of the right kind before any of them is interpreted
  if (!isMap(raw)) return problem('endpoint', `must be a map of fields, got ${describe(raw)}`);
  const { dnsName, recordType, targets, recordTTL, setIdentifier, labels } = raw;

  if (dnsName === undefined || dnsName === null) return problem('dnsName', 'is required');
  if (typeof dnsName !== 'string') return problem('dnsName', `must be a string, got ${describe(dnsName)}`);
  if (dnsName === '') return problem('dnsName', 'must not be empty');

  if (recordType === undefined || recordType === null) return problem('recordType', 'is required');
  if (typeof recordType !== 'string') return problem('recordType', `must be a string, got ${describe(recordType)}`);
  const upper = recordType.toUpperCase();
  if (upper === 'SOA') return problem('recordType', 'SOA is not accepted: crdns synthesizes the SOA record of each zone from its --soa-* flags');
  if (!isServedType(upper)) return problem('recordType', `${quote(recordType)} is not a served record type (served: ${SERVED_TYPES.join(', ')})`);
  const type: ServedType = upper;

  if (targets === undefined || targets === null) return problem('targets', 'is required');
  if (!Array.isArray(targets)) return problem('targets', `must be a list of strings, got ${describe(targets)}`);
  if (targets.length === 0) return problem('targets', 'must hold at least one target');
  for (let i = 0; i < targets.length; i++) {
    if (typeof targets[i] !== 'string') return problem(`targets[${i}]`, `must be a string, got ${describe(targets[i])}`);
  }

  let ttl = ctx.defaultTtl;
  if (recordTTL !== undefined && recordTTL !== null && recordTTL !== 0) {
    if (typeof recordTTL !== 'number' || !Number.isInteger(recordTTL) || recordTTL < 1 || recordTTL > MAX_TTL) {
      return problem('recordTTL', `must be an integer from 1 to ${MAX_TTL} seconds (or 0 for the default), got ${describe(recordTTL)}`);
    }
    ttl = recordTTL;
  }

  if (setIdentifier !== undefined && setIdentifier !== null && typeof setIdentifier !== 'string') {
    return problem('setIdentifier', `must be a string, got ${describe(setIdentifier)}`);
  }
  if (labels !== undefined && labels !== null) {
    if (!isMap(labels)) return problem('labels', `must be a map of strings, got ${describe(labels)}`);
    for (const k of Object.keys(labels)) {
      if (typeof labels[k] !== 'string') return problem(`labels[${quote(k)}]`, `must be a string, got ${describe(labels[k])}`);
    }
  }
  // providerSpecific is meaningful only to ExternalDNS providers: ignored.

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
  const data: unknown[] = [];
  const seen = new Set<string>();
  for (let i = 0; i < targets.length; i++) {
    const r = parse(targets[i] as string);
    if (!r.ok) return problem(`targets[${i}]`, r.reason);
    if (seen.has(r.key)) continue;
    seen.add(r.key);
    data.push(r.data);
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

  return { name, type, ttl, data: data as RRsetInput['data'], origin: { object: objectKey, index } };
}
