/**
 * What the gRPC transport costs crdns per query (#14 goal 4): the same
 * answers (crdns's answerQuery on the same snapshot) served three ways behind
 * stock CoreDNS with no cache, driven by dnsperf in alternating rounds:
 *
 *   grpc-js       a @grpc/grpc-js server with crdns's old service definition,
 *                 started here: the transport crdns shipped until it got its own
 *   crdns serve   `crdns serve` as shipped: its node:http2 transport with health,
 *                 limits, keepalive and metrics
 *   bare http2    a bare gRPC unary handler on node:http2, written here for this
 *                 measurement only: no health service, TLS, limits or metrics,
 *                 so it bounds from below what any transport on node:http2 costs
 *
 * Reported: qps per round and the median, and the server's CPU per answered
 * query (user + system from /proc), the figure that does not depend on how
 * busy the shared cores were.
 *
 *   node dist/bench/transport-cost.js [--hosts 1000] [--seconds 8] [--repeat 3]
 */
import { spawn } from 'node:child_process';
import http2 from 'node:http2';
import * as grpc from '@grpc/grpc-js';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { answerQuery } from '../src/dns/answer-query.js';
import { DEFAULT_ZONE_SETTINGS, zoneConfig } from '../src/dns/zone-config.js';
import { silentLogger } from '../src/logger.js';
import { ManifestFolderSource } from '../src/sources/manifests/folder-source.js';
import { loadProto } from '../src/server/protos.js';
import { ZoneStore } from '../src/store/zone-store.js';
import { startCoreDNS, type CorednsProcess } from '../test/harness/coredns.js';
import { startCrdns, type CrdnsProcess } from '../test/harness/crdns-process.js';
import { dnsperf, field } from './dnsperf.js';
import { treeCpuSeconds } from './process-tree.js';
import { syntheticZone, toManifest } from './synthetic-zone.js';

const ZONE = 'bench.test';

/** The reference servers, run as this script's children: `transport-cost.js --serve grpc-js|bare DIR SOCKET`. */
async function serveReference(kind: string, dir: string, socket: string): Promise<void> {
  const store = new ZoneStore({ zones: [zoneConfig(ZONE, DEFAULT_ZONE_SETTINGS)], defaultTtl: 300 });
  await new ManifestFolderSource({ dir, logger: silentLogger, annotationPrefixes: [] }).start(store);
  while (!store.current) await new Promise((r) => setTimeout(r, 50));
  if (kind === 'grpc-js') serveGrpcJs(store, socket);
  else serveBare(store, socket);
}

/** With the options crdns's grpc-js server had: no channelz, 64 KiB messages, proto-loader's codec. */
function serveGrpcJs(store: ZoneStore, socket: string): void {
  const pkg = loadProto('dns.proto') as unknown as { coredns: { dns: { DnsService: grpc.ServiceClientConstructor } } };
  const server = new grpc.Server({ 'grpc.max_receive_message_length': 65539, 'grpc.max_send_message_length': 65539, 'grpc.enable_channelz': 0 });
  server.addService(pkg.coredns.dns.DnsService.service, {
    Query: (call: grpc.ServerUnaryCall<{ msg?: Buffer }, { msg: Buffer }>, cb: grpc.sendUnaryData<{ msg: Buffer }>) => {
      cb(null, { msg: answerQuery(store.current as NonNullable<typeof store.current>, call.request.msg ?? Buffer.alloc(0)).reply });
    },
  });
  server.bindAsync(`unix://${socket}`, grpc.ServerCredentials.createInsecure(), (err) => {
    if (err) throw err;
    process.stdout.write('listening\n');
  });
}

function serveBare(store: ZoneStore, socket: string): void {
  const headers = { ':status': 200, 'content-type': 'application/grpc' };
  const server = http2.createServer();
  server.on('stream', (stream) => {
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => {
      const body = chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks);
      // 5-byte gRPC frame prefix, then DnsPacket { bytes msg = 1 }: tag 0x0a, varint length, bytes.
      let off = 5;
      let len = 0;
      if (body[off] === 0x0a) {
        off++;
        for (let shift = 0; ; shift += 7) {
          const b = body[off++] as number;
          len |= (b & 0x7f) << shift;
          if (b < 0x80) break;
        }
      }
      const reply = answerQuery(store.current as NonNullable<typeof store.current>, body.subarray(off, off + len)).reply;
      const n = reply.length;
      const varint = n < 0x80 ? 1 : n < 0x4000 ? 2 : 3;
      const out = Buffer.allocUnsafe(6 + varint + n);
      out[0] = 0;
      out.writeUInt32BE(1 + varint + n, 1);
      out[5] = 0x0a;
      let o = 6;
      let v = n;
      for (; v >= 0x80; v >>>= 7) out[o++] = (v & 0x7f) | 0x80;
      out[o++] = v;
      reply.copy(out, o);
      stream.respond(headers, { waitForTrailers: true });
      stream.once('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
      stream.end(out);
    });
  });
  server.listen(socket, () => process.stdout.write('listening\n'));
}


async function main(): Promise<void> {
  const { values } = parseArgs({ options: { hosts: { type: 'string', default: '1000' }, seconds: { type: 'string', default: '8' }, repeat: { type: 'string', default: '3' } } });
  const dir = await mkdtemp(path.join(tmpdir(), 'crdns-transport-'));
  const zone = syntheticZone(ZONE, Number(values.hosts));
  const manifests = path.join(dir, 'manifests');
  await mkdir(manifests);
  await writeFile(path.join(manifests, 'bench.yaml'), toManifest(zone));
  const queries = path.join(dir, 'queries.txt');
  await writeFile(queries, zone.queries.map(([n, t]) => `${n} ${t}`).join('\n') + '\n');
  const stops: Array<() => Promise<void>> = [];
  try {
    const crdns: CrdnsProcess = await startCrdns({ zones: [ZONE], manifests, listen: [`unix://${path.join(dir, 'crdns.sock')}`] });
    stops.push(() => crdns.stop());
    const reference = async (kind: string): Promise<{ pid: number; socket: string }> => {
      const socket = path.join(dir, `${kind}.sock`);
      const child = spawn(process.execPath, [fileURLToPath(import.meta.url), '--serve', kind, manifests, socket], { stdio: ['ignore', 'pipe', 'inherit'] });
      stops.push(async () => {
        child.kill('SIGKILL');
      });
      await new Promise<void>((resolve, reject) => {
        child.stdout.on('data', (d: Buffer) => d.toString().includes('listening') && resolve());
        child.once('exit', (c) => reject(new Error(`${kind} server exited with ${c}`)));
      });
      return { pid: child.pid as number, socket };
    };
    const grpcJs = await reference('grpc-js');
    const bare = await reference('bare');
    const front = async (target: string): Promise<CorednsProcess> => {
      const c = await startCoreDNS({ corefileText: `${ZONE}:{$COREDNS_PORT} {\n    bind {$COREDNS_BIND}\n    grpc . ${target}\n}\n` });
      stops.push(() => c.stop());
      return c;
    };
    const targets = [
      { label: 'grpc-js (crdns before this transport)', pid: grpcJs.pid, port: (await front(`unix://${grpcJs.socket}`)).port },
      { label: 'crdns serve (its node:http2 transport)', pid: crdns.child.pid as number, port: (await front(crdns.addresses[0] as string)).port },
      { label: 'bare node:http2 handler (lower bound)', pid: bare.pid, port: (await front(`unix://${bare.socket}`)).port },
    ];
    const runs = new Map<string, { qps: number[]; cpu: number; answered: number }>(targets.map((t) => [t.label, { qps: [], cpu: 0, answered: 0 }]));
    for (let round = 0; round < Number(values.repeat); round++) {
      for (const t of targets) {
        const before = treeCpuSeconds(t.pid);
        const out = await dnsperf(['-s', '127.0.0.1', '-p', String(t.port), '-d', queries, '-l', String(values.seconds), '-c', '4', '-T', '2', '-q', '200', '-t', '2']);
        const r = runs.get(t.label) as { qps: number[]; cpu: number; answered: number };
        r.cpu += treeCpuSeconds(t.pid) - before;
        r.answered += field(out, /Queries completed:\s+(\d+)/);
        r.qps.push(field(out, /Queries per second:\s+([\d.]+)/));
        console.error(`${t.label}: ${r.qps[r.qps.length - 1]?.toFixed(0)} qps (round ${round + 1})`);
      }
    }
    console.log(`\n${new Date().toISOString()}, ${cpus().length} × ${cpus()[0]?.model ?? '?'}, load average ${loadavg().map((l) => l.toFixed(1)).join(' ')} at the end; behind stock CoreDNS grpc, cache off\n`);
    console.log(`| server transport | qps, median of ${values.repeat} (${values.seconds} s each) | every run | server CPU µs per query |`);
    console.log('|---|---|---|---|');
    const us: number[] = [];
    for (const t of targets) {
      const r = runs.get(t.label) as { qps: number[]; cpu: number; answered: number };
      const sorted = [...r.qps].sort((a, b) => a - b);
      us.push((r.cpu / r.answered) * 1e6);
      console.log(`| ${t.label} | ${Math.round(sorted[Math.floor((sorted.length - 1) / 2)] as number).toLocaleString('en')} | ${r.qps.map((q) => Math.round(q).toLocaleString('en')).join(', ')} | ${(us[us.length - 1] as number).toFixed(1)} |`);
    }
    console.log(`\nCPU per query against grpc-js: crdns serve ${((us[1] as number) / (us[0] as number)).toFixed(2)}×, bare handler ${((us[2] as number) / (us[0] as number)).toFixed(2)}×`);
  } finally {
    for (const s of stops.reverse()) await s();
    await rm(dir, { recursive: true, force: true });
  }
}

if (process.argv[2] === '--serve') {
  void serveReference(process.argv[3] as string, process.argv[4] as string, process.argv[5] as string);
} else {
  main().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
