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
