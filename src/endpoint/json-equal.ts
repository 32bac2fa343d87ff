/**
 * Equality of two values decoded from JSON or YAML (plain objects, arrays,
 * strings, numbers, booleans, null), compared in place. The store compares
 * every new version of an object with the one it holds; doing it by
 * serialising both cost a string the size of the object on every update.
 */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!jsonEqual(a[i], b[i])) return false;
    return true;
  }
  if (Array.isArray(b)) return false;
  const x = a as Record<string, unknown>;
  const y = b as Record<string, unknown>;
  let count = 0;
  for (const k in x) {
    if (!Object.hasOwn(x, k)) continue;
    // An absent key and one holding undefined serialise alike (both vanish from JSON).
    if (x[k] === undefined) continue;
    if (!jsonEqual(x[k], y[k])) return false;
    count++;
  }
  for (const k in y) if (Object.hasOwn(y, k) && y[k] !== undefined) count--;
  return count === 0;
}
