/**
 * An immutable snapshot of everything crdns serves. A snapshot is built
 * completely, whole or as a copy of the previous one that shares what did not
 * change, and then swapped in with one assignment, so a query sees either the
 * old data or the new data, never a mix.
 */
import type { Placed, RRset } from './rrset.js';
import { parentName } from './name.js';

export interface ZoneNode {
  readonly name: string;
  /**
   * RRsets in ascending type order; empty for an empty non-terminal. A name
   * has a few at most, so rrsetAt scans them: a Map per name would cost more
   * than the name's records. Most names have one, held without an array
   * (56 bytes a name); read it through rrsetAt, firstRRset or rrsetsOf.
   */
  readonly sets: RRset | readonly RRset[];
  /** NS below the apex: a zone cut, answered with a referral. */
  readonly cut: boolean;
  /** For each MX, SRV and NS RRset here, the addresses it brings into the additional section (additional.ts). */
  readonly additional: ReadonlyMap<RRset, readonly Placed[]>;
}

export interface Zone {
  readonly apex: string;
  readonly nodes: ReadonlyMap<string, ZoneNode>;
  readonly soa: RRset<'SOA'>;
  /** The SOA as negative answers carry it: TTL = min(SOA TTL, SOA minimum) (RFC 2308 §5). */
  readonly negativeSoa: RRset<'SOA'>;
  readonly apexNs: RRset<'NS'>;
  /** Whether any cut or DNAME exists, so lookups in zones without them skip the top-down walk. */
  readonly hasCuts: boolean;
  readonly hasDnames: boolean;
}

export interface SnapshotStats {
  /** Records (not RRsets) by type, synthesized SOA and NS included. */
  readonly recordsByType: Readonly<Record<string, number>>;
  readonly rrsets: number;
  readonly names: number;
}

export interface Snapshot {
  /** Increases by one with every snapshot this process builds. */
  readonly generation: number;
  readonly serial: number;
  /** Date.now() when it was built. */
  readonly builtAt: number;
  readonly zones: ReadonlyMap<string, Zone>;
  readonly stats: SnapshotStats;
}

/** The RRset of numeric type `type` at `node`, if it has one. */
export function rrsetAt(node: ZoneNode, type: number): RRset | undefined {
  const sets = node.sets;
  if (!Array.isArray(sets)) return (sets as RRset).typeCode === type ? (sets as RRset) : undefined;
  for (let i = 0; i < sets.length; i++) {
    const set = sets[i] as RRset;
    if (set.typeCode === type) return set;
    if (set.typeCode > type) return undefined;
  }
  return undefined;
}

/** The RRset of lowest type at `node`; undefined at an empty non-terminal. */
export function firstRRset(node: ZoneNode): RRset | undefined {
  const sets = node.sets;
  return Array.isArray(sets) ? (sets[0] as RRset | undefined) : (sets as RRset);
}

/** The RRsets at `node` in ascending type order, as an array (one is made for a name with one RRset). */
export function rrsetsOf(node: ZoneNode): readonly RRset[] {
  const sets = node.sets;
  return Array.isArray(sets) ? sets : [sets as RRset];
}

/** How the builder stores a name's RRsets, already in type order: one without an array. */
export function packSets(ordered: readonly RRset[]): RRset | readonly RRset[] {
  return ordered.length === 1 ? (ordered[0] as RRset) : ordered;
}

/** The most specific served zone holding `name`: one map lookup per label. */
export function servedZone(snapshot: Snapshot, name: string): Zone | undefined {
  let n: string | undefined = name;
  while (n !== undefined) {
    const z = snapshot.zones.get(n);
    if (z) return z;
    n = parentName(n);
  }
  return undefined;
}
