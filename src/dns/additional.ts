/**
 * Additional-section processing, done once per snapshot: for every MX, SRV
 * and NS RRset, the A/AAAA RRsets of its targets inside the same zone. The
 * resolver only appends the precomputed list.
 *
 * Glue (data at or below a zone cut) is not authoritative and goes out only
 * with NS records (RFC 2181 §5.4.1). A target that exists only through a
 * wildcard gets the wildcard's addresses under its own name, as RFC 1034
 * §4.3.2 step 6 looks it up like any other name.
 */
import { isInZone, parentName } from './name.js';
import { TYPE_CODES } from './records.js';
import type { Placed, RRset } from './rrset.js';
import { encodeName } from './wire-name.js';
import type { ZoneNode } from './zone.js';

const T = TYPE_CODES;

export function computeAdditional(apex: string, nodes: ReadonlyMap<string, ZoneNode>, hasCuts: boolean): Map<RRset, readonly Placed[]> {
  const out = new Map<RRset, readonly Placed[]>();
  for (const node of nodes.values()) {
    for (const set of node.ordered) {
      const targets = targetsOf(set);
      if (!targets) continue;
      const placed = addressesOf(apex, nodes, hasCuts, targets, set.type === 'NS');
      if (placed.length > 0) out.set(set, placed);
    }
  }
  return out;
}

function targetsOf(set: RRset): string[] | undefined {
  switch (set.type) {
    case 'MX':
      return (set as RRset<'MX'>).records.map((r) => r.data.exchange);
    case 'SRV':
      return (set as RRset<'SRV'>).records.map((r) => r.data.target);
    case 'NS':
      return (set as RRset<'NS'>).records.map((r) => r.data);
    default:
      return undefined;
  }
}

function addressesOf(apex: string, nodes: ReadonlyMap<string, ZoneNode>, hasCuts: boolean, targets: readonly string[], glue: boolean): Placed[] {
  const placed: Placed[] = [];
  const seen = new Set<string>();
  for (const t of targets) {
    if (seen.has(t) || !isInZone(t, apex)) continue;
    seen.add(t);
    let node = nodes.get(t);
    let owner: Buffer | undefined;
    if (!node) {
      let ce = parentName(t) as string;
      while (!nodes.has(ce)) ce = parentName(ce) as string;
      node = nodes.get(ce === '' ? '*' : `*.${ce}`);
      if (!node) continue;
      owner = encodeName(t);
    }
    if (!glue && hasCuts && atOrBelowCut(apex, nodes, t)) continue;
    for (const code of [T.A, T.AAAA]) {
      const set = node.rrsets.get(code);
      if (set) placed.push(owner ? { set, owner } : { set });
    }
  }
  return placed;
}

function atOrBelowCut(apex: string, nodes: ReadonlyMap<string, ZoneNode>, name: string): boolean {
  for (let n: string | undefined = name; n !== undefined && n !== apex; n = parentName(n)) {
    if (nodes.get(n)?.cut) return true;
  }
  return false;
}
