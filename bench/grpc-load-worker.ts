/**
 * One load-generator process for grpcLoadParallel: a Node gRPC client tops
 * out before a server does, so benchmarks run several of these and add up.
 *
 *   node dist/bench/grpc-load-worker.js ADDRESS MESSAGES_FILE CONCURRENCY SECONDS WARMUP
 * MESSAGES_FILE holds one hex-encoded DNS message per line. Prints one JSON LoadResult.
 */
import { readFileSync } from 'node:fs';
import { grpcLoad } from './grpc-load.js';

const [address, file, concurrency, seconds, warmup] = process.argv.slice(2) as [string, string, string, string, string];
const messages = readFileSync(file, 'utf8').trim().split('\n').map((l) => Buffer.from(l, 'hex'));
const r = await grpcLoad(address, messages, { concurrency: Number(concurrency), seconds: Number(seconds), warmupSeconds: Number(warmup) });
process.stdout.write(`${JSON.stringify({ ...r, latencies: undefined })}\n`);
