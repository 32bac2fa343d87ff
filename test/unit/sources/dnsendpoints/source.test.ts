import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadKubeConfig } from '../../../../src/kubernetes/client.js';
import { DnsEndpointSource, type DnsEndpointSourceOptions } from '../../../../src/sources/dnsendpoints/source.js';
import { FakeListWatch, obj, tick, type FakeObject } from '../../../support/fake-list-watch.js';
import { eventually } from '../../../support/eventually.js';
import { RecordingSink } from '../../../support/recording-sink.js';

function setup(options: Partial<DnsEndpointSourceOptions> = {}): {
  source: DnsEndpointSource;
  sink: RecordingSink;
  clients: Map<string, FakeListWatch>;
  scopes: Array<{ namespace?: string; labelSelector?: string }>;
} {
  const clients = new Map<string, FakeListWatch>();
  const scopes: Array<{ namespace?: string; labelSelector?: string }> = [];
  const source = new DnsEndpointSource({
    backoff: { initialMs: 1, maxMs: 5 },
    ...options,
    listWatchFactory: (scope) => {
      scopes.push(scope);
      const c = new FakeListWatch();
      clients.set(scope.namespace ?? '*', c);
      return c;
    },
  });
  return { source, sink: new RecordingSink(), clients, scopes };
}

function client(clients: Map<string, FakeListWatch>, scope: string): FakeListWatch {
  const c = clients.get(scope);
  assert.ok(c, `no client for scope ${scope}`);
  return c;
}

const withGeneration = (name: string, rv: string, generation: number, targets: string[], ns = 'ns'): FakeObject => {
  const o = obj(name, rv, {}, ns);
  o.metadata.generation = generation;
  o.spec = { endpoints: [{ dnsName: `${name}.example.org`, recordType: 'A', targets }] };
  return o;
};

describe('DnsEndpointSource (with a fake API)', () => {
  it('hands the first listing over as one replaceAll, then synced, then each change at once', async () => {
    const { source, sink, clients } = setup();
    await source.start(sink);
    const c = client(clients, '*');
    c.listResults = [{ items: [obj('a', '1'), obj('b', '2', {}, 'other')], resourceVersion: '10' }];
    await eventually('the first listing handed over', () => sink.isSynced);
    assert.deepEqual(sink.log(), ['replaceAll(ns/a,other/b)', 'synced']);
    const a = sink.state.get('ns/a');
    assert.deepEqual(a?.origin, { source: 'kubernetes', namespace: 'ns', name: 'a', generation: 1, uid: 'uid-ns-a' });
    assert.deepEqual(a?.endpoints, [{ dnsName: 'a.example.org', recordType: 'A', targets: ['192.0.2.1'] }]);

    await eventually('watch', () => c.watches.length === 1);
    c.last.open();
    c.last.event('ADDED', obj('c', '11'));
    assert.deepEqual(sink.log().slice(2), ['upsert(ns/c)'], 'delivered synchronously, no batching');
    c.last.event('MODIFIED', withGeneration('a', '12', 2, ['192.0.2.99']));
    c.last.event('DELETED', obj('b', '13', {}, 'other'));
    assert.deepEqual(sink.log().slice(3), ['upsert(ns/a)', 'remove(other/b)']);
    assert.deepEqual((sink.state.get('ns/a')?.endpoints[0] as { targets: string[] }).targets, ['192.0.2.99']);
    assert.equal(source.state.objects, 2);
    await source.stop();
  });

  it('does not pass on status-only changes (same generation and endpoints), such as its own status writes', async () => {
    const { source, sink, clients } = setup();
    await source.start(sink);
    const c = client(clients, '*');
    c.listResults = [{ items: [obj('a', '1')], resourceVersion: '10' }];
    await eventually('the first listing handed over', () => sink.isSynced);
    await eventually('watch', () => c.watches.length === 1);
    c.last.open();
    c.last.event('MODIFIED', obj('a', '11', { status: { observedGeneration: 1 } }));
    assert.deepEqual(sink.log(), ['replaceAll(ns/a)', 'synced']);
    assert.deepEqual(source.lookup('ns/a')?.status, { observedGeneration: 1 }, 'the directory still sees the new status');
    assert.equal(source.lookup('ns/a')?.resourceVersion, '11');
    // A new generation is passed on even with identical endpoints, so observedGeneration can follow.
    c.last.event('MODIFIED', withGeneration('a', '12', 2, ['192.0.2.1']));
    assert.deepEqual(sink.log().slice(2), ['upsert(ns/a)']);
    await source.stop();
  });

  it('keeps the sink untouched while the API fails, and replaces all only when a relist finds changes', async () => {
    const { source, sink, clients } = setup();
    await source.start(sink);
    const c = client(clients, '*');
    c.listResults = [
      { items: [obj('a', '1'), obj('b', '2')], resourceVersion: '10' },
      new Error('connect ECONNREFUSED 127.0.0.1:6443'),
      { items: [obj('a', '1'), obj('b', '2')], resourceVersion: '50' },
      { items: [obj('a', '1')], resourceVersion: '60' },
    ];
    await eventually('the first listing handed over', () => sink.isSynced);
    const before = sink.log().length;
    for (let i = 0; i < 4; i++) {
      await eventually('watch attempt', () => c.watches.length === i + 1);
      c.last.failToOpen(new Error('connect ECONNREFUSED 127.0.0.1:6443'));
    }
    await eventually('more attempts', () => c.watches.length === 5);
    assert.equal(sink.log().length, before, 'no sink calls while the API is down');
    assert.equal(sink.state.size, 2);
    assert.equal(source.state.connected, false);
    assert.equal(source.state.synced, true);

    // Back, but our resourceVersion is too old: relist (fails once), same content: no replaceAll.
    c.last.failToOpen(Object.assign(new Error('Gone'), { statusCode: 410 }));
    await eventually('watch after relist', () => c.watches.length === 6);
    assert.equal(sink.log().length, before, 'an unchanged relist is not passed on');
    assert.equal(c.last.resourceVersion, '50');
    c.last.open();
    c.last.event('ERROR', { code: 410, reason: 'Expired' });
    c.last.close(null);
    await eventually('watch after second relist', () => c.watches.length === 7);
    assert.deepEqual(sink.log().slice(before), ['replaceAll(ns/a)'], 'b vanished while we were away');
    await source.stop();
  });

  it('watches each listed namespace separately and syncs once all of them have listed', async () => {
    const { source, sink, clients, scopes } = setup({ namespaces: ['one', 'two', 'one', ''], labelSelector: 'serve=yes' });
    await source.start(sink);
    assert.deepEqual(scopes, [
      { namespace: 'one', labelSelector: 'serve=yes' },
      { namespace: 'two', labelSelector: 'serve=yes' },
    ]);
    const one = client(clients, 'one');
    const two = client(clients, 'two');
    one.listResults = [{ items: [obj('a', '1', {}, 'one')], resourceVersion: '10' }];
    two.listResults = [new Error('forbidden'), { items: [obj('b', '2', {}, 'two')], resourceVersion: '11' }];
    await eventually('one watching', () => one.watches.length === 1);
    one.last.open();
    one.last.event('ADDED', obj('early', '12', {}, 'one'));
    assert.deepEqual(sink.log(), [], 'nothing before every namespace has listed');
    await eventually('the first listing handed over', () => sink.isSynced);
    assert.deepEqual(sink.log(), ['replaceAll(one/a,one/early,two/b)', 'synced']);

    // A relist of one namespace replaces all, keeping the other namespace's objects.
    one.listResults = [{ items: [], resourceVersion: '20' }];
    one.last.event('ERROR', { code: 410 });
    one.last.close(null);
    await eventually('relist of one', () => one.watches.length === 2);
    assert.deepEqual(sink.log().slice(2), ['replaceAll(two/b)']);
    await source.stop();
  });

  it('reports connection state for metrics and readiness', async () => {
    const states: Array<{ connected: boolean; synced: boolean }> = [];
    const { source, sink, clients } = setup({ onStateChange: (s) => states.push({ connected: s.connected, synced: s.synced }) });
    assert.equal(source.state.synced, false);
    assert.equal(source.state.lastSyncTime, undefined);
    // Taken before start: no sync can be older, however long the machine stalls in between.
    const t0 = Date.now();
    await source.start(sink);
    const c = client(clients, '*');
    c.listResults = [{ items: [], resourceVersion: '10' }];
    await eventually('the first listing handed over', () => sink.isSynced);
    await eventually('watch', () => c.watches.length === 1);
    c.last.open();
    await eventually('connected', () => source.state.connected);
    assert.ok((source.state.lastSyncTime ?? 0) >= t0);
    c.last.close(new Error('read ECONNRESET'));
    await eventually('disconnected', () => !source.state.connected);
    assert.ok(states.some((s) => s.connected));
    assert.equal(states[states.length - 1]?.connected, false);
    assert.equal(source.state.failures >= 1, true);
    await source.stop();
  });

  it('stops quietly even while a watch is open', async () => {
    const { source, sink, clients } = setup();
    await source.start(sink);
    const c = client(clients, '*');
    c.listResults = [{ items: [obj('a', '1')], resourceVersion: '10' }];
    await eventually('the first listing handed over', () => sink.isSynced);
    await eventually('watch', () => c.watches.length === 1);
    c.last.open();
    const calls = sink.log().length;
    await source.stop();
    // client-node reports the abort as an error after stop(); nothing may follow from it.
    c.last.close(new Error('The user aborted a request.'));
    c.last.event('DELETED', obj('a', '12'));
    await tick(30);
    assert.equal(sink.log().length, calls);
    assert.equal(c.watches.length, 1);
    await assert.rejects(() => source.start(sink), /already started/);
  });
});

describe('loadKubeConfig', () => {
  const saved = { HOME: process.env['HOME'], KUBECONFIG: process.env['KUBECONFIG'] };
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'crdns-kc-'));
  });
  afterEach(async () => {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    await rm(dir, { recursive: true, force: true });
  });

  const kubeconfig = (server: string): string => `apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "${server}", certificate-authority: ca.crt}}]
users: [{name: u, user: {token: abc}}]
contexts: [{name: x, context: {cluster: c, user: u}}]
current-context: x
`;

  it('reads an explicit file, resolving relative paths against its folder', async () => {
    const file = join(dir, 'config');
    await writeFile(file, kubeconfig('https://127.0.0.1:6443'));
    const kc = loadKubeConfig(file);
    assert.equal(kc.getCurrentCluster()?.server, 'https://127.0.0.1:6443');
    assert.equal(kc.getCurrentCluster()?.caFile, join(dir, 'ca.crt'));
  });

  it('falls back to $KUBECONFIG', async () => {
    const file = join(dir, 'from-env');
    await writeFile(file, kubeconfig('https://10.1.2.3:6443'));
    process.env['KUBECONFIG'] = file;
    assert.equal(loadKubeConfig().getCurrentCluster()?.server, 'https://10.1.2.3:6443');
  });

  it('says clearly when there are no credentials at all, instead of dialling localhost:8080', () => {
    delete process.env['KUBECONFIG'];
    process.env['HOME'] = dir;
    assert.throws(() => loadKubeConfig(), /no Kubernetes credentials/);
    assert.throws(() => new DnsEndpointSource({}), /no Kubernetes credentials/);
  });
});
