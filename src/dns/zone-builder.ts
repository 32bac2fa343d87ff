/**
 * Builds an immutable Snapshot from validated RRsets. This is where the rules
 * that span several endpoints live: the same name and type from several
 * origins merge into one RRset; a CNAME owns its name alone; when two origins
 * disagree, the older one (then the lower object key) wins and the newcomer is
 * reported.
 * Order of the input never changes the result.
 */
import { computeAdditional } from './additional.js';
import { findZone, fqdn, isInZone, MAX_NAME_OCTETS, parentName, wireLength } from './name.js';
import type { RDataByType, RecordType, ServedType } from './records.js';
import { makeRRset, rdataLength, type RRset } from './rrset.js';
import type { Snapshot, Zone, ZoneNode } from './zone.js';
import type { ZoneConfig } from './zone-config.js';
import type { RRsetInput, RRsetOrigin, RRsetRejection } from './zone-input.js';

/** An RRset larger than this could not be answered inside a 64 KiB message together with its question and chain. */
export const MAX_RRSET_WIRE_BYTES = 60000;

export interface BuildResult {
  snapshot: Snapshot;
  rejections: RRsetRejection[];
  /**
   * Every RRset of this snapshot by content. Passed back in as `previous` on the next build, it
   * lets unchanged RRsets be reused instead of encoded again, so a one-object change costs a merge,
   * not a re-encode of the whole data set.
   */
  encoded: Map<string, RRset>;
}

interface PendingSet {
  type: ServedType;
  ttl: number;
  data: RDataByType[ServedType][];
  /** rdata key → index in `data`, to drop duplicates. */
  keys: Map<string, number>;
  /** Locality of each datum (its nearest origin); see RRsetOrigin.locality. */
  localities: number[];
  origins: RRsetOrigin[];
  /** Wire size of the RRset so far, owner names included. */
  wireBytes: number;
}

/** Ownership order: oldest object first, then object key, then entry index. The same on every replica. */
export function compareOrigins(a: RRsetOrigin, b: RRsetOrigin): number {
  if (a.since !== b.since) return a.since - b.since;
  const x = a.owner ?? a.object;
  const y = b.owner ?? b.object;
  return x < y ? -1 : x > y ? 1 : a.index - b.index;
}

export function describeOrigin(o: RRsetOrigin): string {
  return `${o.object} endpoint ${o.index}`;
}

export function buildSnapshot(
  inputs: readonly RRsetInput[],
  zones: readonly ZoneConfig[],
  serial: number,
  generation: number,
  previous: ReadonlyMap<string, RRset> = new Map(),
): BuildResult {
  const encoded = new Map<string, RRset>();
  const rejections: RRsetRejection[] = [];
  const reject = (origin: RRsetOrigin, field: string, reason: string) => rejections.push({ origin, field, reason });
  const sorted = [...inputs].sort((a, b) => compareOrigins(a.origin, b.origin));
  const apexes = zones.map((z) => z.apex);
  const configs = new Map(zones.map((z) => [z.apex, z]));
  const zoneOf = (name: string): ZoneConfig | undefined => {
    const apex = findZone(name, apexes);
    return apex === undefined ? undefined : configs.get(apex);
  };

  // name -> type -> pending RRset, per zone
  const byZone = new Map<string, Map<string, Map<ServedType, PendingSet>>>();
  for (const z of zones) byZone.set(z.apex, new Map());

  for (const input of sorted) {
    const zone = zoneOf(input.name);
    if (!zone) {
      reject(input.origin, 'dnsName', `${fqdn(input.name)} is outside every served zone`);
      continue;
    }
    const names = byZone.get(zone.apex) as Map<string, Map<ServedType, PendingSet>>;
    let types = names.get(input.name);
    if (!types) names.set(input.name, (types = new Map()));
    const conflict = exclusivityConflict(types, input);
    if (conflict) {
      reject(input.origin, conflict.field, conflict.reason);
      continue;
    }
    const existing = types.get(input.type);
    const fresh = input.data.map((d) => [rdataKey(d), d] as const).filter(([key]) => !existing?.keys.has(key));
    // The size limit is checked input by input, so the entry that would overflow a shared RRset is the one
    // rejected, never the ones already merged. A wildcard's records go out under the query name, up to 255 octets.
    const ownerBytes = input.name.startsWith('*') ? MAX_NAME_OCTETS : wireLength(input.name);
    const added = fresh.reduce((n, [, d]) => n + ownerBytes + 10 + rdataLength(input.type, d), 0);
    const total = (existing?.wireBytes ?? 0) + added;
    if (total > MAX_RRSET_WIRE_BYTES) {
      reject(input.origin, 'targets', `the ${input.type} RRset at ${fqdn(input.name)} would be ${total} bytes on the wire${ownerBytes === MAX_NAME_OCTETS ? ' (wildcard records counted under a 255-octet query name)' : ''}, over the limit of ${MAX_RRSET_WIRE_BYTES}`);
      continue;
    }
    let set = existing;
    if (!set) types.set(input.type, (set = { type: input.type, ttl: input.ttl, data: [], keys: new Map(), localities: [], origins: [], wireBytes: 0 }));
    // RFC 2181 §5.2: one TTL per RRset; the lowest wins so no resolver caches longer than any owner asked.
    set.ttl = Math.min(set.ttl, input.ttl);
    const locality = input.origin.locality ?? 0;
    for (const [key, d] of fresh) {
      set.keys.set(key, set.data.length);
      set.data.push(d);
      set.localities.push(locality);
    }
    // A target that another cluster also serves counts as near as its nearest source.
    if (existing && locality > 0) {
      for (const d of input.data) {
        const at = existing.keys.get(rdataKey(d));
        if (at !== undefined && (existing.localities[at] as number) > locality) existing.localities[at] = locality;
      }
    } else if (existing && locality === 0) {
      for (const d of input.data) {
        const at = existing.keys.get(rdataKey(d));
        if (at !== undefined) existing.localities[at] = 0;
      }
    }
    set.wireBytes = total;
    set.origins.push(input.origin);
  }

  for (const names of byZone.values()) rejectOccluded(names, reject);

  const built = new Map<string, Zone>();
  const recordsByType: Record<string, number> = {};
  let rrsetCount = 0;
  let nameCount = 0;
  const count = (set: RRset) => {
    recordsByType[set.type] = (recordsByType[set.type] ?? 0) + set.records.length;
    rrsetCount++;
  };

  for (const cfg of zones) {
    const names = byZone.get(cfg.apex) as Map<string, Map<ServedType, PendingSet>>;
    const nodeSets = new Map<string, RRset[]>();
    for (const [name, types] of names) {
      const sets: RRset[] = [];
      for (const p of types.values()) {
        const order = byLocality(p);
        const key = `${name}\u0000${p.type}\u0000${p.ttl}\u0000${order.map((i) => rdataKey(p.data[i] as RDataByType[ServedType])).join('\u0001')}`;
        const set = previous.get(key) ?? makeRRset(name, p.type, p.ttl, sortedData(p.type, order.map((i) => p.data[i] as RDataByType[ServedType])));
        encoded.set(key, set);
        sets.push(set);
      }
      if (sets.length > 0) nodeSets.set(name, sets);
    }

    const soaData = { ...cfg.soa, serial };
    const soa = makeRRset(cfg.apex, 'SOA', cfg.soa.ttl, [soaData]);
    const negativeSoa = makeRRset(cfg.apex, 'SOA', Math.min(cfg.soa.ttl, cfg.soa.minimum), [soaData]);
    const apexNs = makeRRset(cfg.apex, 'NS', cfg.nsTtl, cfg.ns);
    const apexSets = nodeSets.get(cfg.apex) ?? [];
    nodeSets.set(cfg.apex, [soa, apexNs, ...apexSets]);

    const nodes = new Map<string, ZoneNode>();
    let hasCuts = false;
    let hasDnames = false;
    for (const [name, sets] of nodeSets) {
      sets.sort((a, b) => a.typeCode - b.typeCode);
      const cut = name !== cfg.apex && sets.some((s) => s.type === 'NS');
      hasCuts ||= cut;
      hasDnames ||= sets.some((s) => s.type === 'DNAME');
      nodes.set(name, { name, rrsets: new Map(sets.map((s) => [s.typeCode, s])), ordered: sets, cut });
      for (const s of sets) count(s);
      // Every ancestor up to the apex exists, as an empty non-terminal if nothing else (RFC 4592 §2.2.2).
      for (let p = parentName(name); p !== undefined && isInZone(p, cfg.apex) && !nodeSets.has(p) && !nodes.has(p); p = parentName(p)) {
        nodes.set(p, { name: p, rrsets: new Map(), ordered: [], cut: false });
      }
    }
    // A served child zone's apex, and every name between it and this apex, exists in this zone too,
    // as an empty non-terminal: the parent side of the cut is where DS is answered (RFC 4035 §3.1.4.1),
    // and a name above the child apex must not be NXDOMAIN, which denies everything below it (RFC 8020).
    for (const child of zones) {
      if (child === cfg || child.apex === '' || !isInZone(child.apex, cfg.apex) || zoneOf(parentName(child.apex) as string) !== cfg) continue;
      for (let p: string | undefined = child.apex; p !== undefined && p !== cfg.apex && !nodes.has(p); p = parentName(p)) {
        nodes.set(p, { name: p, rrsets: new Map(), ordered: [], cut: false });
      }
    }
    nameCount += nodes.size;
    built.set(cfg.apex, { apex: cfg.apex, nodes, soa, negativeSoa, apexNs, hasCuts, hasDnames, additional: computeAdditional(cfg.apex, nodes, hasCuts) });
  }

  return {
    snapshot: {
      generation,
      serial,
      builtAt: Date.now(),
      zones: built,
      stats: { recordsByType, rrsets: rrsetCount, names: nameCount },
    },
    rejections,
    encoded,
  };
}

/** Types that may stand at or below a zone cut: the NS set itself and the addresses used as glue. */
const AT_CUT: ReadonlySet<ServedType> = new Set(['NS', 'A', 'AAAA']);

/**
 * Data nobody would ever be answered: below a DNAME (RFC 6672 §2.3: every name under it is
 * redirected), or below or at a delegation other than the NS set and glue addresses (RFC 1034
 * §4.2.1: it belongs to the child zone). Rejected with a reason instead of accepted and never served.
 */
function rejectOccluded(names: Map<string, Map<ServedType, PendingSet>>, reject: (o: RRsetOrigin, field: string, reason: string) => void): void {
  const cuts = new Set<string>();
  const dnames = new Set<string>();
  for (const [name, types] of names) {
    if (types.has('NS')) cuts.add(name);
    if (types.has('DNAME')) dnames.add(name);
  }
  if (cuts.size === 0 && dnames.size === 0) return;
  for (const [name, types] of names) {
    let hiddenBy: { owner: string; kind: 'DNAME' | 'NS' } | undefined;
    // Walking up, the last hit is the one nearest the apex: the one a lookup meets first.
    for (let a = parentName(name); a !== undefined; a = parentName(a)) {
      if (dnames.has(a)) hiddenBy = { owner: a, kind: 'DNAME' };
      else if (cuts.has(a)) hiddenBy = { owner: a, kind: 'NS' };
    }
    if (!hiddenBy && cuts.has(name)) hiddenBy = { owner: name, kind: 'NS' };
    if (!hiddenBy) continue;
    for (const [type, set] of types) {
      if (hiddenBy.kind === 'NS' && AT_CUT.has(type)) continue;
      const why =
        hiddenBy.kind === 'DNAME'
          ? `${fqdn(name)} is below the DNAME at ${fqdn(hiddenBy.owner)}, which redirects every name under it; this ${type} would never be answered`
          : `${fqdn(name)} is at or below the delegation at ${fqdn(hiddenBy.owner)}, where only the NS set and glue addresses are served; this ${type} would never be answered`;
      for (const o of set.origins) reject(o, 'dnsName', why);
      types.delete(type);
    }
    if (types.size === 0) names.delete(name);
  }
}

const SINGLETONS: ReadonlySet<RecordType> = new Set(['CNAME', 'DNAME']);

/** RFC 1034 §3.6.2 and RFC 6672 §2.4: CNAME excludes other data at its name; CNAME and DNAME are single records. */
function exclusivityConflict(types: Map<ServedType, PendingSet>, input: RRsetInput): { field: string; reason: string } | undefined {
  const name = fqdn(input.name);
  if (input.type === 'CNAME') {
    for (const [t, set] of types) {
      if (t !== 'CNAME') {
        return { field: 'recordType', reason: `a CNAME at ${name} cannot coexist with the ${t} records defined by ${describeOrigin(set.origins[0] as RRsetOrigin)}` };
      }
    }
  } else {
    const cname = types.get('CNAME');
    if (cname) {
      return { field: 'recordType', reason: `${name} already has a CNAME, defined by ${describeOrigin(cname.origins[0] as RRsetOrigin)}; no other type may share its name` };
    }
  }
  if (SINGLETONS.has(input.type)) {
    const existing = types.get(input.type);
    if (existing && rdataKey(existing.data[0] as RDataByType[ServedType]) !== rdataKey(input.data[0] as RDataByType[ServedType])) {
      return { field: 'targets', reason: `${name} already has a different ${input.type}, defined by ${describeOrigin(existing.origins[0] as RRsetOrigin)}; a name holds one ${input.type}` };
    }
  }
  return undefined;
}

function rdataKey(d: RDataByType[RecordType]): string {
  if (typeof d === 'string') return d;
  if (Array.isArray(d)) return d.map((b) => b.toString('hex')).join(',');
  return JSON.stringify(d);
}

/** Indexes of a pending set's data, this cluster's first, then each peer's in turn; merge order within each. */
function byLocality(p: PendingSet): number[] {
  const order = p.data.map((_, i) => i);
  if (p.localities.some((l) => l !== 0)) order.sort((a, b) => (p.localities[a] as number) - (p.localities[b] as number) || a - b);
  return order;
}

/**
 * The order records leave in: A/AAAA/TXT and friends keep the order targets
 * were merged in (sorted origins, then target order); MX, SRV and NAPTR sort
 * by their priority fields so the set reads the way a client will use it.
 */
function sortedData<T extends ServedType>(type: T, data: RDataByType[T][]): RDataByType[T][] {
  if (type === 'MX') return [...(data as RDataByType['MX'][])].sort((a, b) => a.preference - b.preference) as RDataByType[T][];
  if (type === 'SRV') return [...(data as RDataByType['SRV'][])].sort((a, b) => a.priority - b.priority || b.weight - a.weight) as RDataByType[T][];
  if (type === 'NAPTR') return [...(data as RDataByType['NAPTR'][])].sort((a, b) => a.order - b.order || a.preference - b.preference) as RDataByType[T][];
  return data;
}

