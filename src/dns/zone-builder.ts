/**
 * Builds immutable Snapshots from validated RRsets, whole or by name.
 *
 * The rules that span several endpoints (name-merge.ts: merge, CNAME
 * ownership, size; occlusion.ts: data hidden by a DNAME or a delegation) are
 * applied per owner name. What else a name's node depends on is tracked so a
 * change can be applied to the names it touches and no others:
 * - empty non-terminals: each name counts its child nodes, so adding or
 *   removing a name creates or removes exactly the ancestors it alone held up;
 * - additional data: each MX, SRV and NS owner records the names it read while
 *   collecting its targets' addresses, so it is redone when one of those
 *   names appears, disappears or changes its A or AAAA RRset;
 * - occlusion depends on where NS and DNAME are, so a change that adds or
 *   removes one (rare: delegations) is built whole.
 * The SOA carries the serial, so each zone's apex node is new in every build.
 *
 * `update` gives the same snapshot `full` would for the same inputs; the
 * store's property test checks it. Order of the input never changes the result.
 */
import { additionalOf, hasTargets, NO_ADDITIONAL } from './additional.js';
import { findZone, fqdn, isInZone, parentName } from './name.js';
import { dropOccluded } from './occlusion.js';
import { finalData, mergeAtName, rdataKey, type PendingSet } from './name-merge.js';
import { TYPE_CODES, type RDataByType, type RecordType, type ServedType } from './records.js';
import { makeRRset, type Placed, type RRset } from './rrset.js';
import { ShardedMap } from './sharded-map.js';
import { firstRRset, packSets, rrsetAt, rrsetsOf, type Snapshot, type Zone, type ZoneNode } from './zone.js';
import type { ZoneConfig } from './zone-config.js';
import type { RRsetInput, RRsetRejection } from './zone-input.js';

export { compareInputs, describeInput, MAX_RRSET_WIRE_BYTES } from './name-merge.js';

export interface BuildResult {
  snapshot: Snapshot;
  /**
   * Rejected inputs by owner name, for the names this build looked at: every
   * name in a full build, the changed ones in an update. A name it looked at
   * and that is absent here has no rejections any more.
   */
  rejections: ReadonlyMap<string, readonly RRsetRejection[]>;
  incremental: boolean;
}

/** A node while its snapshot is being built; published as a ZoneNode, never changed after. */
interface BuildNode {
  name: string;
  sets: RRset | readonly RRset[];
  cut: boolean;
  additional: ReadonlyMap<RRset, readonly Placed[]>;
}

/** What an update needs to know about a zone of the last snapshot, beyond the snapshot itself. */
interface ZoneState {
  cfg: ZoneConfig;
  nodes: ShardedMap<ZoneNode>;
  zone: Zone;
  /** Names whose merged data holds NS / DNAME (before occlusion): what occlusion.ts looks at. */
  cuts: Set<string>;
  dnames: Set<string>;
  /** Names that exist whatever their data: the path from this apex down to each served child zone's apex. */
  pinned: Set<string>;
  /** Name → how many of its direct children are nodes. */
  children: Map<string, number>;
  reads: ReadIndex;
}

/** Which names each owner of additional data read, both ways. */
interface ReadIndex {
  /** Name → the owners whose additional data read it. */
  readers: Map<string, Set<string>>;
  /** Owner → the names it read. */
  reads: Map<string, readonly string[]>;
}

const NO_SETS: readonly RRset[] = [];

export class SnapshotBuilder {
  private readonly apexes: string[];
  private readonly configs: Map<string, ZoneConfig>;
  /** Per zone, the state of the last build; undefined before the first and after a failed one. */
  private state: Map<string, ZoneState> | undefined;
  private stats: { recordsByType: Record<string, number>; rrsets: number; names: number } | undefined;

  constructor(private readonly zones: readonly ZoneConfig[]) {
    this.apexes = zones.map((z) => z.apex);
    this.configs = new Map(zones.map((z) => [z.apex, z]));
  }

  /** Builds from every input, grouped by owner name (each name's complete list). */
  full(inputsByName: ReadonlyMap<string, readonly RRsetInput[]>, serial: number, generation: number): BuildResult {
    const previous = this.state;
    this.state = undefined;
    const rejections = new Map<string, RRsetRejection[]>();
    const reject = rejecter(rejections);
    const merged = new Map<string, Map<string, Map<ServedType, PendingSet>>>();
    for (const z of this.zones) merged.set(z.apex, new Map());
    for (const [name, inputs] of inputsByName) {
      const apex = findZone(name, this.apexes);
      if (apex === undefined) {
        for (const input of inputs) reject({ input, field: 'dnsName', reason: `${fqdn(name)} is outside every served zone` });
        continue;
      }
      (merged.get(apex) as Map<string, Map<ServedType, PendingSet>>).set(name, mergeAtName(name, inputs, reject));
    }

    const state = new Map<string, ZoneState>();
    const zones = new Map<string, Zone>();
    const stats = { recordsByType: {} as Record<string, number>, rrsets: 0, names: 0 };
    for (const cfg of this.zones) {
      const names = merged.get(cfg.apex) as Map<string, Map<ServedType, PendingSet>>;
      const cuts = new Set<string>();
      const dnames = new Set<string>();
      for (const [name, types] of names) {
        if (types.has('NS')) cuts.add(name);
        if (types.has('DNAME')) dnames.add(name);
      }
      const prevNodes = previous?.get(cfg.apex)?.nodes;
      const nodes = new Map<string, BuildNode>();
      for (const [name, types] of names) {
        dropOccluded(name, types, cuts, dnames, reject);
        const sets = encodeSets(name, types, prevNodes?.get(name));
        if (sets.length > 0) nodes.set(name, dataNode(name, sets, name !== cfg.apex && types.has('NS')));
      }
      const { soa, negativeSoa, apexNs } = synthesized(cfg, serial);
      const apexNode = nodes.get(cfg.apex);
      const apexData = apexNode ? rrsetsOf(apexNode) : [];
      nodes.set(cfg.apex, dataNode(cfg.apex, [soa, apexNs, ...apexData], false));

      // Every ancestor up to the apex exists, as an empty non-terminal if nothing else (RFC 4592 §2.2.2).
      for (const name of [...nodes.keys()]) {
        for (let p = parentName(name); p !== undefined && isInZone(p, cfg.apex) && !nodes.has(p); p = parentName(p)) nodes.set(p, emptyNode(p));
      }
      const pinned = this.childApexPaths(cfg);
      for (const p of pinned) if (!nodes.has(p)) nodes.set(p, emptyNode(p));
      const children = new Map<string, number>();
      for (const name of nodes.keys()) if (name !== cfg.apex) bump(children, parentName(name) as string, 1);

      let hasCuts = false;
      let hasDnames = false;
      for (const n of nodes.values()) {
        hasCuts ||= n.cut;
        hasDnames ||= rrsetAt(n, TYPE_CODES.DNAME) !== undefined;
      }
      const reads: ReadIndex = { readers: new Map(), reads: new Map() };
      const lookup = (n: string): ZoneNode | undefined => nodes.get(n);
      for (const node of nodes.values()) {
        const sets = rrsetsOf(node);
        if (hasTargets(sets)) node.additional = collectAdditional(reads, cfg.apex, node.name, sets, lookup, hasCuts);
        addStats(stats, node, 1);
      }
      const published = ShardedMap.from<ZoneNode>(nodes, nodes.size);
      const zone: Zone = { apex: cfg.apex, nodes: published, soa, negativeSoa, apexNs, hasCuts, hasDnames };
      zones.set(cfg.apex, zone);
      state.set(cfg.apex, { cfg, nodes: published, zone, cuts, dnames, pinned, children, reads });
    }
    this.state = state;
    this.stats = stats;
    return { snapshot: snapshotOf(zones, stats, serial, generation), rejections, incremental: false };
  }

  /**
   * The last snapshot with the names in `changed` rebuilt from their complete
   * inputs now (an empty list: the name has none any more). Undefined when
   * that cannot be done name by name: before a first full build, or when a
   * changed name has or had NS or DNAME data (what they hide spans names).
   */
  update(changed: ReadonlyMap<string, readonly RRsetInput[]>, serial: number, generation: number): BuildResult | undefined {
    const state = this.state;
    const stats = this.stats;
    if (!state || !stats) return undefined;
    const byZone = new Map<string, string[]>();
    for (const [name, inputs] of changed) {
      const apex = findZone(name, this.apexes);
      if (apex === undefined) continue;
      const zs = state.get(apex) as ZoneState;
      if (zs.cuts.has(name) || zs.dnames.has(name) || inputs.some((i) => i.type === 'NS' || i.type === 'DNAME')) return undefined;
      const list = byZone.get(apex);
      if (list) list.push(name);
      else byZone.set(apex, [name]);
    }
    // From here on the state is changed in place; should anything throw, the next build must be a full one.
    this.state = undefined;
    const rejections = new Map<string, RRsetRejection[]>();
    const reject = rejecter(rejections);
    for (const [name, inputs] of changed) {
      if (findZone(name, this.apexes) !== undefined) continue;
      for (const input of inputs) reject({ input, field: 'dnsName', reason: `${fqdn(name)} is outside every served zone` });
    }
    const newStats = { recordsByType: { ...stats.recordsByType }, rrsets: stats.rrsets, names: stats.names };
    const zones = new Map<string, Zone>();
    for (const zs of state.values()) {
      this.updateZone(zs, byZone.get(zs.cfg.apex) ?? [], changed, rejections, newStats, serial);
      zones.set(zs.cfg.apex, zs.zone);
    }
    for (const [type, n] of Object.entries(newStats.recordsByType)) if (n === 0) delete newStats.recordsByType[type];
    this.state = state;
    this.stats = newStats;
    return { snapshot: snapshotOf(zones, newStats, serial, generation), rejections, incremental: true };
  }

  private updateZone(
    zs: ZoneState,
    names: readonly string[],
    changed: ReadonlyMap<string, readonly RRsetInput[]>,
    rejections: Map<string, RRsetRejection[]>,
    stats: { recordsByType: Record<string, number>; rrsets: number; names: number },
    serial: number,
  ): void {
    const apex = zs.cfg.apex;
    const old = zs.nodes;
    /** The nodes this build replaces (undefined: removed), over `old`. */
    const work = new Map<string, BuildNode | undefined>();
    const current = (n: string): ZoneNode | undefined => (work.has(n) ? work.get(n) : old.get(n));
    const exists = (n: string): boolean => (work.has(n) ? work.get(n) !== undefined : old.has(n));

    const newSets = new Map<string, RRset[]>();
    const reject = rejecter(rejections);
    for (const name of names) {
      const types = mergeAtName(name, changed.get(name) ?? [], reject);
      dropOccluded(name, types, zs.cuts, zs.dnames, reject);
      newSets.set(name, encodeSets(name, types, old.get(name)));
    }
    const hasData = (n: string): boolean => {
      const sets = newSets.get(n);
      if (sets) return sets.length > 0;
      const node = current(n);
      return node !== undefined && firstRRset(node) !== undefined;
    };
    const nodeFor = (n: string): BuildNode => {
      const sets = newSets.get(n);
      return sets && sets.length > 0 ? dataNode(n, sets, false) : emptyNode(n);
    };
    const create = (n: string): void => {
      work.set(n, nodeFor(n));
      const p = parentName(n) as string;
      bump(zs.children, p, 1);
      if (!exists(p)) create(p);
    };
    const remove = (n: string): void => {
      work.set(n, undefined);
      const p = parentName(n) as string;
      bump(zs.children, p, -1);
      if (p !== apex && exists(p) && !zs.pinned.has(p) && (zs.children.get(p) ?? 0) === 0 && !hasData(p)) remove(p);
    };
    for (const name of names) {
      if (name === apex) continue;
      const wanted = hasData(name) || (zs.children.get(name) ?? 0) > 0 || zs.pinned.has(name);
      if (wanted) {
        if (exists(name)) work.set(name, nodeFor(name));
        else create(name);
      } else if (exists(name)) {
        remove(name);
      }
    }

    const { soa, negativeSoa, apexNs } = synthesized(zs.cfg, serial);
    const oldApex = old.get(apex);
    const apexData = newSets.get(apex) ?? (oldApex ? rrsetsOf(oldApex) : []).filter((s) => s !== zs.zone.soa && s !== zs.zone.apexNs);
    work.set(apex, dataNode(apex, [soa, apexNs, ...apexData], false));

    // Additional data: owners whose own RRsets may have changed, and owners that read a name that changed
    // in what additional.ts looks at. The apex is among the former in every build (its NS set is new).
    const owners = new Set<string>();
    for (const [name, node] of work) {
      const before = old.get(name);
      // An owner that lost its MX, SRV or NS is visited too, so what it read is forgotten.
      if ((node && hasTargets(rrsetsOf(node))) || (before && hasTargets(rrsetsOf(before)))) owners.add(name);
      if (readChanged(before, node)) for (const o of zs.reads.readers.get(name) ?? []) owners.add(o);
    }
    const hasCuts = zs.zone.hasCuts;
    for (const owner of owners) {
      const node = current(owner);
      if (!node || !hasTargets(rrsetsOf(node))) {
        forgetReads(zs.reads, owner);
        continue;
      }
      let building = work.get(owner);
      if (!building) work.set(owner, (building = { ...node }));
      building.additional = collectAdditional(zs.reads, apex, owner, rrsetsOf(building), current, hasCuts);
    }

    for (const [name, node] of work) {
      const before = old.get(name);
      if (before) addStats(stats, before, -1);
      if (node) addStats(stats, node, 1);
    }
    zs.nodes = old.with(work);
    zs.zone = { apex, nodes: zs.nodes, soa, negativeSoa, apexNs, hasCuts, hasDnames: zs.zone.hasDnames };
  }

  /** The names between `cfg`'s apex and each served zone directly below it: they exist in this zone too. */
  private childApexPaths(cfg: ZoneConfig): Set<string> {
    // The parent side of a cut is where DS is answered (RFC 4035 §3.1.4.1), and a name above
    // the child apex must not be NXDOMAIN, which denies everything below it (RFC 8020).
    const pinned = new Set<string>();
    for (const child of this.zones) {
      if (child === cfg || child.apex === '' || !isInZone(child.apex, cfg.apex)) continue;
      const parentApex = findZone(parentName(child.apex) as string, this.apexes);
      if (parentApex === undefined || this.configs.get(parentApex) !== cfg) continue;
      for (let p: string | undefined = child.apex; p !== undefined && p !== cfg.apex; p = parentName(p)) pinned.add(p);
    }
    return pinned;
  }
}

/** One-shot build of every input: for tests and tools that need one snapshot, not a sequence. */
export function buildSnapshot(inputs: readonly RRsetInput[], zones: readonly ZoneConfig[], serial: number, generation: number): { snapshot: Snapshot; rejections: RRsetRejection[] } {
  const byName = new Map<string, RRsetInput[]>();
  for (const input of inputs) {
    const list = byName.get(input.name);
    if (list) list.push(input);
    else byName.set(input.name, [input]);
  }
  const built = new SnapshotBuilder(zones).full(byName, serial, generation);
  return { snapshot: built.snapshot, rejections: [...built.rejections.values()].flat() };
}

/** Files each rejection under its input's owner name: one function a build, not a closure a name. */
function rejecter(into: Map<string, RRsetRejection[]>): (r: RRsetRejection) => void {
  return (r) => {
    const list = into.get(r.input.name);
    if (list) list.push(r);
    else into.set(r.input.name, [r]);
  };
}

/** The RRsets of one name; an RRset whose content the previous node already had is that same object. */
function encodeSets(name: string, types: ReadonlyMap<ServedType, PendingSet>, previous: ZoneNode | undefined): RRset[] {
  if (types.size === 0) return [];
  const sets: RRset[] = [];
  for (const p of types.values()) {
    const data = finalData(p);
    const before = previous && rrsetAt(previous, TYPE_CODES[p.type]);
    // Compared here rather than through a content key kept per RRset: a key is a string per record, kept for the snapshot's life.
    sets.push(before !== undefined && before.ttl === p.ttl && sameData(before.data, data) ? before : makeRRset(name, p.type, p.ttl, data));
  }
  return sets;
}

function sameData(a: readonly RDataByType[RecordType][], b: readonly RDataByType[RecordType][]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (rdataKey(a[i] as RDataByType[RecordType]) !== rdataKey(b[i] as RDataByType[RecordType])) return false;
  return true;
}

function dataNode(name: string, sets: readonly RRset[], cut: boolean): BuildNode {
  const ordered = [...sets].sort((a, b) => a.typeCode - b.typeCode);
  return { name, sets: packSets(ordered), cut, additional: NO_ADDITIONAL };
}

function emptyNode(name: string): BuildNode {
  return { name, sets: NO_SETS, cut: false, additional: NO_ADDITIONAL };
}

function synthesized(cfg: ZoneConfig, serial: number): { soa: RRset<'SOA'>; negativeSoa: RRset<'SOA'>; apexNs: RRset<'NS'> } {
  const soaData = { ...cfg.soa, serial };
  return {
    soa: makeRRset(cfg.apex, 'SOA', cfg.soa.ttl, [soaData]),
    negativeSoa: makeRRset(cfg.apex, 'SOA', Math.min(cfg.soa.ttl, cfg.soa.minimum), [soaData]),
    apexNs: makeRRset(cfg.apex, 'NS', cfg.nsTtl, cfg.ns),
  };
}

/** Computes an owner's additional data through `lookup`, and records which names it read. */
function collectAdditional(index: ReadIndex, apex: string, owner: string, sets: readonly RRset[], lookup: (n: string) => ZoneNode | undefined, hasCuts: boolean): ReadonlyMap<RRset, readonly Placed[]> {
  const read = new Set<string>();
  const additional = additionalOf(
    apex,
    sets,
    (n) => {
      read.add(n);
      return lookup(n);
    },
    hasCuts,
  );
  forgetReads(index, owner);
  if (read.size > 0) {
    const names = [...read];
    index.reads.set(owner, names);
    for (const n of names) {
      const set = index.readers.get(n);
      if (set) set.add(owner);
      else index.readers.set(n, new Set([owner]));
    }
  }
  return additional;
}

function forgetReads(index: ReadIndex, owner: string): void {
  const names = index.reads.get(owner);
  if (!names) return;
  index.reads.delete(owner);
  for (const n of names) {
    const set = index.readers.get(n);
    if (!set) continue;
    set.delete(owner);
    if (set.size === 0) index.readers.delete(n);
  }
}

/** Whether a name changed in anything additional.ts reads of it: existence, A, AAAA, cut. */
function readChanged(before: ZoneNode | undefined, after: ZoneNode | undefined): boolean {
  if (!before || !after) return before !== after;
  return (
    before.cut !== after.cut ||
    rrsetAt(before, TYPE_CODES.A) !== rrsetAt(after, TYPE_CODES.A) ||
    rrsetAt(before, TYPE_CODES.AAAA) !== rrsetAt(after, TYPE_CODES.AAAA)
  );
}

function bump(counts: Map<string, number>, name: string, by: number): void {
  const n = (counts.get(name) ?? 0) + by;
  if (n === 0) counts.delete(name);
  else counts.set(name, n);
}

function addStats(stats: { recordsByType: Record<string, number>; rrsets: number; names: number }, node: ZoneNode, sign: 1 | -1): void {
  stats.names += sign;
  for (const s of rrsetsOf(node)) {
    stats.recordsByType[s.type] = (stats.recordsByType[s.type] ?? 0) + sign * s.data.length;
    stats.rrsets += sign;
  }
}

function snapshotOf(zones: ReadonlyMap<string, Zone>, stats: { recordsByType: Record<string, number>; rrsets: number; names: number }, serial: number, generation: number): Snapshot {
  return { generation, serial, builtAt: Date.now(), zones, stats: { recordsByType: { ...stats.recordsByType }, rrsets: stats.rrsets, names: stats.names } };
}
