/** Canonical names to and from uncompressed wire form. */

/** Encodes a canonical name (labels of letters, digits, "-", "_", "*") as wire labels. */
export function encodeName(name: string): Buffer {
  if (name === '') return Buffer.from([0]);
  const buf = Buffer.allocUnsafe(name.length + 2);
  let out = 0;
  let start = 0;
  for (let i = 0; i <= name.length; i++) {
    if (i === name.length || name.charCodeAt(i) === 46) {
      const len = i - start;
      buf[out++] = len;
      buf.write(name.slice(start, i), out, 'latin1');
      out += len;
      start = i + 1;
    }
  }
  buf[out++] = 0;
  return buf.subarray(0, out);
}
