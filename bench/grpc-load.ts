/**
 * A closed-loop load generator for the CoreDNS grpc contract: one HTTP/2
 * connection (as CoreDNS's grpc plugin keeps one per upstream), a fixed
 * number of Query calls in flight, pre-encoded messages, latency recorded per
 * call. It runs in its own process on the same machine as the server under
 * test, so absolute figures are lower than on separate cores; the comparison
 * between servers in one run is what counts.
 */
import * as grpc from '@grpc/grpc-js';
import { dnsServiceClient } from '../src/server/protos.js';
import { percentiles } from './stats.js';

export interface LoadResult {
  qps: number;
  completed: number;
  errors: number;
  p50Ms: number;
  p99Ms: number;
  /** rcode → count, to show both servers answered the same mix. */
  rcodes: Record<number, number>;
}

export async function grpcLoad(address: string, messages: readonly Buffer[], opts: { concurrency: number; seconds: number; warmupSeconds: number }): Promise<LoadResult> {
  const Client = dnsServiceClient();
  const client = new Client(address, grpc.credentials.createInsecure(), { 'grpc.enable_channelz': 0 }) as unknown as grpc.Client & {
    Query: (req: { msg: Buffer }, cb: (err: grpc.ServiceError | null, res?: { msg: Buffer }) => void) => void;
  };
  let next = 0;
  let measuring = false;
  let stopping = false;
  const latencies: number[] = [];
  const rcodes: Record<number, number> = {};
  let completed = 0;
  let errors = 0;

  const worker = () =>
    new Promise<void>((resolve) => {
      const fire = () => {
        if (stopping) return resolve();
        const msg = messages[next++ % messages.length] as Buffer;
        const t0 = process.hrtime.bigint();
        client.Query({ msg }, (err, res) => {
          if (measuring) {
            if (err || !res) errors++;
            else {
              completed++;
              latencies.push(Number(process.hrtime.bigint() - t0) / 1e6);
              const rc = res.msg.readUInt16BE(2) & 0xf;
              rcodes[rc] = (rcodes[rc] ?? 0) + 1;
            }
          }
          fire();
        });
      };
      fire();
    });

  const workers = Array.from({ length: opts.concurrency }, worker);
  await new Promise((r) => setTimeout(r, opts.warmupSeconds * 1000));
  measuring = true;
  const started = process.hrtime.bigint();
  await new Promise((r) => setTimeout(r, opts.seconds * 1000));
  measuring = false;
  const elapsed = Number(process.hrtime.bigint() - started) / 1e9;
  stopping = true;
  await Promise.all(workers);
  client.close();
  const p = percentiles(latencies);
  return { qps: completed / elapsed, completed, errors, p50Ms: p.p50, p99Ms: p.p99, rcodes };
}

/**
 * The same load from several processes at once (one connection each), summed:
 * qps adds up, latency percentiles are the worst of the processes.
 */
export async function grpcLoadParallel(address: string, messages: readonly Buffer[], opts: { processes: number; concurrency: number; seconds: number; warmupSeconds: number }): Promise<LoadResult> {
  const { spawn } = await import('node:child_process');
  const { mkdtemp, writeFile, rm } = await import('node:fs/promises');
  const { tmpdir } = await import('node:os');
  const path = await import('node:path');
  const { fileURLToPath } = await import('node:url');
  const dir = await mkdtemp(path.join(tmpdir(), 'crdns-load-'));
  const file = path.join(dir, 'messages.hex');
  await writeFile(file, messages.map((m) => m.toString('hex')).join('\n'));
  const worker = path.join(path.dirname(fileURLToPath(import.meta.url)), 'grpc-load-worker.js');
  const per = Math.max(1, Math.round(opts.concurrency / opts.processes));
  try {
    const results = await Promise.all(
      Array.from({ length: opts.processes }, () =>
        new Promise<LoadResult>((resolve, reject) => {
          const child = spawn(process.execPath, [worker, address, file, String(per), String(opts.seconds), String(opts.warmupSeconds)], { stdio: ['ignore', 'pipe', 'inherit'] });
          let out = '';
          child.stdout.on('data', (d: Buffer) => (out += d.toString()));
          child.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out) as LoadResult) : reject(new Error(`load worker exited ${code}`))));
        }),
      ),
    );
    const rcodes: Record<number, number> = {};
    for (const r of results) for (const [k, v] of Object.entries(r.rcodes)) rcodes[Number(k)] = (rcodes[Number(k)] ?? 0) + v;
    return {
      qps: results.reduce((a, r) => a + r.qps, 0),
      completed: results.reduce((a, r) => a + r.completed, 0),
      errors: results.reduce((a, r) => a + r.errors, 0),
      p50Ms: Math.max(...results.map((r) => r.p50Ms)),
      p99Ms: Math.max(...results.map((r) => r.p99Ms)),
      rcodes,
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
