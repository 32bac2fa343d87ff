/**
 * Churn (#14 goal 2): how long one changed object takes to be served at 100k
 * endpoints, and what 100 changes/s do to query latency.
 *
 * 1. In process, a ZoneStore holding about 100k endpoints (A, AAAA, SRV,
 *    NAPTR, CNAME from synthetic-zone.ts), in two shapes: 100 endpoints per
 *    object (about 1,000 objects) and one object per name. One endpoint of
 *    one object changes; the time from upsert() to the new snapshot being
 *    current is taken, with whole rebuilds (before #14) and by name (after).
 * 2. The same store behind the real gRPC server in this process (rebuilds
 *    run on the thread that answers, as in `crdns serve`), a closed-loop gRPC
 *    load from another process: query p99 idle, then while 100 changes/s are
 *    applied for 30 s, with the change-to-served latency under that load.
 *
 *   node dist/bench/churn.js [--hosts 43500] [--changes 200] [--whole-changes 20] [--seconds 30] [--rate 100]
 */
import { cpus, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import dnsPacket from 'dns-packet';
import { DEFAULT_ZONE_SETTINGS, zoneConfig } from '../src/dns/zone-config.js';
import type { EndpointObject } from '../src/endpoint/endpoint.js';
import { GrpcServer } from '../src/server/grpc-server.js';
import { HealthState } from '../src/server/health-service.js';
import { ZoneStore } from '../src/store/zone-store.js';
import { grpcLoadParallel, type LoadResult } from './grpc-load.js';
import { percentiles } from './stats.js';
import { syntheticZone } from './synthetic-zone.js';

const { values } = parseArgs({
  options: {
    hosts: { type: 'string', default: '43500' },
    changes: { type: 'string', default: '200' },
    'whole-changes': { type: 'string', default: '20' },
    seconds: { type: 'string', default: '30' },
    idle: { type: 'string', default: '15' },
    rate: { type: 'string', default: '100' },
    concurrency: { type: 'string', default: '16' },
  },
});
const HOSTS = Number(values.hosts);
const ZONE = 'bench.test';

type Shape = 'per-100' | 'per-name';
interface Entry {
  dnsName: string;
  recordType: string;
  recordTTL: number;
  targets: string[];
}

/** The synthetic zone as DNSEndpoint objects: 100 endpoints each, or one object per owner name. */
function objects(shape: Shape): EndpointObject[] {
  const byKey = new Map<string, Entry>();
  for (const r of syntheticZone(ZONE, HOSTS).records) {
    const key = `${r.name}|${r.type}`;
    const e = byKey.get(key);
    if (e) e.targets.push(r.target);
    else byKey.set(key, { dnsName: r.name, recordType: r.type, recordTTL: r.ttl, targets: [r.target] });
  }
  const groups: Entry[][] = [];
  if (shape === 'per-100') {
    const all = [...byKey.values()];
    for (let i = 0; i < all.length; i += 100) groups.push(all.slice(i, i + 100));
  } else {
    const byName = new Map<string, Entry[]>();
    for (const e of byKey.values()) byName.set(e.dnsName, [...(byName.get(e.dnsName) ?? []), e]);
    groups.push(...byName.values());
  }
  return groups.map((endpoints, i) => ({ key: `bench/o${i}`, origin: { source: 'bench', namespace: 'bench', name: `o${i}`, generation: 1, uid: `u${i}`, createdAt: 1_000 }, endpoints }));
}

let serial = 0;
/** The object with one A endpoint's target changed (a new address every time). */
function edited(o: EndpointObject): EndpointObject {
  const endpoints = [...(o.endpoints as Entry[])];
  const at = endpoints.findIndex((e) => e.recordType === 'A');
  const n = ++serial;
  endpoints[at] = { ...(endpoints[at] as Entry), targets: [`172.${16 + ((n >> 16) & 15)}.${(n >> 8) & 255}.${n & 255}`] };
  return { ...o, origin: { ...o.origin, generation: (o.origin.generation ?? 1) + 1 }, endpoints };
}

function loadedStore(list: EndpointObject[], incremental: boolean): { store: ZoneStore; endpoints: number } {
  const store = new ZoneStore({ zones: [zoneConfig(ZONE, DEFAULT_ZONE_SETTINGS)], defaultTtl: 300, incremental });
  store.replaceAll(list);
  store.synced();
  const e = store.flush();
  if (!e) throw new Error('no first build');
  return { store, endpoints: list.reduce((n, o) => n + o.endpoints.length, 0) };
}

/** Resolves when the next snapshot is current. */
function nextRebuild(waiting: Array<() => void>): Promise<void> {
  return new Promise((resolve) => waiting.push(resolve));
}

async function changeLatency(list: EndpointObject[], incremental: boolean, changes: number): Promise<{ p50: number; p99: number; max: number; n: number; endpoints: number; objects: number }> {
  const { store, endpoints } = loadedStore(list, incremental);
  const waiting: Array<() => void> = [];
  let lastBuildMs = 0;
  store.onRebuild((e) => {
    lastBuildMs = e.buildMs;
    waiting.splice(0).forEach((w) => w());
  });
  const current = [...list];
  const delays: number[] = [];
  const warmup = 5;
  for (let i = 0; i < warmup + changes; i++) {
    const at = (i * 7919) % current.length;
    const next = edited(current[at] as EndpointObject);
    current[at] = next;
    // The store spaces rebuilds (a build of B ms is followed by B ms free for queries); wait that out, so each
    // change is measured alone, and let a first few go unmeasured (a build right after the first one waits).
    await new Promise((r) => setTimeout(r, Math.max(5, lastBuildMs + 5)));
    const served = nextRebuild(waiting);
    const t0 = process.hrtime.bigint();
    store.upsert(next);
    await served;
    if (i >= warmup) delays.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  store.close();
  return { ...percentiles(delays), endpoints, objects: list.length };
}

async function underLoad(list: EndpointObject[], incremental: boolean): Promise<{ idle: LoadResult; churn: LoadResult; served: ReturnType<typeof percentiles>; applied: number }> {
  const { store } = loadedStore(list, incremental);
  const server = new GrpcServer({ listen: ['127.0.0.1:0'], snapshot: () => store.current, health: new HealthState() });
  const [address] = await server.start();
  const zone = syntheticZone(ZONE, HOSTS);
  const messages = zone.queries.filter((_, i) => i % 7 === 0).map(([name, type], i) => dnsPacket.encode({ type: 'query', id: i & 0xffff, questions: [{ name, type: type as never, class: 'IN' }] }));
  const opts = { processes: 1, concurrency: Number(values.concurrency), warmupSeconds: 2 };
  try {
    const idle = await grpcLoadParallel(address as string, messages, { ...opts, seconds: Number(values.idle) });
    const pending: bigint[] = [];
    const served: number[] = [];
    store.onRebuild(() => {
      const now = process.hrtime.bigint();
      for (const t of pending.splice(0)) served.push(Number(now - t) / 1e6);
    });
    const current = [...list];
    let applied = 0;
    let stop = false;
    const seconds = Number(values.seconds);
    const rate = Number(values.rate);
    // The changes start with the measured window (after the load's warm-up) and end with it.
    const changer = (async () => {
      await new Promise((r) => setTimeout(r, opts.warmupSeconds * 1000));
      const started = Date.now();
      while (!stop && Date.now() - started < seconds * 1000) {
        const due = started + (applied * 1000) / rate;
        await new Promise((r) => setTimeout(r, Math.max(0, due - Date.now())));
        const at = (applied * 7919) % current.length;
        const next = edited(current[at] as EndpointObject);
        current[at] = next;
        pending.push(process.hrtime.bigint());
        store.upsert(next);
        applied++;
      }
    })();
    const churn = await grpcLoadParallel(address as string, messages, { ...opts, seconds });
    stop = true;
    await changer;
    return { idle, churn, served: percentiles(served), applied };
  } finally {
    store.close();
    await server.stop();
  }
}

async function main(): Promise<void> {
  const rows: string[] = [];
  const shapes: Shape[] = ['per-100', 'per-name'];
  const built = new Map(shapes.map((s) => [s, objects(s)]));
  for (const shape of shapes) {
    const list = built.get(shape) as EndpointObject[];
    for (const incremental of [false, true]) {
      const r = await changeLatency(list, incremental, Number(incremental ? values.changes : values['whole-changes']));
      rows.push(`| ${shape === 'per-100' ? '100 endpoints per object' : 'one object per name'} | ${r.objects} | ${r.endpoints} | ${incremental ? 'by name (after)' : 'whole (before)'} | ${r.n} | ${r.p50.toFixed(1)} | ${r.p99.toFixed(1)} | ${r.max.toFixed(1)} |`);
      console.error(rows.at(-1));
    }
  }
  const load: string[] = [];
  for (const incremental of [false, true]) {
    const r = await underLoad(built.get('per-100') as EndpointObject[], incremental);
    load.push(
      `| ${incremental ? 'by name (after)' : 'whole (before)'} | ${r.applied} | ${r.served.p50.toFixed(1)} | ${r.served.p99.toFixed(1)} | ${Math.round(r.idle.qps)} | ${r.idle.p99Ms.toFixed(2)} | ${Math.round(r.churn.qps)} | ${r.churn.p99Ms.toFixed(2)} | ${(r.churn.p99Ms / r.idle.p99Ms).toFixed(2)}× | ${r.idle.errors + r.churn.errors} |`,
    );
    console.error(load.at(-1));
  }
  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  console.log(`\nChurn, ${cpus().length} × ${cpu}, load average ${loadavg().map((l) => l.toFixed(1)).join(' ')} at the end, ${new Date().toISOString()}`);
  console.log('\nOne changed endpoint in one object → new snapshot current (in process, ms)');
  console.log('| objects | count | endpoints | rebuild | changes | p50 ms | p99 ms | max ms |');
  console.log('|---|---|---|---|---|---|---|---|');
  for (const r of rows) console.log(r);
  console.log(`\n${values.rate} changes/s for ${values.seconds} s (100 endpoints per object) while ${values.concurrency} gRPC queries are in flight from another process; idle = the same load for ${values.idle} s without changes`);
  console.log('| rebuild | changes | served p50 ms | served p99 ms | idle qps | idle p99 ms | churn qps | churn p99 ms | p99 churn/idle | errors |');
  console.log('|---|---|---|---|---|---|---|---|---|---|');
  for (const r of load) console.log(r);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
