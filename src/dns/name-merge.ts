/**
 * The rules that join several endpoints' RRsets at one owner name: the same
 * type from several origins merges into one RRset (union of targets, lowest
 * TTL, this cluster's targets first); a CNAME owns its name alone; CNAME and
 * DNAME hold one record; no RRset may outgrow a message. When two origins
 * disagree the older one wins and the newcomer is rejected with a reason.
 *
 * Everything here depends on the inputs at that one name and nothing else,
 * which is what lets the builder redo only the names a change touches.
 */
import { fqdn, MAX_NAME_OCTETS, wireLength } from './name.js';
import type { RDataByType, RecordType, ServedType } from './records.js';
import { rdataLength } from './rrset.js';
import type { RRsetInput, RRsetRejection } from './zone-input.js';

/** An RRset larger than this could not be answered inside a 64 KiB message together with its question and chain. */
export const MAX_RRSET_WIRE_BYTES = 60000;

/**
 * One type at one name as merged so far, before it is encoded. Most types at
 * most names come from one input, so a set starts as that input's own data
 * and grows the bookkeeping a merge needs (a copy to add to, keys to drop
 * duplicates by, a locality per datum) only when a second input joins it.
 */
export interface PendingSet {
  type: ServedType;
  ttl: number;
  /** The merged records: the first input's own array until a second input joins, then a copy. */
  data: readonly RDataByType[ServedType][];
  /** rdata key → index in `data`, to drop duplicates; made when a second input joins. */
  keys: Map<string, number> | undefined;
  /** Locality of each datum (its nearest origin; see RRsetOrigin.locality); undefined while one input's are all `locality`. */
  localities: number[] | undefined;
  locality: number;
  /** The inputs merged into it, in ownership order. */
  inputs: RRsetInput[];
  /** Wire size of the RRset so far, owner names included. */
  wireBytes: number;
}

/**
 * Ownership order: oldest object first, then owner (object key), then entry
 * index, then object key (two objects of one owner). The same on every replica,
 * and total, so the result never depends on the order inputs arrive in.
 */
export function compareInputs(p: RRsetInput, q: RRsetInput): number {
  const a = p.origin;
  const b = q.origin;
  if (a.since !== b.since) return a.since - b.since;
  const x = a.owner ?? a.object;
  const y = b.owner ?? b.object;
  if (x !== y) return x < y ? -1 : 1;
  if (p.index !== q.index) return p.index - q.index;
  return a.object < b.object ? -1 : a.object > b.object ? 1 : 0;
}

export function describeInput(input: RRsetInput): string {
  return `${input.origin.object} endpoint ${input.index}`;
}

/**
 * Merges the inputs at one name, taken in ownership order, into one pending
 * set per type; rejects (through `reject`) the inputs that conflict or would
 * overflow an RRset.
 */
export function mergeAtName(name: string, inputs: readonly RRsetInput[], reject: (r: RRsetRejection) => void): Map<ServedType, PendingSet> {
  const types = new Map<ServedType, PendingSet>();
  const sorted = inputs.length > 1 ? [...inputs].sort(compareInputs) : inputs;
  // A wildcard's records go out under the query name, up to 255 octets.
  const ownerBytes = name.startsWith('*') ? MAX_NAME_OCTETS : wireLength(name);
  for (const input of sorted) {
    const conflict = exclusivityConflict(types, input);
    if (conflict) {
      reject({ input, ...conflict });
      continue;
    }
    const locality = input.origin.locality ?? 0;
    const existing = types.get(input.type);
    if (existing === undefined) {
      // An input's data has no duplicates (RRsetInput.data), so the first one is taken as it is.
      const total = wireBytesOf(input.type, input.data, ownerBytes);
      if (total > MAX_RRSET_WIRE_BYTES) reject(tooLarge(name, input, total, ownerBytes));
      else types.set(input.type, { type: input.type, ttl: input.ttl, data: input.data, keys: undefined, localities: undefined, locality, inputs: [input], wireBytes: total });
      continue;
    }
    const keys = (existing.keys ??= keysOf(existing.data));
    const fresh = input.data.filter((d) => !keys.has(rdataKey(d)));
    // The size limit is checked input by input, so the entry that would overflow a shared RRset is the one
    // rejected, never the ones already merged.
    const total = existing.wireBytes + wireBytesOf(input.type, fresh, ownerBytes);
    if (total > MAX_RRSET_WIRE_BYTES) {
      reject(tooLarge(name, input, total, ownerBytes));
      continue;
    }
    const data = existing.localities === undefined ? [...existing.data] : (existing.data as RDataByType[ServedType][]);
    const localities = (existing.localities ??= data.map(() => existing.locality));
    existing.data = data;
    // RFC 2181 §5.2: one TTL per RRset; the lowest wins so no resolver caches longer than any owner asked.
    existing.ttl = Math.min(existing.ttl, input.ttl);
    for (const d of fresh) {
      keys.set(rdataKey(d), data.length);
      data.push(d);
      localities.push(locality);
    }
    // A target that another cluster also serves counts as near as its nearest source.
    for (const d of input.data) {
      const at = keys.get(rdataKey(d)) as number;
      if ((localities[at] as number) > locality) localities[at] = locality;
    }
    existing.wireBytes = total;
    existing.inputs.push(input);
  }
  return types;
}

function wireBytesOf(type: ServedType, data: readonly RDataByType[ServedType][], ownerBytes: number): number {
  let bytes = 0;
  for (const d of data) bytes += ownerBytes + 10 + rdataLength(type, d);
  return bytes;
}

function keysOf(data: readonly RDataByType[ServedType][]): Map<string, number> {
  const keys = new Map<string, number>();
  for (let i = 0; i < data.length; i++) keys.set(rdataKey(data[i] as RDataByType[ServedType]), i);
  return keys;
}

function tooLarge(name: string, input: RRsetInput, total: number, ownerBytes: number): RRsetRejection {
  return {
    input,
    field: 'targets',
    reason: `the ${input.type} RRset at ${fqdn(name)} would be ${total} bytes on the wire${ownerBytes === MAX_NAME_OCTETS ? ' (wildcard records counted under a 255-octet query name)' : ''}, over the limit of ${MAX_RRSET_WIRE_BYTES}`,
  };
}

const SINGLETONS: ReadonlySet<RecordType> = new Set(['CNAME', 'DNAME']);

/** RFC 1034 §3.6.2 and RFC 6672 §2.4: CNAME excludes other data at its name; CNAME and DNAME are single records. */
function exclusivityConflict(types: Map<ServedType, PendingSet>, input: RRsetInput): { field: string; reason: string } | undefined {
  // The name is written out only for a message: most inputs conflict with nothing.
  if (input.type === 'CNAME') {
    for (const [t, set] of types) {
      if (t !== 'CNAME') {
        return { field: 'recordType', reason: `a CNAME at ${fqdn(input.name)} cannot coexist with the ${t} records defined by ${describeInput(set.inputs[0] as RRsetInput)}` };
      }
    }
  } else {
    const cname = types.get('CNAME');
    if (cname) {
      return { field: 'recordType', reason: `${fqdn(input.name)} already has a CNAME, defined by ${describeInput(cname.inputs[0] as RRsetInput)}; no other type may share its name` };
    }
  }
  if (SINGLETONS.has(input.type)) {
    const existing = types.get(input.type);
    if (existing && rdataKey(existing.data[0] as RDataByType[ServedType]) !== rdataKey(input.data[0] as RDataByType[ServedType])) {
      return { field: 'targets', reason: `${fqdn(input.name)} already has a different ${input.type}, defined by ${describeInput(existing.inputs[0] as RRsetInput)}; a name holds one ${input.type}` };
    }
  }
  return undefined;
}

export function rdataKey(d: RDataByType[RecordType]): string {
  if (typeof d === 'string') return d;
  if (Array.isArray(d)) return d.map((b) => b.toString('hex')).join(',');
  return JSON.stringify(d);
}

/**
 * The records of a pending set in the order they leave in: this cluster's
 * first, then each peer's in turn, merge order within each (sorted origins,
 * then target order); MX, SRV and NAPTR then sort by their priority fields so
 * the set reads the way a client will use it.
 */
export function finalData(p: PendingSet): readonly RDataByType[ServedType][] {
  const localities = p.localities;
  if (localities === undefined) {
    // One input: its records in its order, and its own array unless the type sorts them otherwise.
    const data = sortedData(p.type, p.data);
    return data === p.data || data.every((d, i) => d === p.data[i]) ? p.data : data;
  }
  const order = p.data.map((_, i) => i);
  if (localities.some((l) => l !== 0)) order.sort((a, b) => (localities[a] as number) - (localities[b] as number) || a - b);
  return sortedData(p.type, order.map((i) => p.data[i] as RDataByType[ServedType]));
}

function sortedData<T extends ServedType>(type: T, data: readonly RDataByType[T][]): readonly RDataByType[T][] {
  if (type === 'MX') return [...(data as readonly RDataByType['MX'][])].sort((a, b) => a.preference - b.preference) as RDataByType[T][];
  if (type === 'SRV') return [...(data as readonly RDataByType['SRV'][])].sort((a, b) => a.priority - b.priority || b.weight - a.weight) as RDataByType[T][];
  if (type === 'NAPTR') return [...(data as readonly RDataByType['NAPTR'][])].sort((a, b) => a.order - b.order || a.preference - b.preference) as RDataByType[T][];
  return data;
}
