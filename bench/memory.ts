/**
 * Memory and start-up at scale (#14 goal 1): resident memory and time from
 * process start to the first correct answer, at several zone sizes, for
 * crdns (a manifest folder, 100 endpoints per DNSEndpoint) next to CoreDNS
 * `file` and NSD on the same records, from the same run. Bytes per record:
 * (RSS at the largest size − RSS at the smallest) / (records between them).
 *
 *   node dist/bench/memory.js [--records 1000,10000,100000] [--workers 2] [--format json-in-yaml|yaml|json]
 *
 * --workers adds a crdns row per count (0: none): serving workers each hold a
 * snapshot replica, and their first answer is asked of the last worker.
 * --format is how the folder's files are written (synthetic-zone.ts; one file up to 1,000 DNSEndpoints); the
 * time to the first answer is mostly parsing it.
 *
 * "First answer": the A record of the zone's last host, asked every 20 ms
 * (over gRPC for crdns, UDP for the others) until it comes back. RSS is read
 * 10 s after that, once crdns has collected its build's garbage (heap-trim.ts:
 * full collections about 1.1 s after the build, the young generation 6 s
 * later), with the peak (VmHWM) beside it, for the
 * whole process tree (NSD forks its server).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import dnsPacket from 'dns-packet';
import { queryClient } from '../src/cli/query.js';
import { udpExchange } from '../test/harness/coredns.js';
import { freePort } from '../test/harness/ports.js';
import { CRDNS_MAIN } from '../test/harness/crdns-process.js';
import { nsdConfig } from '../test/harness/nsd.js';
import { peerBin, requireTool } from '../test/harness/peers.js';
import { syntheticZone, toManifestFiles, toZoneFile, type ManifestFormat } from './synthetic-zone.js';
import { treePeakMiB, treeRssMiB } from './process-tree.js';

const { values } = parseArgs({ options: { records: { type: 'string', default: '1000,10000,100000' }, workers: { type: 'string', default: '2' }, format: { type: 'string', default: 'json-in-yaml' } } });
const FORMAT = values.format as ManifestFormat;
if (!['json-in-yaml', 'yaml', 'json'].includes(FORMAT)) throw new Error(`--format: json-in-yaml, yaml or json, not ${FORMAT}`);
const WORKER_COUNTS = (values.workers as string).split(',').map(Number).filter((n) => n > 1);
const SIZES = (values.records as string).split(',').map(Number);
const ZONE = 'mem.test';
/** From the first answer to reading RSS; see the top. */
const SETTLE_MS = 10_000;
/** syntheticZone writes 2.3 records per host. */
const RECORDS_PER_HOST = 2.3;

interface Measured {
  records: number;
  firstAnswerS: number;
  rssMiB: number;
  peakMiB: number;
}


async function measure(start: () => ChildProcess, answered: () => Promise<boolean>, records: number): Promise<Measured> {
  const t0 = performance.now();
  const child = start();
  let log = '';
  child.stderr?.on('data', (d: Buffer) => (log = (log + d.toString()).slice(-4000)));
  child.stdout?.on('data', (d: Buffer) => (log = (log + d.toString()).slice(-4000)));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    const deadline = Date.now() + 600_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`exited (${child.exitCode}) before answering:\n${log}`);
      if (await answered().catch(() => false)) break;
      if (Date.now() > deadline) throw new Error(`no answer within 600 s:\n${log}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    const firstAnswerS = (performance.now() - t0) / 1000;
    await new Promise((r) => setTimeout(r, SETTLE_MS));
    return { records, firstAnswerS, rssMiB: treeRssMiB(child.pid as number), peakMiB: treePeakMiB(child.pid as number) };
  } finally {
    child.kill('SIGKILL');
    await exited;
  }
}

async function main(): Promise<void> {
  const results = new Map<string, Measured[]>();
  const add = (label: string, m: Measured) => {
    results.set(label, [...(results.get(label) ?? []), m]);
    console.error(`${label}: ${m.records} records, first answer ${m.firstAnswerS.toFixed(2)} s, RSS ${m.rssMiB.toFixed(0)} MiB, peak ${m.peakMiB.toFixed(0)} MiB`);
  };
  for (const size of SIZES) {
    const dir = await mkdtemp(path.join(tmpdir(), 'crdns-memory-'));
    try {
      const hosts = Math.round(size / RECORDS_PER_HOST);
      const zone = syntheticZone(ZONE, hosts);
      const last = `nf${hosts - 1}.${ZONE}`;
      const manifests = path.join(dir, 'manifests');
      await mkdir(manifests);
      for (const f of toManifestFiles(zone, 100, FORMAT)) await writeFile(path.join(manifests, f.name), f.text);
      const zoneFile = path.join(dir, `db.${ZONE}`);
      await writeFile(zoneFile, toZoneFile(zone, 1));
      const records = zone.records.length;

      for (const workers of [1, ...WORKER_COUNTS]) {
        const listen = `unix://${path.join(dir, workers > 1 ? `w${workers}-{worker}.sock` : 'crdns.sock')}`;
        const asked = listen.replace('{worker}', String(workers - 1));
        const extra = workers > 1 ? ['--workers', String(workers)] : [];
        add(workers > 1 ? `crdns, ${workers} workers` : 'crdns', await measure(
          () => spawn(process.execPath, [CRDNS_MAIN, 'serve', '--zone', ZONE, '--manifests', manifests, '--listen', listen, ...extra, '--log-level', 'warn'], { stdio: ['ignore', 'pipe', 'pipe'] }),
          async () => {
            const client = queryClient(asked, 1000);
            try {
              return ((await client.ask(last, 'A')).answers ?? []).length > 0;
            } finally {
              client.close();
            }
          },
          records,
        ));
      }

      const askUdp = (port: number) => async () => {
        const reply = dnsPacket.decode(await udpExchange(port, dnsPacket.encode({ type: 'query', id: 7, questions: [{ name: last, type: 'A' }] }), 500));
        return (reply.answers ?? []).length > 0;
      };
      const corePort = await freePort();
      const corefile = path.join(dir, 'Corefile');
      await writeFile(corefile, `${ZONE}:${corePort} {\n    bind 127.0.0.1\n    file ${zoneFile}\n}\n`);
      add('CoreDNS file', await measure(() => spawn(peerBin('coredns'), ['-conf', corefile], { stdio: ['ignore', 'pipe', 'pipe'] }), askUdp(corePort), records));

      const nsdPort = await freePort();
      const nsdConf = path.join(dir, 'nsd.conf');
      await writeFile(nsdConf, nsdConfig(dir, nsdPort, { zones: [{ name: ZONE, file: zoneFile }] }));
      add('NSD', await measure(() => spawn(requireTool('nsd'), ['-d', '-c', nsdConf], { stdio: ['ignore', 'pipe', 'pipe'] }), askUdp(nsdPort), records));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  console.log(`\nMemory and start-up, manifests as ${FORMAT}, ${cpus().length} × ${cpus()[0]?.model ?? '?'}, Node.js ${process.version}, load average ${loadavg().map((l) => l.toFixed(1)).join(' ')} at the end, ${new Date().toISOString()}`);
  console.log(`| server | ${SIZES.map((s) => `${s.toLocaleString('en')} records: RSS MiB (peak) / first answer s`).join(' | ')} | bytes per record |`);
  console.log(`|---|${SIZES.map(() => '---|').join('')}---|`);
  const perRecord = new Map<string, number>();
  for (const [label, rows] of results) {
    const a = rows[0] as Measured;
    const b = rows[rows.length - 1] as Measured;
    const bytes = rows.length > 1 ? ((b.rssMiB - a.rssMiB) * 2 ** 20) / (b.records - a.records) : NaN;
    perRecord.set(label, bytes);
    console.log(`| ${label} | ${rows.map((m) => `${m.rssMiB.toFixed(0)} (${m.peakMiB.toFixed(0)}) / ${m.firstAnswerS.toFixed(2)}`).join(' | ')} | ${Math.round(bytes).toLocaleString('en')} |`);
  }
  const ours = perRecord.get('crdns') as number;
  console.log(`\nratios: crdns bytes per record / CoreDNS file's ${(ours / (perRecord.get('CoreDNS file') as number)).toFixed(2)}× (goal ≤ 0.5×), / NSD's ${(ours / (perRecord.get('NSD') as number)).toFixed(2)}×`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
