/**
 * The resilience study, one command per scenario (the talk's TC1-TC4):
 *
 *   npm run chaos -- NAME|all [--cache off|5s|both] [--before 30] [--chaos 120] [--after 60]
 *                    [--names 50] [--qps 50] [--update-every 10] [--out DIR]
 *
 * Starts the topology of test/harness/chaos-topology.ts (two clusters, real
 * processes on loopback), runs `crdns probe` through both cluster resolvers,
 * breaks cluster a as the scenario says, and prints, per scenario and cache
 * profile, before/during/after: accuracy, SERVFAIL, timeouts, longest gap,
 * latency p50/p99, propagation p50/p99. With --out, each run's JSON summary
 * and SVG plot are written there. Defaults are the talk's: 2 minutes of chaos,
 * 50 names per cluster, 50 queries/s, an update every 10 s.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { runScenario, TALK_LOAD, type ChaosResult } from '../test/harness/chaos-run.js';
import { SCENARIOS, scenario } from '../test/harness/chaos-scenarios.js';
import { startTopology, type CacheProfile } from '../test/harness/chaos-topology.js';
import { chaosTable, compactChaosTable } from './chaos-table.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    cache: { type: 'string', default: 'both' },
    before: { type: 'string', default: '30' },
    chaos: { type: 'string', default: '120' },
    after: { type: 'string', default: '60' },
    names: { type: 'string', default: String(TALK_LOAD.names) },
    qps: { type: 'string', default: String(TALK_LOAD.qps) },
    'update-every': { type: 'string', default: String(TALK_LOAD.updateEveryS) },
    out: { type: 'string' },
  },
});

async function main(): Promise<void> {
  const which = positionals[0];
  if (!which) {
    console.error(`usage: npm run chaos -- NAME|all [flags]\nscenarios:\n${SCENARIOS.map((s) => `  ${s.name.padEnd(26)} ${s.description}`).join('\n')}`);
    process.exit(2);
  }
  const scenarios = which === 'all' ? SCENARIOS : [scenario(which)];
  const profiles: CacheProfile[] = values.cache === 'both' ? ['off', '5s'] : [values.cache as CacheProfile];
  const timing = { beforeS: Number(values.before), chaosS: Number(values.chaos), afterS: Number(values.after) };
  const load = { ...TALK_LOAD, names: Number(values.names), qps: Number(values.qps), updateEveryS: Number(values['update-every']) };
  if (values.out) await mkdir(values.out, { recursive: true });
  const results: Array<{ cache: CacheProfile; result: ChaosResult }> = [];
  for (const cache of profiles) {
    const topology = await startTopology({ cache, snapshots: true });
    try {
      for (const s of scenarios) {
        console.error(`${new Date().toISOString()} ${s.name}, resolver cache ${cache}: ${s.description}`);
        const plotFile = values.out ? path.join(values.out, `${s.name}-cache-${cache}.svg`) : undefined;
        const result = await runScenario(topology, s, timing, load, plotFile ? { plotFile } : {});
        if (values.out) await writeFile(path.join(values.out, `${s.name}-cache-${cache}.json`), JSON.stringify(result.summary, null, 2));
        results.push({ cache, result });
      }
    } finally {
      await topology.stop();
    }
  }
  console.log(`\nChaos, ${new Date().toISOString()}, ${cpus().length} × ${cpus()[0]?.model ?? '?'}; before ${timing.beforeS} s, chaos ${timing.chaosS} s, after ${timing.afterS} s; ${load.names} names per cluster, ${load.qps} q/s per resolver, an update every ${load.updateEveryS} s per cluster`);
  console.log(chaosTable(results));
  console.log(`\n${compactChaosTable(results)}`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
