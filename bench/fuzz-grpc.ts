/**
 * Fuzzing at scale over the wire: a real `crdns serve` process on the
 * examples, and a million (by default) random and mutated DNS messages sent
 * to it over gRPC from several client processes. Passes when every call got
 * a reply within its deadline, every reply is well-formed (decodes, QR set,
 * ID copied), crdns never exited, its RSS stayed under the bound, and it still
 * answers a real question correctly at the end. A benchmark, not a test: it
 * runs for minutes.
 *
 *   node dist/bench/fuzz-grpc.js [--messages 1000000] [--processes 2] [--concurrency 64]
 *                                [--deadline-ms 10000] [--seed 9] [--max-rss-mib 512]
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, tmpdir, totalmem } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import dnsPacket from 'dns-packet';
import { queryClient } from '../src/cli/query.js';
import { rcodeName } from '../src/dns/codes.js';
import { loadManifests } from '../src/sources/manifests/read-files.js';
import { startCrdns } from '../test/harness/crdns-process.js';
import { repoRoot } from '../test/harness/peers.js';
import type { FuzzWorkerResult } from './fuzz-grpc-worker.js';

const { values } = parseArgs({
  options: {
    messages: { type: 'string', default: '1000000' },
    processes: { type: 'string', default: '2' },
    concurrency: { type: 'string', default: '64' },
    'deadline-ms': { type: 'string', default: '10000' },
    seed: { type: 'string', default: '9' },
    'max-rss-mib': { type: 'string', default: '512' },
  },
});
const total = Number(values.messages);
const processes = Number(values.processes);
const seed = Number(values.seed);
const maxRssMiB = Number(values['max-rss-mib']);

const EXAMPLES = path.join(repoRoot(), 'examples', 'manifests');
const ZONES = ['5gc.mnc001.mcc001.3gppnetwork.org', 'ims.mnc001.mcc001.3gppnetwork.org', '0.10.in-addr.arpa', '1.0.0.0.0.0.0.0.0.0.d.f.ip6.arpa'];
const TYPES = ['A', 'AAAA', 'CNAME', 'MX', 'SRV', 'NAPTR', 'TXT', 'PTR', 'NS', 'SOA', 'CAA', 'DS', 'ANY', 'AXFR', 'DNAME', 'OPT'];

/** Well-formed queries for every name in the examples (and some outside), with and without EDNS: what the mutations start from. */
async function seedQueries(): Promise<Buffer[]> {
  const { objects } = await loadManifests([EXAMPLES]);
  const names = new Set<string>(['nope.ims.mnc001.mcc001.3gppnetwork.org', 'example.com', '.', ...ZONES]);
  for (const o of objects) for (const e of o.endpoints) if (typeof (e as { dnsName?: unknown }).dnsName === 'string') names.add((e as { dnsName: string }).dnsName);
  const out: Buffer[] = [];
  for (const name of names) {
    for (const type of TYPES) {
      out.push(dnsPacket.encode({ type: 'query', id: out.length & 0xffff, questions: [{ name, type: type as never, class: 'IN' }] }));
      out.push(
        dnsPacket.encode({
          type: 'query',
          id: out.length & 0xffff,
          flags: dnsPacket.RECURSION_DESIRED,
          questions: [{ name, type: type as never, class: 'IN' }],
          additionals: [{ type: 'OPT', name: '.', udpPayloadSize: 1232, flags: dnsPacket.DNSSEC_OK, options: [{ code: 10, data: Buffer.alloc(8, 7) }] } as never],
        }),
      );
    }
  }
  return out;
}

function rssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

function runWorker(worker: string, args: string[]): Promise<FuzzWorkerResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [worker, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out) as FuzzWorkerResult) : reject(new Error(`fuzz worker exited ${code}`))));
  });
}

async function main(): Promise<number> {
  const dir = await mkdtemp(path.join(tmpdir(), 'crdns-fuzz-grpc-'));
  const seedsFile = path.join(dir, 'seeds.hex');
  const seeds = await seedQueries();
  await writeFile(seedsFile, seeds.map((m) => m.toString('hex')).join('\n'));
  const crdns = await startCrdns({ zones: ZONES, manifests: EXAMPLES, listen: ['127.0.0.1:0'] });
  const pid = crdns.child.pid as number;
  const address = crdns.addresses[0] as string;
  const rss = { start: rssMiB(pid), max: 0, end: 0 };
  // RSS over time, not only its peak: a plateau is bounded, a steady climb is a leak.
  const timeline: Array<[number, number]> = [];
  const sampler = setInterval(() => {
    if (crdns.child.exitCode !== null) return;
    const now = rssMiB(pid);
    rss.max = Math.max(rss.max, now);
    timeline.push([Date.now(), now]);
  }, 250);
  const started = Date.now();
  let results: FuzzWorkerResult[];
  try {
    const worker = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fuzz-grpc-worker.js');
    const per = Math.ceil(total / processes);
    const concurrency = Math.max(1, Math.round(Number(values.concurrency) / processes));
    results = await Promise.all(
      Array.from({ length: processes }, (_, k) => runWorker(worker, [address, seedsFile, String(seed * 1000 + k), String(Math.min(per, total - k * per)), String(concurrency), values['deadline-ms'] as string])),
    );
  } finally {
    clearInterval(sampler);
  }
  const seconds = (Date.now() - started) / 1000;
  rss.end = rssMiB(pid);
  rss.max = Math.max(rss.max, rss.end);

  // Still itself afterwards: a real question gets the real answer.
  const client = queryClient(address, 5000);
  const after = await client.ask('nrf.5gc.mnc001.mcc001.3gppnetwork.org', 'A').finally(() => client.close());
  const stillAnswers = (after.answers ?? []).some((a) => a.type === 'A');
  const alive = crdns.child.exitCode === null && crdns.child.signalCode === null;
  await crdns.stop();
  await rm(dir, { recursive: true, force: true });

  const sum = (f: (r: FuzzWorkerResult) => number) => results.reduce((a, r) => a + f(r), 0);
  const merge = (f: (r: FuzzWorkerResult) => Record<string, number>) => {
    const m: Record<string, number> = {};
    for (const r of results) for (const [k, v] of Object.entries(f(r))) m[k] = (m[k] ?? 0) + v;
    return m;
  };
  const sent = sum((r) => r.sent);
  const replies = sum((r) => r.replies);
  const bad = sum((r) => r.bad);
  const grpcErrors = merge((r) => r.grpcErrors);
  const rcodes = merge((r) => r.rcodes);
  const maxLatency = Math.max(...results.map((r) => r.maxLatencyMs));
  const pct = (n: number) => `${((100 * n) / Math.max(1, replies)).toFixed(1)} %`;

  console.log(`\nfuzz-grpc, ${new Date().toISOString()}, ${cpus().length} × ${cpus()[0]?.model ?? '?'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node.js ${process.version}`);
  console.log(`seed ${seed}, ${processes} client processes, ${values.concurrency} in flight, deadline ${values['deadline-ms']} ms, ${seeds.length} seed queries`);
  console.log(`| messages sent | replies | bad replies | gRPC errors | duration | msg/s | slowest call | crdns RSS start / max / end |`);
  console.log(`|---|---|---|---|---|---|---|---|`);
  console.log(`| ${sent.toLocaleString('en')} | ${replies.toLocaleString('en')} | ${bad} | ${JSON.stringify(grpcErrors)} | ${seconds.toFixed(0)} s | ${Math.round(sent / seconds).toLocaleString('en')} | ${maxLatency} ms | ${rss.start.toFixed(0)} / ${rss.max.toFixed(0)} / ${rss.end.toFixed(0)} MiB |`);
  const tenths = Array.from({ length: 10 }, (_, i) => {
    const from = started + ((Date.now() - started) * i) / 10;
    const slice = timeline.filter(([t]) => t >= from && t < from + (Date.now() - started) / 10).map(([, v]) => v);
    return slice.length ? Math.max(...slice).toFixed(0) : '-';
  });
  console.log(`crdns RSS peak per tenth of the run (MiB): ${tenths.join(', ')}`);
  console.log(`\n| rcode | replies | share |\n|---|---|---|`);
  for (const [rc, n] of Object.entries(rcodes).sort((a, b) => b[1] - a[1])) console.log(`| ${rcodeName(Number(rc))} | ${n.toLocaleString('en')} | ${pct(n)} |`);
  for (const r of results) for (const s of r.samples) console.log(`sample: ${s}`);
  console.log(`crdns alive after the run: ${alive}; answers nrf A afterwards: ${stillAnswers}`);

  const failures = [
    sent !== total && `sent ${sent} of ${total}`,
    replies !== sent && `${sent - replies} calls without a reply`,
    bad > 0 && `${bad} malformed replies`,
    !alive && 'crdns exited',
    !stillAnswers && 'crdns no longer answers nrf A',
    rss.max > maxRssMiB && `RSS ${rss.max.toFixed(0)} MiB over the bound of ${maxRssMiB} MiB`,
  ].filter((f): f is string => typeof f === 'string');
  console.log(failures.length === 0 ? 'PASS' : `FAIL: ${failures.join('; ')}`);
  return failures.length === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
