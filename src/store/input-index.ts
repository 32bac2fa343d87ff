/**
 * Every object's RRset inputs by owner name, each with the partition it came
 * from: what the zone builder needs to rebuild one name from all its inputs,
 * and the store to find the objects a change at a name may concern.
 */
import { rdataKey } from '../dns/name-merge.js';
import type { RRsetInput } from '../dns/zone-input.js';

export class InputIndex {
  private readonly byName = new Map<string, Map<RRsetInput, string>>();

  add(inputs: readonly RRsetInput[], partition: string): void {
    for (const input of inputs) {
      let at = this.byName.get(input.name);
      if (!at) this.byName.set(input.name, (at = new Map()));
      at.set(input, partition);
    }
  }

  remove(inputs: readonly RRsetInput[]): void {
    for (const input of inputs) {
      const at = this.byName.get(input.name);
      if (!at) continue;
      at.delete(input);
      if (at.size === 0) this.byName.delete(input.name);
    }
  }

  /** remove(before) then add(after, partition), leaving in place the inputs both hold. */
  replace(before: readonly RRsetInput[], after: readonly RRsetInput[], partition: string): void {
    this.add(after, partition);
    const kept = new Set(after);
    this.remove(before.filter((input) => !kept.has(input)));
  }

  /** The inputs at `name`, each with its partition. */
  at(name: string): ReadonlyMap<RRsetInput, string> | undefined {
    return this.byName.get(name);
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
  if (x.object !== y.object || x.index !== y.index || x.since !== y.since || x.owner !== y.owner || x.locality !== y.locality) return false;
  return a.data.every((d, i) => rdataKey(d) === rdataKey(b.data[i] as typeof d));
}
