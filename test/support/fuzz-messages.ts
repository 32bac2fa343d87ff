/** Seeded random and mutated DNS messages, shared by the in-process and over-the-wire fuzz tests. */

/** mulberry32: small, fast, good enough to spread mutations; seeded for reproduction. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function mutate(base: Buffer, r: () => number): Buffer {
  const pick = (n: number) => Math.floor(r() * n);
  const strategy = pick(8);
  const b = Buffer.from(base);
  switch (strategy) {
    case 0: // flip bits
      for (let i = 0, n = 1 + pick(4); i < n; i++) b[pick(b.length)] ^= 1 << pick(8);
      return b;
    case 1: // random bytes in place
      for (let i = 0, n = 1 + pick(6); i < n; i++) b[pick(b.length)] = pick(256);
      return b;
    case 2: // truncate
      return b.subarray(0, pick(b.length));
    case 3: // append garbage
      return Buffer.concat([b, Buffer.from(Array.from({ length: 1 + pick(40) }, () => pick(256)))]);
    case 4: // random header counts
      b.writeUInt16BE(pick(4), 4 + 2 * pick(4));
      return b;
    case 5: { // compression pointer somewhere
      const at = 12 + pick(Math.max(1, b.length - 13));
      if (at + 1 < b.length) {
        b[at] = 0xc0 | pick(64);
        b[at + 1] = pick(256);
      }
      return b;
    }
    case 6: // pure noise
      return Buffer.from(Array.from({ length: pick(600) }, () => pick(256)));
    default: { // label length lies
      const at = 12 + pick(Math.max(1, b.length - 12));
      if (at < b.length) b[at] = pick(2) ? pick(64) : 64 + pick(192);
      return b;
    }
  }
}

