/**
 * Heap per record, in process and without peers: what the data path (the
 * manifest folder source, the zone store, the snapshot) keeps once built, at
 * two or more sizes, and the slope between the smallest and the largest. A
 * quick check of a memory change before bench/memory.ts measures RSS against
 * CoreDNS and NSD; RSS per record is this plus what V8 keeps beyond live data.
 *
 *   node dist/bench/heap-per-record.js [--records 1000,100000] [--format json-in-yaml|yaml|json]
 *
 * Each size runs in a child process of its own (--expose-gc), which reads
 * heapUsed + arrayBuffers after two full collections once the first snapshot
 * is in, and the time from starting the source to that snapshot.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { DEFAULT_ZONE_SETTINGS, zoneConfig } from '../src/dns/zone-config.js';
import { ManifestFolderSource } from '../src/sources/manifests/folder-source.js';
import { ZoneStore } from '../src/store/zone-store.js';
import { syntheticZone, toManifestFiles, type ManifestFormat } from './synthetic-zone.js';

const { values } = parseArgs({ options: { records: { type: 'string', default: '1000,100000' }, format: { type: 'string', default: 'json-in-yaml' }, child: { type: 'string' } } });
const FORMAT = values.format as ManifestFormat;
const ZONE = 'mem.test';

interface ChildResult {
  records: number;
  heapBytes: number;
  buildS: number;
}

/** In a function of its own: what it makes is garbage when it returns, where an async function's frame could keep it. */
function writeZone(dir: string, records: number): number {
  const zone = syntheticZone(ZONE, Math.round(records / 2.3));
  for (const f of toManifestFiles(zone, 100, FORMAT)) writeFileSync(path.join(dir, f.name), f.text);
  return zone.records.length;
}

async function child(records: number): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('run with --expose-gc');
  const dir = mkdtempSync(path.join(tmpdir(), 'crdns-heap-'));
  try {
    const count = writeZone(dir, records);
    gc();
    const store = new ZoneStore({ zones: [zoneConfig(ZONE, DEFAULT_ZONE_SETTINGS)], defaultTtl: 300 });
    const source = new ManifestFolderSource({ dir, watch: false, rescanIntervalMs: 0 });
    const t0 = performance.now();
    await source.start(store);
    while (!store.current) await new Promise((r) => setTimeout(r, 5));
    const buildS = (performance.now() - t0) / 1000;
    await new Promise((r) => setTimeout(r, 100));
    gc();
    gc();
    const m = process.memoryUsage();
    const result: ChildResult = { records: count, heapBytes: m.heapUsed + m.arrayBuffers, buildS };
    console.log(JSON.stringify(result));
    await source.stop();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function main(): void {
  const rows: ChildResult[] = [];
  for (const size of (values.records as string).split(',').map(Number)) {
    const out = execFileSync(process.execPath, ['--expose-gc', fileURLToPath(import.meta.url), '--child', String(size), '--format', FORMAT], { encoding: 'utf8', maxBuffer: 1 << 20 });
    const r = JSON.parse(out.trim().split('\n').pop() as string) as ChildResult;
    rows.push(r);
    console.error(`${r.records} records: heap ${(r.heapBytes / 2 ** 20).toFixed(1)} MiB, first snapshot ${r.buildS.toFixed(2)} s`);
  }
  const a = rows[0] as ChildResult;
  const b = rows[rows.length - 1] as ChildResult;
  console.log(`\nHeap per record (heapUsed + arrayBuffers after a full collection), manifests as ${FORMAT}, Node.js ${process.version}, ${new Date().toISOString()}`);
  console.log('| records | heap MiB | source start → first snapshot |');
  console.log('|---|---|---|');
  for (const r of rows) console.log(`| ${r.records.toLocaleString('en')} | ${(r.heapBytes / 2 ** 20).toFixed(1)} | ${r.buildS.toFixed(2)} s |`);
  if (rows.length > 1) console.log(`\nslope: ${Math.round((b.heapBytes - a.heapBytes) / (b.records - a.records)).toLocaleString('en')} bytes of heap per record`);
}

if (values.child !== undefined) await child(Number(values.child));
else main();
