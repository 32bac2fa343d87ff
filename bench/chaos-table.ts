/** The results table of bench/chaos.ts: one row per scenario, cache profile, resolver and window. */
import type { ChaosResult } from '../test/harness/chaos-run.js';

const pct = (x: number | null): string => (x === null ? '-' : `${(x * 100).toFixed(2)} %`);
const ms = (x: number | undefined): string => (x === undefined ? '-' : x.toFixed(1));
const s = (x: number | undefined): string => (x === undefined ? '-' : x.toFixed(2));

export function chaosTable(results: ReadonlyArray<{ cache: string; result: ChaosResult }>): string {
  const lines = [
    '| scenario | resolver cache | asked | window | queries | accuracy | stale | wrong | missing | SERVFAIL | timeout | error | longest gap s | latency p50 / p99 ms | propagation p50 / p99 s | unseen |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const { cache, result } of results) {
    result.summary.servers.forEach((server, i) => {
      for (const w of server.windows) {
        if (w.window === 'run') continue;
        const g = w.grades;
        lines.push(
          `| ${result.scenario} | ${cache} | resolver ${i === 0 ? 'a (broken side)' : 'b'} | ${w.window} | ${w.queries} | ${pct(w.accuracy)} | ${g.stale} | ${g.wrong} | ${g.missing + g.unexpected} | ${g.servfail} | ${g.timeout} | ${g.error} | ${w.longestGapSeconds.toFixed(1)} | ${ms(w.latencyMs?.p50)} / ${ms(w.latencyMs?.p99)} | ${s(w.propagation.seconds?.p50)} / ${s(w.propagation.seconds?.p99)} | ${w.propagation.unseen} |`,
        );
      }
    });
  }
  return lines.join('\n');
}

/** One row per scenario and cache profile, for the docs: what the broken side's resolver saw during and after the chaos. */
export function compactChaosTable(results: ReadonlyArray<{ cache: string; result: ChaosResult }>): string {
  const lines = [
    '| scenario | resolver cache | during: accuracy | stale | SERVFAIL | timeouts | longest gap s | latency p99 ms | after: accuracy | propagation p50 / p99 s (during → after) | resolver b during |',
    '|---|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const { cache, result } of results) {
    const [a, b] = result.summary.servers;
    const win = (server: typeof a, name: string) => server?.windows.find((w) => w.window === name);
    const d = win(a, 'during');
    const after = win(a, 'after');
    const bd = win(b, 'during');
    if (!d || !after) continue;
    const prop = (w: typeof d) => `${s(w.propagation.seconds?.p50)} / ${s(w.propagation.seconds?.p99)}`;
    lines.push(
      `| ${result.scenario} | ${cache} | ${pct(d.accuracy)} | ${d.grades.stale} | ${d.grades.servfail} | ${d.grades.timeout} | ${d.longestGapSeconds.toFixed(1)} | ${ms(d.latencyMs?.p99)} | ${pct(after.accuracy)} | ${prop(d)} → ${prop(after)} | ${pct(bd?.accuracy ?? null)} |`,
    );
  }
  return lines.join('\n');
}
