/** Several clusters in one store: merge order, readiness, lost peers, and one conflict rule for every cluster. */
import assert from 'node:assert/strict';
import { DEFAULT_ZONE_SETTINGS, zoneConfig } from '../../../src/dns/zone-config.js';
import type { EndpointObject } from '../../../src/endpoint/endpoint.js';
import { ZoneStore, type PartitionSink } from '../../../src/store/zone-store.js';
import { ask } from '../../support/zone-text.js';

const CLUSTERS = ['a', 'b', 'c'];

function obj(key: string, endpoints: unknown[], createdAt?: number): EndpointObject {
  const [namespace, name] = key.split('/') as [string, string];
  return { key, origin: { source: 'test', namespace, name, ...(createdAt !== undefined ? { createdAt } : {}) }, endpoints };
}

const a = (name: string, ip: string) => ({ dnsName: name, recordType: 'A', targets: [ip] });

/** The store of cluster `self`: its own partition first, then the peers in the order given. */
function clusterStore(self: string, options: { orphans?: 'keep' | 'withdraw' } = {}): { store: ZoneStore; sinks: Map<string, PartitionSink> } {
  const store = new ZoneStore({ zones: [zoneConfig('example.test', DEFAULT_ZONE_SETTINGS)], defaultTtl: 300 });
  const sinks = new Map<string, PartitionSink>();
  const order = [self, ...CLUSTERS.filter((c) => c !== self)];
  order.forEach((c, locality) =>
    sinks.set(c, store.partition(`cluster:${c}`, { cluster: c, locality, keyPrefix: c === self ? '' : `${c}:`, gatesReadiness: c === self, ...options })),
  );
  return { store, sinks };
}

const answers = (store: ZoneStore, name: string, type = 'A'): string[] => {
  const r = ask(store.current!, name, type);
  return r.answer.map((l) => l.split(' ').at(-1) as string);
};

/** Like sectionsOf but in wire order: the order inside the RRset is what is tested. */
function orderedTargets(store: ZoneStore, name: string): string[] {
  const r = ask(store.current!, name, 'A', { keepOrder: true });
  return r.answer.map((l) => l.split(' ').at(-1) as string);
}

describe('zone store with several clusters', () => {
  it('is ready when this cluster has listed, whatever the peers do', () => {
    const { store, sinks } = clusterStore('a');
    sinks.get('b')?.replaceAll([obj('ns/x', [a('x.example.test', '10.0.0.2')])]);
    sinks.get('b')?.synced();
    assert.equal(store.flush(), undefined, 'a peer alone does not make crdns ready');
    sinks.get('a')?.replaceAll([]);
    sinks.get('a')?.synced();
    assert.ok(store.flush());
    assert.deepEqual(answers(store, 'x.example.test'), ['10.0.0.2'], 'a record defined only in cluster b is answered in a');
  });

  it('merges one name from every cluster into one RRset: this cluster\'s targets first, then the peers in order', () => {
    for (const self of CLUSTERS) {
      const { store, sinks } = clusterStore(self);
      // Arrival order is c, b, a on purpose.
      for (const c of ['c', 'b', 'a']) {
        sinks.get(c)?.replaceAll([obj('apps/web', [a('web.example.test', `10.0.0.${CLUSTERS.indexOf(c) + 1}`)])]);
        sinks.get(c)?.synced();
      }
      store.flush();
      const own = `10.0.0.${CLUSTERS.indexOf(self) + 1}`;
      const got = orderedTargets(store, 'web.example.test');
      assert.equal(got.length, 3, `union in cluster ${self}`);
      assert.equal(got[0], own, `cluster ${self}'s own target first: ${got.join(' ')}`);
      const peers = CLUSTERS.filter((c) => c !== self).map((c) => `10.0.0.${CLUSTERS.indexOf(c) + 1}`);
      assert.deepEqual(got.slice(1), peers, 'then the peers in the order given');
    }
  });

  it('withdraws a lost peer\'s targets from shared RRsets, keeps what only it serves, and restores it when it is back', () => {
    const { store, sinks } = clusterStore('a');
    sinks.get('a')?.replaceAll([obj('apps/web', [a('web.example.test', '10.0.0.1')])]);
    sinks.get('a')?.synced();
    sinks.get('b')?.replaceAll([obj('apps/web', [a('web.example.test', '10.0.0.2'), a('only-b.example.test', '10.0.0.22')])]);
    sinks.get('b')?.synced();
    store.flush();
    assert.deepEqual(answers(store, 'web.example.test').sort(), ['10.0.0.1', '10.0.0.2']);

    sinks.get('b')?.setLost(true);
    const e = store.flush();
    assert.deepEqual(answers(store, 'web.example.test'), ['10.0.0.1'], 'no client is sent to the dead cluster');
    assert.deepEqual(answers(store, 'only-b.example.test'), ['10.0.0.22'], 'orphans keep serving by default');
    assert.equal(e?.partitions.get('cluster:b')?.lost, true);

    sinks.get('b')?.setLost(false);
    store.flush();
    assert.deepEqual(answers(store, 'web.example.test').sort(), ['10.0.0.1', '10.0.0.2'], 'restored at once');
  });

  it('with orphans withdrawn, a lost peer\'s sole records go too', () => {
    const { store, sinks } = clusterStore('a', { orphans: 'withdraw' });
    sinks.get('a')?.replaceAll([]);
    sinks.get('a')?.synced();
    sinks.get('b')?.replaceAll([obj('apps/x', [a('only-b.example.test', '10.0.0.22')])]);
    store.flush();
    sinks.get('b')?.setLost(true);
    store.flush();
    assert.equal(ask(store.current!, 'only-b.example.test', 'A').rcode, 'NXDOMAIN');
  });

  it('decides a cross-cluster CNAME/data conflict the same way in every cluster', () => {
    const results: string[] = [];
    for (const self of CLUSTERS) {
      const { store, sinks } = clusterStore(self);
      // Same creation second in b and c: the cluster name decides (b); a's is newer and loses whatever its locality.
      sinks.get('a')?.replaceAll([obj('apps/web', [a('app.example.test', '10.0.0.1')], 3_000)]);
      sinks.get('b')?.replaceAll([obj('apps/alias', [{ dnsName: 'app.example.test', recordType: 'CNAME', targets: ['web.example.test'] }], 2_000)]);
      sinks.get('c')?.replaceAll([obj('apps/web', [a('app.example.test', '10.0.0.3')], 2_000)]);
      for (const s of sinks.values()) s.synced();
      const e = store.flush();
      const cname = ask(store.current!, 'app.example.test', 'CNAME').answer.join();
      // Keys are local ("ns/name") or prefixed ("b:ns/name"); name each object by cluster to compare across clusters.
      const rejected = [...(e?.problems.keys() ?? [])].map((k) => (/^[abc]:/.test(k) ? k.replace(':', '/') : `${self}/${k}`)).sort();
      results.push(`${cname} | ${rejected.join(',')}`);
      assert.match(cname, /cname web\.example\.test\./i, `cluster ${self} serves b's CNAME`);
    }
    assert.equal(new Set(results).size, 1, `every cluster gives the same answer: ${results.join(' / ')}`);
  });
});
