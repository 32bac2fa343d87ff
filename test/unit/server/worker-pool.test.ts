/**
 * Serving workers as real threads: a ZoneStore feeds a WorkerPool of two, and
 * each worker's socket is asked over gRPC. What is checked: both answer the
 * store's data and its changes; a worker that starts before the first
 * snapshot says UNAVAILABLE until it has one; a crashed worker is started
 * again on the same socket with the changes made while it was down; the
 * answered queries reach the main thread's tally.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { queryClient, type QueryClient } from '../../../src/cli/query.js';
import { DEFAULT_ZONE_SETTINGS, zoneConfig } from '../../../src/dns/zone-config.js';
import type { EndpointObject } from '../../../src/endpoint/endpoint.js';
import { silentLogger } from '../../../src/logger.js';
import type { QueryTally } from '../../../src/server/workers/protocol.js';
import { WorkerPool } from '../../../src/server/workers/worker-pool.js';
import { ZoneStore } from '../../../src/store/zone-store.js';
import { answerHelpers } from '../../support/answers.js';

const Z = 'workers.test';

function object(name: string, type: string, targets: string[]): EndpointObject {
  return { key: `t/${name}`, origin: { source: 'test', namespace: 't', name }, endpoints: [{ dnsName: `${name}.${Z}`, recordType: type, targets }] };
}

describe('serving workers (WorkerPool)', function () {
  this.timeout(60_000);
  let dir: string;
  let store: ZoneStore;
  let pool: WorkerPool;
  let clients: QueryClient[];
  const tallies: QueryTally[] = [];
  let restarts = 0;

  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'crdns-workers-'));
    const zones = [zoneConfig(Z, DEFAULT_ZONE_SETTINGS)];
    store = new ZoneStore({ zones, defaultTtl: 60 });
    const listen = [0, 1].map((i) => [`unix://${path.join(dir, `w${i}.sock`)}`]);
    pool = new WorkerPool({
      zones,
      listen,
      logLevel: 'error',
      logger: silentLogger,
      currentBuild: () => store.currentBuild(),
      onTally: (t) => tallies.push(t),
      onRestart: () => restarts++,
    });
    store.onRebuild((e) => {
      pool.rebuilt(e);
      pool.setServing(true);
    });
    const bound = await pool.start();
    assert.deepEqual(bound, listen.flat());
    clients = bound.map((a) => queryClient(a, 2000));
  });

  after(async () => {
    for (const c of clients ?? []) c.close();
    store?.close();
    await pool?.stop(0);
    await rm(dir, { recursive: true, force: true });
  });

  it('answers UNAVAILABLE before the first snapshot, then the store\'s data on every worker', async () => {
    for (const c of clients) await assert.rejects(c.ask(`www.${Z}`, 'A'), /UNAVAILABLE/);
    assert.equal(pool.ready, false);
    store.replaceAll([object('www', 'A', ['192.0.2.1']), object('txt', 'TXT', ['one', 'two'])]);
    store.synced();
    store.flush();
    for (const c of clients) {
      const { served } = answerHelpers(() => c, 10_000);
      await served(`www.${Z}`, ['192.0.2.1']);
      await served(`txt.${Z}`, ['"one"', '"two"'], 'TXT');
    }
    assert.equal(pool.ready, true);
  });

  it('serves each change on every worker', async () => {
    store.upsert(object('www', 'A', ['192.0.2.2', '192.0.2.3']));
    store.upsert(object('new', 'AAAA', ['2001:db8::5']));
    store.flush();
    for (const c of clients) {
      const { served, answer } = answerHelpers(() => c, 10_000);
      await served(`www.${Z}`, ['192.0.2.2', '192.0.2.3']);
      await served(`new.${Z}`, ['2001:db8::5'], 'AAAA');
      store.remove('t/txt');
      store.flush();
      await served(`txt.${Z}`, [], 'TXT');
      assert.equal((await answer(`txt.${Z}`, 'TXT')).rcode, 3, 'NXDOMAIN once removed');
    }
  });

  it('starts a crashed worker again, on its socket, with what changed while it was down', async () => {
    await pool.crash(0);
    assert.equal(pool.ready, true, 'the other worker still serves');
    assert.equal(pool.details()[0]?.listening, false);
    store.upsert(object('later', 'A', ['192.0.2.9']));
    store.flush();
    const { served } = answerHelpers(() => clients[1] as QueryClient, 10_000);
    await served(`later.${Z}`, ['192.0.2.9']);
    const again = answerHelpers(() => clients[0] as QueryClient, 20_000);
    await again.served(`later.${Z}`, ['192.0.2.9']);
    await again.served(`www.${Z}`, ['192.0.2.2', '192.0.2.3']);
    assert.equal(restarts, 1);
    assert.equal(pool.ready, true);
    assert.deepEqual(pool.details().map((d) => d.generation), [store.current?.generation, store.current?.generation]);
  });

  it('hands the answered queries to the main thread', async () => {
    const settle = () => new Promise((r) => setTimeout(r, 600));
    await settle(); // the earlier tests' last queries, still in a worker's tally
    const before = tallies.reduce((n, t) => n + t.counts.reduce((m, c) => m + c.n, 0), 0);
    for (const c of clients) for (let i = 0; i < 10; i++) await c.ask(`www.${Z}`, 'A');
    await settle();
    const after = tallies.reduce((n, t) => n + t.counts.reduce((m, c) => m + c.n, 0), 0);
    assert.equal(after - before, 20);
    const durations = tallies.reduce((n, t) => n + t.durations.length, 0);
    assert.ok(durations >= 20, `${durations} durations`);
  });
});
