/**
 * crdns next to the path it replaces, through stock CoreDNS with no cache,
 * driven by dnsperf (#14 goals 4 to 6). Every peer is started here, on the
 * same synthetic zone:
 *
 *   crdns           CoreDNS `grpc` → crdns (--manifests), once per --workers
 *                   count (N > 1: one socket per worker, policy round_robin)
 *   talk's path     CoreDNS `forward` → PowerDNS (bind backend, its defaults)
 *   CoreDNS file    CoreDNS `file` (the same CoreDNS answering by itself)
 *   NSD             NSD alone (no CoreDNS in front), for scale
 *
 * Throughput: dnsperf at full speed for --seconds, --repeat times per target
 * in turns (default 3), the median reported. Latency: dnsperf at a
 * fixed rate (--rates, default 1000 and 10000 q/s) with -v, which prints
 * every reply's latency; p50/p99/p99.9 are taken from those lines (dnsperf
 * itself prints only the average). The ratios to the talk's path come last.
 *
 *   node dist/bench/talk-path.js [--hosts 1000] [--seconds 10] [--rates 1000,10000] [--clients 4] [--outstanding 200] [--workers 1,2] [--repeat 3]
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { startCoreDNS, type CorednsProcess } from '../test/harness/coredns.js';
import { startCrdns, type CrdnsProcess } from '../test/harness/crdns-process.js';
import { startNsd, type NsdProcess } from '../test/harness/nsd.js';
import { startPdns, type PdnsProcess } from '../test/harness/pdns.js';
import { syntheticZone, toManifest, toZoneFile } from './synthetic-zone.js';
import { treeCpuSeconds } from './process-tree.js';
import { dnsperf, field } from './dnsperf.js';

const { values } = parseArgs({
  options: {
    hosts: { type: 'string', default: '1000' },
    seconds: { type: 'string', default: '10' },
    rates: { type: 'string', default: '1000,10000' },
    clients: { type: 'string', default: '4' },
    outstanding: { type: 'string', default: '200' },
    workers: { type: 'string', default: '1,2' },
    repeat: { type: 'string', default: '3' },
  },
});
const ZONE = 'bench.test';
const seconds = Number(values.seconds);
const rates = (values.rates as string).split(',').map(Number);
const workerCounts = (values.workers as string).split(',').map(Number);

interface Target {
  label: string;
  port: number;
  /** The processes answering, front (CoreDNS) first, then the backend, whose CPU time is measured. */
  parts: Array<{ name: string; pid: number }>;
}

interface Throughput {
  /** The median of the --repeat runs. */
  qps: number;
  /** Every run's qps, in run order. */
  runs: number[];
  lost: number;
  sent: number;
  /** CPU seconds each of the target's parts used during the runs, by part name. */
  cpu: Record<string, number>;
}

interface Latency {
  rate: number;
  replies: number;
  lost: number;
  p50: number;
  p99: number;
  p999: number;
}


async function throughput(t: Target, queries: string): Promise<Throughput> {
  const before = t.parts.map((p) => treeCpuSeconds(p.pid));
  const out = await dnsperf(['-s', '127.0.0.1', '-p', String(t.port), '-d', queries, '-l', String(seconds), '-c', String(values.clients), '-T', '2', '-q', String(values.outstanding), '-t', '2']);
  const cpu = Object.fromEntries(t.parts.map((p, i) => [p.name, treeCpuSeconds(p.pid) - (before[i] as number)]));
  const qps = field(out, /Queries per second:\s+([\d.]+)/);
  return { qps, runs: [qps], sent: field(out, /Queries sent:\s+(\d+)/), lost: field(out, /Queries lost:\s+(\d+)/), cpu };
}

async function latency(t: Target, queries: string, rate: number): Promise<Latency> {
  const ms: number[] = [];
  // "> NOERROR name type 0.000123": the last field is the latency in seconds.
  const out = await dnsperf(['-s', '127.0.0.1', '-p', String(t.port), '-d', queries, '-l', String(seconds), '-c', '1', '-Q', String(rate), '-q', '1000', '-t', '2', '-v'], (line) => {
    const s = Number(line.slice(line.lastIndexOf(' ') + 1));
    if (Number.isFinite(s)) ms.push(s * 1000);
  });
  ms.sort((a, b) => a - b);
  const at = (p: number) => ms[Math.min(ms.length - 1, Math.max(0, Math.ceil(ms.length * p) - 1))] ?? NaN;
  return { rate, replies: ms.length, lost: field(out, /Queries lost:\s+(\d+)/), p50: at(0.5), p99: at(0.99), p999: at(0.999) };
}

async function main(): Promise<void> {
  const dir = await mkdtemp(path.join(tmpdir(), 'crdns-talk-path-'));
  const zone = syntheticZone(ZONE, Number(values.hosts));
  const manifests = path.join(dir, 'manifests');
  await mkdir(manifests);
  await writeFile(path.join(manifests, 'bench.yaml'), toManifest(zone));
  const zoneFile = path.join(dir, `db.${ZONE}`);
  await writeFile(zoneFile, toZoneFile(zone, 1));
  const queries = path.join(dir, 'queries.txt');
  await writeFile(queries, zone.queries.map(([n, t]) => `${n} ${t}`).join('\n') + '\n');

  const started: Array<CorednsProcess | CrdnsProcess | NsdProcess | PdnsProcess> = [];
  try {
    const crdnsByWorkers: Array<{ workers: number; crdns: CrdnsProcess }> = [];
    for (const workers of workerCounts) {
      const listen = workers > 1 ? [`unix://${path.join(dir, `c${workers}-w{worker}.sock`)}`] : [`unix://${path.join(dir, 'c1.sock')}`];
      const crdns = await startCrdns({ zones: [ZONE], manifests, listen, args: workers > 1 ? ['--workers', String(workers)] : [] });
      started.push(crdns);
      crdnsByWorkers.push({ workers, crdns });
    }
    const pdns = await startPdns({ zones: [{ name: ZONE, file: zoneFile }] });
    started.push(pdns);
    const nsd = await startNsd({ zones: [{ name: ZONE, file: zoneFile }] });
    started.push(nsd);
    const front = async (plugin: string) => {
      const c = await startCoreDNS({ corefileText: `${ZONE}:{$COREDNS_PORT} {\n    bind {$COREDNS_BIND}\n    ${plugin}\n}\n` });
      started.push(c);
      return c;
    };
    const behind = async (label: string, plugin: string, backend?: { name: string; pid: number }): Promise<Target> => {
      const c = await front(plugin);
      return { label, port: c.port, parts: [{ name: 'CoreDNS', pid: c.child.pid as number }, ...(backend ? [backend] : [])] };
    };
    const ourTargets: Target[] = [];
    for (const { workers, crdns } of crdnsByWorkers) {
      const plugin = workers > 1 ? `grpc . ${crdns.addresses.join(' ')} {\n        policy round_robin\n    }` : `grpc . ${crdns.addresses[0] as string}`;
      ourTargets.push(await behind(`crdns, ${workers} worker${workers > 1 ? 's' : ''} (CoreDNS grpc → crdns)`, plugin, { name: 'crdns', pid: crdns.child.pid as number }));
    }
    const talkTarget = await behind("talk's path (CoreDNS forward → PowerDNS)", `forward . 127.0.0.1:${pdns.port}`, { name: 'PowerDNS', pid: pdns.child.pid as number });
    const targets: Target[] = [
      ...ourTargets,
      talkTarget,
      await behind('CoreDNS file', `file ${zoneFile}`),
      { label: 'NSD alone', port: nsd.port, parts: [{ name: 'NSD', pid: nsd.child.pid as number }] },
    ];
    const tput = new Map<string, Throughput>();
    const lat = new Map<string, Latency[]>();
    // Throughput runs take turns over the targets, --repeat rounds, and the median counts: on a shared
    // virtual machine one run can be a third off, and a neighbour's burst then hits every target alike.
    const repeat = Math.max(1, Number(values.repeat));
    for (let round = 0; round < repeat; round++) {
      for (const t of targets) {
        const r = await throughput(t, queries);
        const prev = tput.get(t.label);
        const runs = [...(prev?.runs ?? []), r.qps];
        const sorted = [...runs].sort((a, b) => a - b);
        const cpu = { ...prev?.cpu };
        for (const [k, v] of Object.entries(r.cpu)) cpu[k] = (cpu[k] ?? 0) + v;
        tput.set(t.label, { qps: sorted[Math.floor((sorted.length - 1) / 2)] as number, runs, sent: (prev?.sent ?? 0) + r.sent, lost: (prev?.lost ?? 0) + r.lost, cpu });
        console.error(`${t.label}: ${r.qps.toFixed(0)} qps (round ${round + 1})`);
      }
    }
    for (const t of targets) {
      const rows: Latency[] = [];
      for (const r of rates) rows.push(await latency(t, queries, r));
      lat.set(t.label, rows);
    }
    const cpu = cpus()[0]?.model ?? 'unknown CPU';
    console.log(`\nThrough stock CoreDNS, cache off; dnsperf on the same machine; ${Number(values.hosts).toLocaleString('en')} hosts (${zone.records.length.toLocaleString('en')} records), ${zone.queries.length.toLocaleString('en')} queries in a loop (hits, NODATA, NXDOMAIN, SRV, NAPTR, CNAME)`);
    console.log(`${new Date().toISOString()}, ${cpus().length} × ${cpu}, load average ${loadavg().map((l) => l.toFixed(1)).join(' ')} at the end\n`);
    console.log(`| path | qps, median of ${repeat} (${seconds} s each, ${values.clients} clients, ${values.outstanding} outstanding) | every run | lost | ${rates.map((r) => `${r.toLocaleString('en')} q/s: p50 / p99 / p99.9 ms (lost)`).join(' | ')} |`);
    console.log(`|---|---|---|---|${rates.map(() => '---|').join('')}`);
    for (const t of targets) {
      const q = tput.get(t.label) as Throughput;
      const cells = (lat.get(t.label) ?? []).map((l) => `${l.p50.toFixed(2)} / ${l.p99.toFixed(2)} / ${l.p999.toFixed(2)} (${l.lost})`);
      console.log(`| ${t.label} | ${Math.round(q.qps).toLocaleString('en')} | ${q.runs.map((x) => Math.round(x).toLocaleString('en')).join(', ')} | ${q.lost} | ${cells.join(' | ')} |`);
    }
    // CPU per answered query says what each part would answer with a core of its own, which this
    // 2-core machine, shared with the load generator, cannot show directly.
    console.log(`\nCPU per answered query during the throughput runs (user + system, /proc), and what one core of each part's time answers:\n`);
    console.log('| path | CoreDNS µs/query | backend µs/query | queries per CPU-second: CoreDNS / backend |');
    console.log('|---|---|---|---|');
    for (const t of targets) {
      const q = tput.get(t.label) as Throughput;
      const answered = q.sent - q.lost;
      const us = (name: string) => ((q.cpu[name] ?? NaN) / answered) * 1e6;
      const [frontPart, backPart] = t.parts[0]?.name === 'CoreDNS' ? [t.parts[0], t.parts[1]] : [undefined, t.parts[0]];
      const f = frontPart ? us(frontPart.name) : NaN;
      const b = backPart ? us(backPart.name) : NaN;
      const per = (x: number) => (Number.isFinite(x) ? Math.round(1e6 / x).toLocaleString('en') : '–');
      console.log(`| ${t.label} | ${Number.isFinite(f) ? f.toFixed(1) : '–'} | ${Number.isFinite(b) ? `${b.toFixed(1)} (${backPart?.name})` : '–'} | ${per(f)} / ${per(b)} |`);
    }
    const talk = tput.get(talkTarget.label) as Throughput;
    const talkLat = lat.get(talkTarget.label) ?? [];
    console.log('');
    for (const t of ourTargets) {
      const ours = tput.get(t.label) as Throughput;
      const ourLat = lat.get(t.label) ?? [];
      console.log(`ratios, ${t.label.replace(/ \(.*/, '')} / talk's path: throughput ${(ours.qps / talk.qps).toFixed(2)}×; ${rates.map((r, i) => `p99 at ${r.toLocaleString('en')} q/s ${((ourLat[i]?.p99 ?? NaN) / (talkLat[i]?.p99 ?? NaN)).toFixed(2)}×`).join('; ')}`);
    }
  } finally {
    for (const p of started.reverse()) await p.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
