/**
 * One chaos scenario, end to end: `crdns probe` (a real process) writes in
 * both clusters and asks both cluster resolvers; once it grades, the scenario
 * breaks cluster a for the chaos time, mends it, and the probe goes on until
 * the after-window is over. Chaos start and end reach the probe on its stdin
 * (`--events -`), so its summary has before/during/after windows and its plot
 * marks them. The probe runs until told to stop, timing.afterS after the
 * chaos ended, whatever breaking and mending took. Returns the probe's JSON
 * summary.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { RunSummary } from '../../src/probe/summary.js';
import { CRDNS_MAIN } from './crdns-process.js';
import { CHAOS_ZONE, type ChaosTopology } from './chaos-topology.js';
import { healed, type ChaosScenario } from './chaos-scenarios.js';

export interface ChaosTiming {
  beforeS: number;
  chaosS: number;
  afterS: number;
}

export interface ProbeLoad {
  /** Names per cluster that are updated (the talk: 50). */
  names: number;
  /** Queries per second, per resolver (the talk: 50). */
  qps: number;
  /** Seconds between updates, per cluster (the talk: 10). */
  updateEveryS: number;
  createDeleteEveryS: number;
  /** Record TTL: what a caching resolver may keep. */
  ttlS: number;
  timeoutMs: number;
}

export const TALK_LOAD: ProbeLoad = { names: 50, qps: 50, updateEveryS: 10, createDeleteEveryS: 30, ttlS: 5, timeoutMs: 1000 };

export interface ChaosResult {
  scenario: string;
  summary: RunSummary;
  /** The probe's text summary, as printed. */
  text: string;
  /** Where the plot was written, if asked for. */
  plot?: string;
}

export async function runScenario(topology: ChaosTopology, s: ChaosScenario, timing: ChaosTiming, load: ProbeLoad, options: { plotFile?: string; id?: string } = {}): Promise<ChaosResult> {
  await healed(topology);
  const dir = await mkdtemp(path.join(tmpdir(), 'crdns-chaos-run-'));
  const json = path.join(dir, 'summary.json');
  const [a, b] = topology.clusters;
  const args = [
    CRDNS_MAIN, 'probe', '--zone', CHAOS_ZONE, '--id', options.id ?? 'chaos',
    '--cluster', `a=${a.kubeconfig}`, '--cluster', `b=${b.kubeconfig}`,
    '--server', `udp://127.0.0.1:${a.resolverPort}`, '--server', `udp://127.0.0.1:${b.resolverPort}`,
    '--names', String(load.names), '--qps', String(load.qps), '--timeout', String(load.timeoutMs),
    '--update-every', String(load.updateEveryS), '--create-delete-every', String(load.createDeleteEveryS), '--ttl', String(load.ttlS),
    // Until SIGTERM: breaking and mending take longer than planned on a slow machine, and the
    // after-window must still be as long as asked, counted from the moment the chaos ended.
    '--duration', '0',
    '--events', '-', '--json', json, '--progress', '0',
  ];
  if (options.plotFile) args.push('--plot', options.plotFile);
  // The probe's own environment only: serve's CRDNS_* variables would apply to it too.
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('CRDNS_')));
  const child = spawn(process.execPath, args, { env, stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  try {
    const deadline = Date.now() + 120_000;
    while (!/grading from/.test(err)) {
      if (child.exitCode !== null) throw new Error(`crdns probe exited (${child.exitCode}) before grading:\n${err}`);
      if (Date.now() > deadline) throw new Error(`crdns probe did not start grading:\n${err}`);
      await sleep(100);
    }
    await sleep(timing.beforeS * 1000);
    const chaosStarted = Date.now();
    child.stdin.write(`start ${s.name}\n`);
    await s.inject(a, topology);
    await sleep(Math.max(0, timing.chaosS * 1000 - (Date.now() - chaosStarted)));
    await s.recover(a, topology);
    child.stdin.write(`end ${s.name}\n`);
    await sleep(timing.afterS * 1000);
    child.kill('SIGTERM');
    const code = await exited;
    if (code !== 0) throw new Error(`crdns probe exited with ${String(code)}:\n${err.slice(-4000)}`);
    const summary = JSON.parse(await readFile(json, 'utf8')) as RunSummary;
    return { scenario: s.name, summary, text: out, ...(options.plotFile ? { plot: options.plotFile } : {}) };
  } finally {
    if (child.exitCode === null) {
      child.kill('SIGKILL');
      await exited;
    }
    await rm(dir, { recursive: true, force: true });
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
