/**
 * Every object's RRset inputs by owner name: what the zone builder needs to
 * rebuild one name from all its inputs, and the store to find the objects a
 * change at a name may concern. Which partition an input came from is its
 * object's (the store looks it up by `origin.object`), so it is not kept here.
 *
 * Most names have one input, and this index holds an entry per name, so a
 * name holds its input itself; a few inputs share an array, many a Set (the
 * same A record from hundreds of Services must not make each add linear).
 */
import { rdataKey } from '../dns/name-merge.js';
import type { RRsetInput } from '../dns/zone-input.js';

/** Past this many inputs at one name, they are kept in a Set rather than an array. */
const ARRAY_MAX = 8;

type AtName = RRsetInput | RRsetInput[] | Set<RRsetInput>;

export class InputIndex {
  private readonly byName = new Map<string, AtName>();

  add(inputs: readonly RRsetInput[]): void {
    for (const input of inputs) {
      const at = this.byName.get(input.name);
      if (at === undefined) this.byName.set(input.name, input);
      else if (at instanceof Set) at.add(input);
      else if (Array.isArray(at)) {
        if (at.includes(input)) continue;
        if (at.length < ARRAY_MAX) at.push(input);
        else this.byName.set(input.name, new Set([...at, input]));
      } else if (at !== input) this.byName.set(input.name, [at, input]);
    }
  }

  remove(inputs: readonly RRsetInput[]): void {
    for (const input of inputs) {
      const at = this.byName.get(input.name);
      if (at === undefined) continue;
      if (at === input) {
        this.byName.delete(input.name);
      } else if (at instanceof Set) {
        at.delete(input);
        if (at.size <= ARRAY_MAX / 2) this.byName.set(input.name, [...at]);
      } else if (Array.isArray(at)) {
        const i = at.indexOf(input);
        if (i < 0) continue;
        at.splice(i, 1);
        if (at.length === 1) this.byName.set(input.name, at[0] as RRsetInput);
      }
    }
  }

  /** remove(before) then add(after), leaving in place the inputs both hold. */
  replace(before: readonly RRsetInput[], after: readonly RRsetInput[]): void {
    this.add(after);
    const kept = new Set(after);
    this.remove(before.filter((input) => !kept.has(input)));
  }

  /** The inputs at `name`; empty when it has none. */
  at(name: string): readonly RRsetInput[] {
    const at = this.byName.get(name);
    if (at === undefined) return [];
    if (at instanceof Set) return [...at];
    return Array.isArray(at) ? at : [at];
  }

  names(): IterableIterator<string> {
    return this.byName.keys();
  }

  /** How many names have inputs. */
  get size(): number {
    return this.byName.size;
  }
}

/**
 * The owner names where two versions of one object's inputs differ in
 * anything the zone builder reads (type, TTL, data, origin): an input equal in
 * all of them builds the same, whichever version it came from.
 */
export function changedInputNames(before: readonly RRsetInput[], after: readonly RRsetInput[]): string[] {
  // Inputs carried over as the same object (validation reuses an unchanged
  // entry's result) are equal without a look; only the names of the others
  // are candidates, compared by value, so one edit in a large object costs
  // work for the edited entry, not for the object.
  const kept = new Set(after);
  const was = new Set(before);
  const candidates = new Set<string>();
  for (const r of before) if (!kept.has(r)) candidates.add(r.name);
  for (const r of after) if (!was.has(r)) candidates.add(r.name);
  if (candidates.size === 0) return [];
  const wasAt = byName(before, candidates);
  const isAt = byName(after, candidates);
  const changed: string[] = [];
  for (const name of candidates) if (!sameInputs(wasAt.get(name) ?? [], isAt.get(name))) changed.push(name);
  return changed;
}

function byName(inputs: readonly RRsetInput[], only: ReadonlySet<string>): Map<string, RRsetInput[]> {
  const map = new Map<string, RRsetInput[]>();
  for (const r of inputs) {
    if (!only.has(r.name)) continue;
    const list = map.get(r.name);
    if (list) list.push(r);
    else map.set(r.name, [r]);
  }
  return map;
}

/** Whether two lists hold the same inputs, in any order (an object has a few per name at most). */
function sameInputs(a: readonly RRsetInput[], b: readonly RRsetInput[] | undefined): boolean {
  if (!b) return a.length === 0;
  if (a.length !== b.length) return false;
  const left = [...b];
  for (const r of a) {
    const at = left.findIndex((x) => sameInput(r, x));
    if (at < 0) return false;
    left.splice(at, 1);
  }
  return true;
}

function sameInput(a: RRsetInput, b: RRsetInput): boolean {
  const x = a.origin;
  const y = b.origin;
  if (a.type !== b.type || a.ttl !== b.ttl || a.data.length !== b.data.length) return false;
  if (a.index !== b.index || x.object !== y.object || x.since !== y.since || x.owner !== y.owner || x.locality !== y.locality) return false;
  return a.data.every((d, i) => rdataKey(d) === rdataKey(b.data[i] as typeof d));
}
