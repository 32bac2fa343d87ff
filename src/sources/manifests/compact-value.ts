/**
 * A parsed manifest value made as small as its content, for what is kept
 * after parsing (an object's endpoints live as long as the object).
 *
 * The YAML parser leaves two kinds of slack that together are most of a kept
 * endpoint's size (about 900 bytes for a one-target endpoint, 500 after): its
 * arrays grow by push and keep room for 16 more elements, and its strings are
 * built by concatenation, a chain of V8 cons strings per scalar (a plain
 * scalar is instead a slice that keeps the whole file's text alive). Arrays
 * are copied to their length; strings are copied flat, through JSON, the
 * quickest copy V8 offers (about 1 µs a string; interning them as property
 * keys also shares repeated values but takes twice as long, for 1 % less).
 */
export function compactValue(value: unknown): unknown {
  if (typeof value === 'string') return flatString(value);
  if (Array.isArray(value)) return value.map(compactValue);
  if (typeof value === 'object' && value !== null && !Buffer.isBuffer(value)) {
    const record = value as Record<string, unknown>;
    for (const key of Object.keys(record)) record[key] = compactValue(record[key]);
  }
  return value;
}

function flatString(s: string): string {
  return JSON.parse(JSON.stringify(s)) as string;
}
