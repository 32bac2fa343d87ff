/**
 * Every object's RRset inputs by owner name, each with the partition it came
 * from: what the zone builder needs to rebuild one name from all its inputs,
 * and the store to find the objects a change at a name may concern.
 */
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
  const keys = new Map<string, string[]>();
  for (const r of before) push(keys, r.name, `-${inputKey(r)}`);
  for (const r of after) push(keys, r.name, `+${inputKey(r)}`);
  const changed: string[] = [];
  for (const [name, list] of keys) {
    const was = list.filter((k) => k.startsWith('-')).map((k) => k.slice(1)).sort();
    const is = list.filter((k) => k.startsWith('+')).map((k) => k.slice(1)).sort();
    if (was.length !== is.length || was.some((k, i) => k !== is[i])) changed.push(name);
  }
  return changed;
}

function push(map: Map<string, string[]>, key: string, value: string): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

function inputKey(r: RRsetInput): string {
  const o = r.origin;
  return JSON.stringify([r.type, r.ttl, r.data, o.object, o.index, o.since, o.owner ?? null, o.locality ?? null]);
}
