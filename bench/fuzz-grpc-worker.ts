/**
 * One client process of bench/fuzz-grpc.ts: sends COUNT random and mutated
 * DNS messages over one gRPC connection, CONCURRENCY in flight, each with a
 * deadline, and checks every reply. Seeded, so a failure names what to replay.
 *
 *   node dist/bench/fuzz-grpc-worker.js ADDRESS SEEDS_FILE SEED COUNT CONCURRENCY DEADLINE_MS
 * SEEDS_FILE holds one hex-encoded well-formed query per line. Prints one JSON FuzzWorkerResult.
 */
import { readFileSync } from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import dnsPacket from 'dns-packet';
import { dnsServiceClient, MAX_GRPC_MESSAGE_BYTES } from '../src/server/protos.js';
import { mutate, rng } from '../test/support/fuzz-messages.js';

export interface FuzzWorkerResult {
  sent: number;
  replies: number;
  /** rcode (extended rcodes folded in from OPT) → count. */
  rcodes: Record<string, number>;
  /** gRPC status name → count; DEADLINE_EXCEEDED here means a call hung. */
  grpcErrors: Record<string, number>;
  /** Replies that do not decode, lack QR, or do not copy the query's ID: each is a bug. */
  bad: number;
  /** The first few bad cases, hex, for replay. */
  samples: string[];
  maxLatencyMs: number;
}

const [address, seedsFile, seedText, countText, concurrencyText, deadlineText] = process.argv.slice(2) as [string, string, string, string, string, string];
const seeds = readFileSync(seedsFile, 'utf8').trim().split('\n').map((l) => Buffer.from(l, 'hex'));
const r = rng(Number(seedText));
const count = Number(countText);
const deadlineMs = Number(deadlineText);

const Client = dnsServiceClient();
const client = new Client(address, grpc.credentials.createInsecure(), {
  'grpc.enable_channelz': 0,
  'grpc.max_receive_message_length': MAX_GRPC_MESSAGE_BYTES,
  'grpc.max_send_message_length': MAX_GRPC_MESSAGE_BYTES,
}) as unknown as grpc.Client & { Query: (req: { msg: Buffer }, opts: grpc.CallOptions, cb: (err: grpc.ServiceError | null, res?: { msg: Buffer }) => void) => void };

const result: FuzzWorkerResult = { sent: 0, replies: 0, rcodes: {}, grpcErrors: {}, bad: 0, samples: [], maxLatencyMs: 0 };

function next(): Buffer {
  // One in eight is built from nothing, the rest mutate a real query: both parsers' paths get exercised.
  if (r() < 0.125) return Buffer.from(Array.from({ length: Math.floor(r() * 64) }, () => Math.floor(r() * 256)));
  return mutate(seeds[Math.floor(r() * seeds.length)] as Buffer, r);
}

function bad(msg: Buffer, reply: Buffer | undefined, why: string): void {
  result.bad++;
  if (result.samples.length < 5) result.samples.push(`${why}: query ${msg.toString('hex')} reply ${reply?.toString('hex') ?? '-'}`);
}

function check(msg: Buffer, reply: Buffer): void {
  if (reply.length < 12 || reply.length > 65535) return bad(msg, reply, `reply of ${reply.length} bytes`);
  if ((reply.readUInt16BE(2) & 0x8000) === 0) return bad(msg, reply, 'QR not set');
  if (msg.length >= 2 && reply.readUInt16BE(0) !== msg.readUInt16BE(0)) return bad(msg, reply, 'ID not copied');
  let decoded;
  try {
    decoded = dnsPacket.decode(reply);
  } catch (err) {
    return bad(msg, reply, `does not decode: ${(err as Error).message}`);
  }
  const opt = (decoded.additionals ?? []).find((a) => a.type === 'OPT') as { extendedRcode?: number } | undefined;
  const rcode = ((opt?.extendedRcode ?? 0) << 4) | (reply.readUInt16BE(2) & 0xf);
  result.rcodes[rcode] = (result.rcodes[rcode] ?? 0) + 1;
}

await new Promise<void>((resolve) => {
  let inFlight = 0;
  const fire = (): void => {
    if (result.sent >= count) {
      if (inFlight === 0) resolve();
      return;
    }
    const msg = next();
    result.sent++;
    inFlight++;
    const t0 = Date.now();
    client.Query({ msg }, { deadline: t0 + deadlineMs }, (err, res) => {
      inFlight--;
      result.maxLatencyMs = Math.max(result.maxLatencyMs, Date.now() - t0);
      if (err) {
        const name = grpc.status[err.code] ?? String(err.code);
        result.grpcErrors[name] = (result.grpcErrors[name] ?? 0) + 1;
        if (result.samples.length < 5) result.samples.push(`gRPC ${name}: query ${msg.toString('hex')}`);
      } else {
        result.replies++;
        check(msg, res?.msg ?? Buffer.alloc(0));
      }
      fire();
    });
  };
  for (let i = 0; i < Number(concurrencyText); i++) fire();
});
client.close();
process.stdout.write(`${JSON.stringify(result)}\n`);
