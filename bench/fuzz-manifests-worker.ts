/**
 * The in-process half of bench/fuzz-manifests.ts, in a worker thread so the
 * main thread can notice a hang: each generated file is written to disk and
 * handed to `crdns check` itself (the same read, decode, parse, validate and
 * zone-building code `serve` runs). Posts the index before each input, so the
 * main thread can name and regenerate the one that hung.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { parentPort, workerData } from 'node:worker_threads';
import { check } from '../src/cli/check.js';
import { ManifestFuzzer } from './fuzz-manifest-inputs.js';

export interface ManifestWorkerData {
  seed: number;
  count: number;
  dir: string;
  zones: string[];
  examples: Array<{ name: string; text: string }>;
}

export interface ManifestWorkerResult {
  inputs: number;
  /** check's exit status → count. */
  exits: Record<string, number>;
  /** Mutation → [inputs, slowest ms]. */
  kinds: Record<string, [number, number]>;
  crashes: Array<{ index: number; kind: string; error: string }>;
  maxMs: number;
  bytes: number;
  /** Heap in use right after a full collection, every HEAP_SAMPLE_EVERY inputs (MiB): flat if nothing is kept. */
  heapAfterGcMiB: number[];
}

const HEAP_SAMPLE_EVERY = 1000;
// A full collection on demand, for the heap samples: what is still in use, not garbage left for later.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const data = workerData as ManifestWorkerData;
const fuzzer = new ManifestFuzzer(data.seed, data.examples);
const result: ManifestWorkerResult = { inputs: 0, exits: {}, kinds: {}, crashes: [], maxMs: 0, bytes: 0, heapAfterGcMiB: [] };
const zoneArgs = data.zones.flatMap((z) => ['--zone', z]);

for (let i = 0; i < data.count; i++) {
  const input = fuzzer.next();
  parentPort?.postMessage({ type: 'at', index: i });
  const file = path.join(data.dir, input.name);
  writeFileSync(file, input.bytes);
  const t0 = performance.now();
  try {
    const code = await check([...zoneArgs, file], {}, () => undefined);
    result.exits[code] = (result.exits[code] ?? 0) + 1;
  } catch (err) {
    result.crashes.push({ index: i, kind: input.kind, error: (err as Error).stack ?? String(err) });
  }
  const ms = performance.now() - t0;
  const k = (result.kinds[input.kind] ??= [0, 0]);
  k[0]++;
  k[1] = Math.max(k[1], ms);
  result.maxMs = Math.max(result.maxMs, ms);
  result.inputs++;
  result.bytes += input.bytes.length;
  if (result.inputs % HEAP_SAMPLE_EVERY === 0) {
    gc();
    result.heapAfterGcMiB.push(Math.round(process.memoryUsage().heapUsed / 2 ** 20));
  }
}
parentPort?.postMessage({ type: 'done', result });
