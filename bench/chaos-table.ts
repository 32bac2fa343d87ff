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
