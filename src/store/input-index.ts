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
  const was = byName(before);
  const is = byName(after);
  const changed: string[] = [];
  for (const [name, list] of was) if (!sameInputs(list, is.get(name))) changed.push(name);
  for (const name of is.keys()) if (!was.has(name)) changed.push(name);
  return changed;
}

function byName(inputs: readonly RRsetInput[]): Map<string, RRsetInput[]> {
  const map = new Map<string, RRsetInput[]>();
  for (const r of inputs) {
    const list = map.get(r.name);
    if (list) list.push(r);
    else map.set(r.name, [r]);
  }
  return map;
}

/** Whether two lists hold the same inputs, in any order (an object has a few per name at most). */
function sameInputs(a: readonly RRsetInput[], b: readonly RRsetInput[] | undefined): boolean {
  if (!b || a.length !== b.length) return false;
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
