/** The zone store serving saved objects (--snapshot-file) until each partition's first live listing replaces them. */
import assert from 'node:assert/strict';
import { DEFAULT_ZONE_SETTINGS, zoneConfig } from '../../../src/dns/zone-config.js';
import type { EndpointObject } from '../../../src/endpoint/endpoint.js';
import { decodeSnapshot, encodeSnapshot } from '../../../src/store/snapshot-file.js';
import { ZoneStore, type PartitionSink, type RebuildEvent, type SavedPartition } from '../../../src/store/zone-store.js';
import { ask } from '../../support/zone-text.js';

function obj(key: string, endpoints: unknown[], extra: Partial<EndpointObject['origin']> = {}): EndpointObject {
  const [namespace, name] = key.split('/') as [string, string];
  return { key, origin: { source: 'kubernetes', namespace, name, uid: `uid-${key}`, generation: 1, createdAt: 1_700_000_000_000, ...extra }, endpoints };
}
const a = (name: string, ip: string) => ({ dnsName: name, recordType: 'A', targets: [ip] });

function stores(): { store: ZoneStore; local: PartitionSink; peer: PartitionSink; events: RebuildEvent[] } {
  const store = new ZoneStore({ zones: [zoneConfig('example.test', DEFAULT_ZONE_SETTINGS)], defaultTtl: 300 });
  const local = store.partition('cluster:a', { cluster: 'a', locality: 0, gatesReadiness: true });
  const peer = store.partition('cluster:b', { cluster: 'b', locality: 1, keyPrefix: 'b:', gatesReadiness: false });
  const events: RebuildEvent[] = [];
  store.onRebuild((e) => events.push(e));
  return { store, local, peer, events };
}

const answers = (store: ZoneStore, name: string): string[] => ask(store.current!, name, 'A').answer.map((l) => l.split(' ').at(-1) as string).sort();

/** What a store that had listed these saves, through the file format and back. */
function savedFrom(fill: (local: PartitionSink, peer: PartitionSink) => void): SavedPartition[] {
  const { store, local, peer } = stores();
  fill(local, peer);
  local.synced();
  store.flush();
  const decoded = decodeSnapshot(encodeSnapshot({ crdns: 't', writtenAt: 0, dataTime: 0, scope: {}, partitions: store.savedPartitions() }));
  assert.ok(decoded.ok);
  return decoded.contents.partitions;
}

describe('zone store restore (warm restart)', () => {
  const saved = savedFrom((local, peer) => {
    local.replaceAll([obj('apps/web', [a('web.example.test', '10.0.0.1')]), obj('apps/bad', [{ dnsName: 'bad.example.test', recordType: 'MX', targets: ['ten mx'] }])]);
    peer.replaceAll([obj('apps/web', [a('web.example.test', '10.0.0.2')]), obj('apps/only-b', [a('b.example.test', '10.0.0.9')])]);
  });

  it('saves each partition with the keys its source gave, so they go back through the same stamping', () => {
    assert.deepEqual(saved.map((p) => [p.name, p.objects.map((o) => o.key)]), [
      ['cluster:a', ['apps/bad', 'apps/web']],
      ['cluster:b', ['apps/only-b', 'apps/web']],
    ]);
  });

  it('serves restored objects, built and validated like live ones, and is ready', () => {
    const { store, events } = stores();
    assert.equal(store.ready, false);
    const r = store.restore(saved);
    assert.deepEqual(r, { restored: ['cluster:a', 'cluster:b'], skipped: [], ready: true });
    store.flush();
    assert.ok(store.ready);
    assert.deepEqual(answers(store, 'web.example.test'), ['10.0.0.1', '10.0.0.2']);
    assert.deepEqual(answers(store, 'b.example.test'), ['10.0.0.9']);
    const e = events.at(-1)!;
    assert.equal(e.problems.get('apps/bad')?.[0]?.field, 'targets[0]', 'the invalid entry is rejected again');
    assert.equal(e.touched.size, 0, 'nothing restored is handed to feedback');
    assert.deepEqual(store.restoredPartitions(), [
      { name: 'cluster:a', gatesReadiness: true },
      { name: 'cluster:b', gatesReadiness: false },
    ]);
    assert.equal(e.partitions.get('cluster:a')?.restored, true);
  });

  it('replaces a partition\'s restored objects with its first live listing, every object touched, even those unchanged', () => {
    const { store, local, events } = stores();
    store.restore(saved);
    store.flush();
    local.replaceAll([obj('apps/web', [a('web.example.test', '10.0.0.1')]), obj('apps/new', [a('new.example.test', '10.0.0.3')])]);
    local.synced();
    const e = store.flush()!;
    assert.deepEqual([...e.touched.keys()].sort(), ['apps/new', 'apps/web'], 'live objects are reported on, the same as at any start');
    assert.deepEqual(e.changes.removed, ['apps/bad']);
    assert.equal(e.problems.has('apps/bad'), false);
    assert.deepEqual(answers(store, 'new.example.test'), ['10.0.0.3']);
    assert.deepEqual(answers(store, 'web.example.test'), ['10.0.0.1', '10.0.0.2'], 'the peer still serves its restored data');
    assert.deepEqual(store.restoredPartitions().map((p) => p.name), ['cluster:b']);
    assert.equal(events.length, 2);
  });

  it('lets a peer\'s live listing replace its own restored data and nothing else', () => {
    const { store, peer } = stores();
    store.restore(saved);
    store.flush();
    peer.replaceAll([]);
    peer.synced();
    store.flush();
    assert.deepEqual(answers(store, 'web.example.test'), ['10.0.0.1']);
    assert.equal(ask(store.current!, 'b.example.test', 'A').rcode, 'NXDOMAIN');
    assert.deepEqual(store.restoredPartitions().map((p) => p.name), ['cluster:a']);
  });

  it('withdraws a lost peer\'s restored targets where a live cluster serves the name', () => {
    const { store, local, peer } = stores();
    store.restore(saved);
    local.replaceAll([obj('apps/web', [a('web.example.test', '10.0.0.1')])]);
    local.synced();
    peer.setLost(true);
    store.flush();
    assert.deepEqual(answers(store, 'web.example.test'), ['10.0.0.1']);
    assert.deepEqual(answers(store, 'b.example.test'), ['10.0.0.9'], 'orphans keep serving by default');
  });

  it('never restores over a partition that has listed live, nor into one not configured now', () => {
    const { store, local } = stores();
    local.replaceAll([obj('apps/live', [a('live.example.test', '10.0.0.7')])]);
    local.synced();
    store.flush();
    const r = store.restore([...saved, { name: 'cluster:gone', objects: [obj('x/y', [a('gone.example.test', '10.9.9.9')])] }]);
    assert.deepEqual(r.restored, ['cluster:b']);
    assert.deepEqual(r.skipped, [
      { name: 'cluster:a', reason: 'already listed live' },
      { name: 'cluster:gone', reason: 'no such source configured now' },
    ]);
    store.flush();
    assert.equal(ask(store.current!, 'web.example.test', 'A').answer.length, 1, 'only the peer\'s restored target');
    assert.equal(ask(store.current!, 'gone.example.test', 'A').rcode, 'NXDOMAIN');
  });

  it('is not ready from restored peers alone: readiness still waits for this cluster', () => {
    const { store } = stores();
    const r = store.restore(saved.filter((p) => p.name === 'cluster:b'));
    assert.equal(r.ready, false);
    assert.equal(store.flush(), undefined);
    assert.equal(store.ready, false);
  });

  it('saves restored peers along with live data, but never a partition that has neither listed nor been restored', () => {
    const { store, local } = stores();
    local.replaceAll([]);
    local.synced();
    store.flush();
    assert.deepEqual(store.savedPartitions().map((p) => p.name), ['cluster:a'], 'the peer never listed: nothing to say about it');
    store.restore(saved);
    store.flush();
    assert.deepEqual(store.savedPartitions().map((p) => [p.name, p.objects.length]), [
      ['cluster:a', 0],
      ['cluster:b', 2],
    ]);
  });
});
