/**
 * Fuzzing manifests at scale. Part one: 100,000 (by default) random and
 * mutated manifest files through `crdns check` in-process (a worker thread,
 * watched for hangs). Part two: some thousands of them through the live
 * folder of a real `crdns serve` process, one at a time next to the examples,
 * each followed by SIGHUP and the rescan it triggers. Passes when nothing
 * crashed or hung, memory stayed bounded, the served process kept answering,
 * and once the fuzz file is gone it answers exactly as before.
 *
 *   node dist/bench/fuzz-manifests.js [--inputs 100000] [--live 3000] [--seed 11]
 *                                     [--hang-ms 60000] [--max-rss-mib 1536] [--heap-mib 512]
 *
 * Memory is bounded by construction in part one: the checking worker's old
 * generation is capped at --heap-mib, so anything kept from input to input
 * would end the run with ERR_WORKER_OUT_OF_MEMORY, and its heap after a full
 * collection is sampled every 1,000 inputs. RSS is reported, and bounded by
 * --max-rss-mib, for the checking process and for `crdns serve`.
 */
import { spawn } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { copyFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, tmpdir, totalmem } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Worker } from 'node:worker_threads';
import { queryClient } from '../src/cli/query.js';
import { presentRecord } from '../src/dns/presentation.js';
import { CRDNS_MAIN } from '../test/harness/crdns-process.js';
import { repoRoot } from '../test/harness/peers.js';
import { ManifestFuzzer } from './fuzz-manifest-inputs.js';
import type { ManifestWorkerData, ManifestWorkerResult } from './fuzz-manifests-worker.js';

const { values } = parseArgs({
  options: {
    inputs: { type: 'string', default: '100000' },
    live: { type: 'string', default: '3000' },
    seed: { type: 'string', default: '11' },
    'hang-ms': { type: 'string', default: '60000' },
    'max-rss-mib': { type: 'string', default: '1536' },
    'heap-mib': { type: 'string', default: '512' },
  },
});
const seed = Number(values.seed);
const hangMs = Number(values['hang-ms']);
const maxRssMiB = Number(values['max-rss-mib']);
const heapMiB = Number(values['heap-mib']);

const EXAMPLES = path.join(repoRoot(), 'examples', 'manifests');
const ZONES = ['5gc.mnc001.mcc001.3gppnetwork.org', 'ims.mnc001.mcc001.3gppnetwork.org', '0.10.in-addr.arpa', '1.0.0.0.0.0.0.0.0.0.d.f.ip6.arpa'];
const examples = readdirSync(EXAMPLES).filter((n) => /\.(ya?ml|json)$/.test(n)).map((name) => ({ name, text: readFileSync(path.join(EXAMPLES, name), 'utf8') }));

function rssMiB(pid: number | 'self'): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

const failures: string[] = [];

async function inProcess(count: number): Promise<{ result?: ManifestWorkerResult; seconds: number; maxRss: number }> {
  const dir = await mkdtemp(path.join(tmpdir(), 'crdns-fuzz-check-'));
  const data: ManifestWorkerData = { seed, count, dir, zones: ZONES, examples };
  const worker = new Worker(path.join(path.dirname(fileURLToPath(import.meta.url)), 'fuzz-manifests-worker.js'), {
    workerData: data,
    resourceLimits: { maxOldGenerationSizeMb: heapMiB },
  });
  const started = Date.now();
  let maxRss = 0;
  let at = -1;
  let lastBeat = Date.now();
  const result = await new Promise<ManifestWorkerResult | undefined>((resolve) => {
    const watchdog = setInterval(() => {
      maxRss = Math.max(maxRss, rssMiB('self'));
      if (Date.now() - lastBeat > hangMs) {
        clearInterval(watchdog);
        failures.push(`check hung over ${hangMs} ms on input ${at} (regenerate: seed ${seed}, index ${at})`);
        void worker.terminate().then(() => resolve(undefined));
      }
    }, 250);
    worker.on('message', (m: { type: 'at'; index: number } | { type: 'done'; result: ManifestWorkerResult }) => {
      lastBeat = Date.now();
      if (m.type === 'at') {
        at = m.index;
        // A run takes an hour or more: show it is moving.
        if (at > 0 && at % 5000 === 0) console.error(`checked ${at.toLocaleString('en')} of ${count.toLocaleString('en')} (${((Date.now() - started) / 1000).toFixed(0)} s)`);
      }
      else {
        clearInterval(watchdog);
        resolve(m.result);
      }
    });
    worker.on('error', (err) => {
      clearInterval(watchdog);
      const oom = (err as NodeJS.ErrnoException).code === 'ERR_WORKER_OUT_OF_MEMORY';
      failures.push(oom ? `check ran out of its ${heapMiB} MiB heap on input ${at} (regenerate: seed ${seed}, index ${at})` : `check worker died on input ${at}: ${err.stack ?? String(err)}`);
      resolve(undefined);
    });
  });
  await rm(dir, { recursive: true, force: true });
  if (result) for (const c of result.crashes.slice(0, 5)) failures.push(`check threw on input ${c.index} (${c.kind}): ${c.error}`);
  if (maxRss > maxRssMiB) failures.push(`in-process RSS ${maxRss.toFixed(0)} MiB over the bound of ${maxRssMiB} MiB`);
  return { ...(result ? { result } : {}), seconds: (Date.now() - started) / 1000, maxRss };
}

interface Served {
  pid: number;
  address: string;
  rescans: () => number;
  sourceErrors: () => number;
  exited: () => boolean;
  stop: () => Promise<number | null>;
}

async function serve(dir: string): Promise<Served> {
  const child = spawn(process.execPath, [CRDNS_MAIN, 'serve', ...ZONES.flatMap((z) => ['--zone', z]), '--manifests', dir, '--listen', '127.0.0.1:0'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let rescans = 0;
  let sourceErrors = 0;
  let address: string | undefined;
  let pending = '';
  // Counted line by line: thousands of rescans log far too much to keep.
  child.stderr.on('data', (d: Buffer) => {
    const lines = (pending + d.toString()).split('\n');
    pending = lines.pop() ?? '';
    for (const l of lines) {
      if (l.includes('"SIGHUP: manifest folder rescanned"')) rescans++;
      else if (l.includes('"manifest source error"')) sourceErrors++;
      else if (!address && l.includes('"grpc listening"')) address = (JSON.parse(l) as { addresses: string[] }).addresses[0];
    }
  });
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const deadline = Date.now() + 30_000;
  while (!address) {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error('crdns serve did not start');
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    pid: child.pid as number,
    address,
    rescans: () => rescans,
    sourceErrors: () => sourceErrors,
    exited: () => child.exitCode !== null || child.signalCode !== null,
    stop: async () => {
      child.kill('SIGTERM');
      return exit;
    },
  };
}

/** Every answer the examples give to a fixed set of questions, as sorted presentation lines. */
async function answers(address: string): Promise<string> {
  const names = ['nrf.5gc.mnc001.mcc001.3gppnetwork.org', 'pcscf.ims.mnc001.mcc001.3gppnetwork.org', '_sip._udp.pcscf.ims.mnc001.mcc001.3gppnetwork.org', 'pcscf1.ims.mnc001.mcc001.3gppnetwork.org', 'ims.mnc001.mcc001.3gppnetwork.org'];
  const client = queryClient(address, 5000);
  try {
    const out: string[] = [];
    for (const n of names) {
      for (const t of ['A', 'AAAA', 'SRV', 'NAPTR', 'TXT', 'MX', 'NS']) {
        const r = await client.ask(n, t);
        out.push(`${n} ${t} rcode=${(r.flags ?? 0) & 0xf}`, ...(r.answers ?? []).map((a) => presentRecord(a)).sort());
      }
    }
    return out.join('\n');
  } finally {
    client.close();
  }
}

async function live(count: number): Promise<{ seconds: number; maxRss: number; inputs: number; unanswered: number; slowestProbeMs: number }> {
  const dir = await mkdtemp(path.join(tmpdir(), 'crdns-fuzz-live-'));
  for (const e of examples) await copyFile(path.join(EXAMPLES, e.name), path.join(dir, e.name));
  const served = await serve(dir);
  const baseline = await answers(served.address);
  const fuzzer = new ManifestFuzzer(seed + 1, examples);
  const started = Date.now();
  let maxRss = rssMiB(served.pid);
  let unanswered = 0;
  let slowestProbeMs = 0;
  let done = 0;
  const rescan = async (what: string): Promise<boolean> => {
    const before = served.rescans();
    process.kill(served.pid, 'SIGHUP');
    const deadline = Date.now() + hangMs;
    while (served.rescans() === before) {
      if (served.exited()) return (failures.push(`crdns serve exited during ${what}`), false);
      if (Date.now() > deadline) return (failures.push(`no rescan within ${hangMs} ms after ${what}`), false);
      await new Promise((r) => setTimeout(r, 2));
    }
    return true;
  };
  let current: string | undefined;
  for (; done < count; done++) {
    const input = fuzzer.next();
    // zz- sorts after the examples, so a fuzzed copy of an example object is the duplicate, not the original.
    const file = path.join(dir, `zz-${input.name}`);
    if (current && current !== file) await rm(current, { force: true });
    await writeFile(file, input.bytes);
    current = file;
    if (!(await rescan(`live input ${done} (${input.kind})`))) break;
    if (done % 50 === 0) {
      maxRss = Math.max(maxRss, rssMiB(served.pid));
      const client = queryClient(served.address, 5000);
      const t0 = Date.now();
      await client.ask('nrf.5gc.mnc001.mcc001.3gppnetwork.org', 'A').catch(() => unanswered++).finally(() => client.close());
      slowestProbeMs = Math.max(slowestProbeMs, Date.now() - t0);
    }
  }
  if (current) await rm(current, { force: true });
  await rescan('removing the fuzz file');
  maxRss = Math.max(maxRss, rssMiB(served.pid));
  if (!served.exited()) {
    const after = await answers(served.address);
    if (after !== baseline) failures.push('after the fuzz file was removed, crdns does not answer as it did before');
  }
  if (served.sourceErrors() > 0) failures.push(`${served.sourceErrors()} "manifest source error" lines (the store refused an update)`);
  if (unanswered > 0) failures.push(`${unanswered} probe queries got no reply during the live run`);
  if (maxRss > maxRssMiB) failures.push(`crdns serve RSS ${maxRss.toFixed(0)} MiB over the bound of ${maxRssMiB} MiB`);
  const code = served.exited() ? 'exited early' : await served.stop();
  if (code !== 0) failures.push(`crdns serve stopped with ${String(code)}`);
  await rm(dir, { recursive: true, force: true });
  return { seconds: (Date.now() - started) / 1000, maxRss, inputs: done, unanswered, slowestProbeMs };
}

function heapSpan(samples: readonly number[]): string {
  if (samples.length === 0) return '-';
  return `first ${samples[0]} / max ${Math.max(...samples)} / last ${samples[samples.length - 1]} MiB`;
}

async function main(): Promise<number> {
  console.log(`fuzz-manifests, ${new Date().toISOString()}, ${cpus().length} × ${cpus()[0]?.model ?? '?'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node.js ${process.version}, seed ${seed}`);
  const a = await inProcess(Number(values.inputs));
  // Printed before part two starts: an hour of part one must not be lost to a failure there.
  const r = a.result;
  if (r) {
    console.log(`in-process (crdns check): ${r.inputs.toLocaleString('en')} inputs, ${(r.bytes / 2 ** 20).toFixed(0)} MiB, ${a.seconds.toFixed(0)} s, slowest ${r.maxMs.toFixed(0)} ms, max RSS ${a.maxRss.toFixed(0)} MiB, heap capped at ${heapMiB} MiB, heap after GC every 1,000 inputs ${heapSpan(r.heapAfterGcMiB)}, exit status ${JSON.stringify(r.exits)}, ${r.crashes.length} crashes`);
    console.log(`\n| mutation | inputs | slowest check (ms) |\n|---|---|---|`);
    for (const [k, [n, ms]] of Object.entries(r.kinds).sort((x, y) => y[1][0] - x[1][0])) console.log(`| ${k} | ${n.toLocaleString('en')} | ${ms.toFixed(0)} |`);
  } else {
    console.log(`in-process (crdns check): no result; ${failures.join('; ')}`);
  }
  const b = await live(Number(values.live));
  console.log(`\nlive folder (crdns serve, SIGHUP after each): ${b.inputs.toLocaleString('en')} inputs, ${b.seconds.toFixed(0)} s, crdns max RSS ${b.maxRss.toFixed(0)} MiB, ${b.unanswered} unanswered probes, slowest probe ${b.slowestProbeMs} ms`);
  console.log(failures.length === 0 ? 'PASS' : `FAIL:\n- ${failures.join('\n- ')}`);
  return failures.length === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
