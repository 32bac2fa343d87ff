/** Canonical names to uncompressed wire form. */

/**
 * Encodes a canonical name as wire labels. A "\" escapes the next character
 * (the query parser's form for a "." or "\" inside a label), so names taken
 * from a question encode back to the same labels.
 */
export function encodeName(name: string): Buffer {
  if (name === '') return Buffer.from([0]);
  const buf = Buffer.allocUnsafe(name.length + 2);
  return buf.subarray(0, writeName(name, buf, 0));
}

/** encodeName into `buf` at `at` (room for name.length + 2 bytes); returns where the name ends. */
export function writeName(name: string, buf: Buffer, at: number): number {
  if (name === '') {
    buf[at] = 0;
    return at + 1;
  }
  let out = at;
  let lenAt = out++;
  for (let i = 0; i < name.length; i++) {
    let c = name.charCodeAt(i);
    if (c === 46) {
      buf[lenAt] = out - lenAt - 1;
      lenAt = out++;
      continue;
    }
    if (c === 92 && i + 1 < name.length) c = name.charCodeAt(++i);
    buf[out++] = c & 0xff;
  }
  buf[lenAt] = out - lenAt - 1;
  buf[out++] = 0;
  return out;
}
