/** Percentiles of a sample, nearest-rank. */
export function percentiles(sample: readonly number[]): { p50: number; p99: number; max: number; n: number } {
  const s = [...sample].sort((a, b) => a - b);
  const at = (p: number) => s[Math.min(s.length - 1, Math.max(0, Math.ceil(s.length * p) - 1))] ?? NaN;
  return { p50: at(0.5), p99: at(0.99), max: s.at(-1) ?? NaN, n: s.length };
}
