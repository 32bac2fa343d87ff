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
