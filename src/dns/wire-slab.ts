/**
 * Where RRsets' wire bytes live: packed side by side in slabs of 16 KiB
 * rather than one Buffer each. A Buffer is a ~100-byte object besides its
 * bytes, and a telco zone has about one RRset per record, so a Buffer per
 * RRset costs more than the records' bytes; an RRset instead holds its slab
 * and its place in it.
 *
 * A slab is freed when no RRset in it is left. Snapshots share unchanged
 * RRsets, so a slab filled at start-up stays nearly full; under churn a slab
 * can be kept by a few survivors, at most 16 KiB each (Node's own Buffer pool
 * has the same property at 8 KiB).
 */
const SLAB_BYTES = 16 * 1024;
/** Larger RRsets get a buffer of their own, so one never leaves most of a slab unused. */
const OWN_BUFFER_BYTES = SLAB_BYTES / 4;

export interface WirePlace {
  readonly slab: Buffer;
  readonly offset: number;
}

let slab = Buffer.allocUnsafeSlow(SLAB_BYTES);
let used = 0;

/** Room for `length` bytes, which the caller fills at once and never changes. */
export function reserveWire(length: number): WirePlace {
  if (length > OWN_BUFFER_BYTES) return { slab: Buffer.allocUnsafeSlow(length), offset: 0 };
  if (used + length > SLAB_BYTES) {
    slab = Buffer.allocUnsafeSlow(SLAB_BYTES);
    used = 0;
  }
  const place = { slab, offset: used };
  used += length;
  return place;
}
