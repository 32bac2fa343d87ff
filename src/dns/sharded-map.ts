/**
 * A read-only map from names to values that a new version can share with the
 * old one: entries live in 2^k shard maps chosen by a hash of the key, and
 * `with()` copies only the shards a change touches. A snapshot of 100k names
 * can then be followed by one that differs in three names at the cost of
 * copying a few hundred entries, while readers of the old one see nothing move.
 * A lookup costs one string hash (none while there is one shard) and one Map lookup.
 */

/** Entries per shard the map aims at: small enough to copy in microseconds, large enough to keep the shard array short. */
const TARGET_SHARD_SIZE = 128;

export class ShardedMap<V> implements ReadonlyMap<string, V> {
  private constructor(
    private readonly shards: readonly ReadonlyMap<string, V>[],
    private readonly mask: number,
    readonly size: number,
  ) {}

  static from<V>(entries: Iterable<readonly [string, V]>, sizeHint = 0): ShardedMap<V> {
    const count = shardCountFor(sizeHint);
    const shards = Array.from({ length: count }, () => new Map<string, V>());
    const mask = count - 1;
    let size = 0;
    for (const [k, v] of entries) {
      const shard = shards[mask === 0 ? 0 : hash(k) & mask] as Map<string, V>;
      if (!shard.has(k)) size++;
      shard.set(k, v);
    }
    return new ShardedMap(shards, mask, size);
  }

  get(key: string): V | undefined {
    return (this.shards[this.mask === 0 ? 0 : hash(key) & this.mask] as ReadonlyMap<string, V>).get(key);
  }

  has(key: string): boolean {
    return (this.shards[this.mask === 0 ? 0 : hash(key) & this.mask] as ReadonlyMap<string, V>).has(key);
  }

  /**
   * A new map with `changes` applied (undefined deletes), sharing every
   * untouched shard with this one. Grows the shard count (a full copy, rare:
   * each time the map doubles past its sizing) so shards stay small.
   */
  with(changes: ReadonlyMap<string, V | undefined>): ShardedMap<V> {
    if (changes.size === 0) return this;
    const shards = [...this.shards];
    const copied = new Set<number>();
    let size = this.size;
    for (const [k, v] of changes) {
      const i = this.mask === 0 ? 0 : hash(k) & this.mask;
      let shard = shards[i] as Map<string, V>;
      if (!copied.has(i)) {
        shard = new Map(shard);
        shards[i] = shard;
        copied.add(i);
      }
      if (v === undefined) {
        if (shard.delete(k)) size--;
      } else {
        if (!shard.has(k)) size++;
        shard.set(k, v);
      }
    }
    const next = new ShardedMap(shards, this.mask, size);
    return shardCountFor(size) > 2 * shards.length ? ShardedMap.from(next, size) : next;
  }

  *entries(): MapIterator<[string, V]> {
    for (const s of this.shards) yield* s.entries();
  }

  *keys(): MapIterator<string> {
    for (const s of this.shards) yield* s.keys();
  }

  *values(): MapIterator<V> {
    for (const s of this.shards) yield* s.values();
  }

  [Symbol.iterator](): MapIterator<[string, V]> {
    return this.entries();
  }

  forEach(fn: (value: V, key: string, map: ReadonlyMap<string, V>) => void): void {
    for (const [k, v] of this.entries()) fn(v, k, this);
  }
}

function shardCountFor(size: number): number {
  let n = 1;
  while (n * TARGET_SHARD_SIZE < size) n *= 2;
  return n;
}

/** FNV-1a over UTF-16 code units: cheap, and spreads names that differ in any one label. */
function hash(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}
