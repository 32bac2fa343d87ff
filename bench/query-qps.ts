/**
 * Query throughput of crdns alone over the gRPC contract, next to stock
 * CoreDNS answering the same zone from its `file` plugin on its own gRPC
 * listener (grpc://, the same coredns.dns.DnsService), driven by the same
 * load generator in the same run.
 *
 *   node dist/bench/query-qps.js [--hosts 1000] [--seconds 10] [--concurrency 64] [--processes 2]
 */
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import dnsPacket from 'dns-packet';
import { freePort } from '../test/harness/ports.js';
import { startCrdns } from '../test/harness/crdns-process.js';
import { peerBin, pinnedVersion } from '../test/harness/peers.js';
import { grpcLoadParallel, type LoadResult } from './grpc-load.js';
import { syntheticZone, toManifest, toZoneFile } from './synthetic-zone.js';

const { values } = parseArgs({ options: { hosts: { type: 'string', default: '1000' }, seconds: { type: 'string', default: '10' }, concurrency: { type: 'string', default: '64' }, processes: { type: 'string', default: '2' } } });
const processes = Number(values.processes);
const hosts = Number(values.hosts);
const seconds = Number(values.seconds);
const concurrency = Number(values.concurrency);


async function main(): Promise<void> {
  const dir = await mkdtemp(path.join(tmpdir(), 'crdns-bench-'));
  const zone = syntheticZone('bench.test', hosts);
  const manifests = path.join(dir, 'manifests');
  await mkdir(manifests);
  await writeFile(path.join(manifests, 'bench.yaml'), toManifest(zone));
  await writeFile(path.join(dir, 'db.bench.test'), toZoneFile(zone, 1));
  const messages = zone.queries.map(([name, type], i) => dnsPacket.encode({ type: 'query', id: i & 0xffff, questions: [{ name, type: type as never, class: 'IN' }] }));

  const results: [string, LoadResult][] = [];
  const crdns = await startCrdns({ zones: ['bench.test'], manifests, listen: ['127.0.0.1:0'] });
  try {
    results.push(['crdns (gRPC, TCP loopback)', await grpcLoadParallel(crdns.addresses[0] as string, messages, { processes, concurrency, seconds, warmupSeconds: 2 })]);
  } finally {
    await crdns.stop();
  }

  const port = await freePort();
  const corefile = path.join(dir, 'Corefile');
  await writeFile(corefile, `grpc://bench.test:${port} {\n  bind 127.0.0.1\n  file ${path.join(dir, 'db.bench.test')} bench.test\n}\n`);
  const coredns = spawn(peerBin('coredns'), ['-conf', corefile, '-quiet'], { stdio: ['ignore', 'inherit', 'inherit'] });
  try {
    await new Promise((r) => setTimeout(r, 1500));
    results.push([`CoreDNS ${pinnedVersion('coredns')} file plugin (grpc:// listener)`, await grpcLoadParallel(`127.0.0.1:${port}`, messages, { processes, concurrency, seconds, warmupSeconds: 2 })]);
  } finally {
    coredns.kill('SIGTERM');
  }
  await rm(dir, { recursive: true, force: true });

  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  console.log(`\nQuery qps, ${zone.records.length} records, ${messages.length} distinct queries, ${concurrency} in flight from ${processes} client processes, ${seconds} s, ${cpus().length} × ${cpu}, ${new Date().toISOString()}`);
  console.log('| server | qps | p50 ms | p99 ms | errors | rcodes |');
  console.log('|---|---|---|---|---|---|');
  for (const [name, r] of results) {
    console.log(`| ${name} | ${Math.round(r.qps)} | ${r.p50Ms.toFixed(2)} | ${r.p99Ms.toFixed(2)} | ${r.errors} | ${JSON.stringify(r.rcodes)} |`);
  }
  const [ours, peer] = results;
  if (ours && peer) console.log(`\ncrdns / CoreDNS file: ${(ours[1].qps / peer[1].qps).toFixed(2)}×`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
