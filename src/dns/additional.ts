/**
 * Additional-section processing, done once per snapshot: for every MX, SRV
 * and NS RRset, the A/AAAA RRsets of its targets inside the same zone. The
 * resolver only appends the precomputed list.
 *
 * Glue (data at or below a zone cut) is not authoritative and goes out only
 * with NS records (RFC 2181 §5.4.1). A target that exists only through a
 * wildcard gets the wildcard's addresses under its own name, as RFC 1034
 * §4.3.2 step 6 looks it up like any other name.
 *
 * Every name is read through `lookup`, and what is read of it is only whether
 * it exists, its A and AAAA RRsets and whether it is a cut: the builder
 * records the names each owner read, and recomputes an owner's list only when
 * one of those changed.
 */
import { isInZone, parentName } from './name.js';
import { TYPE_CODES } from './records.js';
import type { Placed, RRset } from './rrset.js';
import { encodeName } from './wire-name.js';
import { rrsetAt, type ZoneNode } from './zone.js';

const T = TYPE_CODES;

export type NodeLookup = (name: string) => ZoneNode | undefined;

export const NO_ADDITIONAL: ReadonlyMap<RRset, readonly Placed[]> = new Map();

/** Whether any of these RRsets brings additional data; most do not, and need no lookup at all. */
export function hasTargets(sets: readonly RRset[]): boolean {
  return sets.some((s) => s.type === 'MX' || s.type === 'SRV' || s.type === 'NS');
}

/** The addresses each MX, SRV and NS RRset among `sets` brings; NO_ADDITIONAL when none does. */
export function additionalOf(apex: string, sets: readonly RRset[], lookup: NodeLookup, hasCuts: boolean): ReadonlyMap<RRset, readonly Placed[]> {
  let out: Map<RRset, readonly Placed[]> | undefined;
  for (const set of sets) {
    const targets = targetsOf(set);
    if (!targets) continue;
    const placed = addressesOf(apex, lookup, hasCuts, targets, set.type === 'NS');
    if (placed.length > 0) (out ??= new Map()).set(set, placed);
  }
  return out ?? NO_ADDITIONAL;
}

function targetsOf(set: RRset): readonly string[] | undefined {
  switch (set.type) {
    case 'MX':
      return (set as RRset<'MX'>).data.map((d) => d.exchange);
    case 'SRV':
      return (set as RRset<'SRV'>).data.map((d) => d.target);
    case 'NS':
      return (set as RRset<'NS'>).data;
    default:
      return undefined;
  }
}

function addressesOf(apex: string, lookup: NodeLookup, hasCuts: boolean, targets: readonly string[], glue: boolean): Placed[] {
  const placed: Placed[] = [];
  const seen = new Set<string>();
  for (const t of targets) {
    if (seen.has(t) || !isInZone(t, apex)) continue;
    seen.add(t);
    let node = lookup(t);
    let owner: Buffer | undefined;
    if (!node) {
      let ce = parentName(t) as string;
      while (!lookup(ce)) ce = parentName(ce) as string;
      node = lookup(ce === '' ? '*' : `*.${ce}`);
      if (!node) continue;
      owner = encodeName(t);
    }
    if (!glue && hasCuts && atOrBelowCut(apex, lookup, t)) continue;
    for (const code of [T.A, T.AAAA]) {
      const set = rrsetAt(node, code);
      if (set) placed.push(owner ? { set, owner } : { set });
    }
  }
  return placed;
}

function atOrBelowCut(apex: string, lookup: NodeLookup, name: string): boolean {
  for (let n: string | undefined = name; n !== undefined && n !== apex; n = parentName(n)) {
    if (lookup(n)?.cut) return true;
  }
  return false;
}
