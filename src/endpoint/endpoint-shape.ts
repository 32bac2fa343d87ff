/**
 * A raw `spec.endpoints[]` entry → a typed Endpoint: every field of the right
 * kind before any of them is interpreted. What the values mean (names,
 * addresses, zones) is validate-endpoint.ts's business.
 */
import { quoteValue as quote } from '../dns/name.js';
import type { Endpoint, EndpointProblem } from './endpoint.js';

/** RFC 2181 section 8: a TTL is an unsigned 31-bit number. */
export const MAX_TTL = 2147483647;

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

/**
 * Which endpoint an entry is, across versions of its object: name (any case,
 * with or without the trailing dot), type and set identifier. Undefined when
 * the entry is too broken to say.
 */
export function endpointIdentity(raw: unknown): string | undefined {
  if (!isMap(raw) || typeof raw.dnsName !== 'string' || typeof raw.recordType !== 'string') return undefined;
  const name = raw.dnsName.trim().toLowerCase().replace(/\.$/, '');
  const set = typeof raw.setIdentifier === 'string' ? raw.setIdentifier : '';
  return `${name}\u0000${raw.recordType.toUpperCase()}\u0000${set}`;
}

export function endpointShape(raw: unknown, objectKey: string, index: number): Endpoint | EndpointProblem {
  const problem = (field: string, reason: string): EndpointProblem => ({ object: objectKey, index, field, reason });
  if (!isMap(raw)) return problem('endpoint', `must be a map of fields, got ${describe(raw)}`);
  const { dnsName, recordType, targets, recordTTL, setIdentifier, labels } = raw;

  if (dnsName === undefined || dnsName === null) return problem('dnsName', 'is required');
  if (typeof dnsName !== 'string') return problem('dnsName', `must be a string, got ${describe(dnsName)}`);
  if (dnsName === '') return problem('dnsName', 'must not be empty');

  if (recordType === undefined || recordType === null) return problem('recordType', 'is required');
  if (typeof recordType !== 'string') return problem('recordType', `must be a string, got ${describe(recordType)}`);

  if (targets === undefined || targets === null) return problem('targets', 'is required');
  if (!Array.isArray(targets)) return problem('targets', `must be a list of strings, got ${describe(targets)}`);
  if (targets.length === 0) return problem('targets', 'must hold at least one target');
  for (let i = 0; i < targets.length; i++) {
    if (typeof targets[i] !== 'string') return problem(`targets[${i}]`, `must be a string, got ${describe(targets[i])}`);
  }
  const ep: Endpoint = { dnsName, recordType, targets: targets as string[] };

  if (recordTTL !== undefined && recordTTL !== null && recordTTL !== 0) {
    if (typeof recordTTL !== 'number' || !Number.isInteger(recordTTL) || recordTTL < 1 || recordTTL > MAX_TTL) {
      return problem('recordTTL', `must be an integer from 1 to ${MAX_TTL} seconds (or 0 for the default), got ${describe(recordTTL)}`);
    }
    ep.recordTTL = recordTTL;
  }

  if (setIdentifier !== undefined && setIdentifier !== null) {
    if (typeof setIdentifier !== 'string') return problem('setIdentifier', `must be a string, got ${describe(setIdentifier)}`);
    ep.setIdentifier = setIdentifier;
  }
  if (labels !== undefined && labels !== null) {
    if (!isMap(labels)) return problem('labels', `must be a map of strings, got ${describe(labels)}`);
    for (const k of Object.keys(labels)) {
      if (typeof labels[k] !== 'string') return problem(`labels[${quote(k)}]`, `must be a string, got ${describe(labels[k])}`);
    }
    ep.labels = labels as Record<string, string>;
  }
  // providerSpecific is meaningful only to ExternalDNS providers: ignored.
  return ep;
}
