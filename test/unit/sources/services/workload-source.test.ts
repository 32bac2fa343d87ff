/** The workload source over fake list/watch clients: sync, health gating with the hold-down, and Ingress health via backends. */
import assert from 'node:assert/strict';
import { Registry } from 'prom-client';
import { registerResourceWatchMetrics } from '../../../../src/observe/source-metrics.js';
import type { Clock } from '../../../../src/sources/services/hold-down.js';
import { WorkloadSource } from '../../../../src/sources/services/workload-source.js';
import { FakeListWatch, tick, type FakeObject } from '../../../support/fake-list-watch.js';
import { eventually } from '../../../support/eventually.js';
import { RecordingSink } from '../../../support/recording-sink.js';

const ANN = 'external-dns.kubernetes.io/hostname';

/** Timers fire only when the test says so. */
class ManualClock implements Clock {
  timers: Array<() => void> = [];
  now = () => 0;
  setTimer(fn: () => void): unknown {
    this.timers.push(fn);
    return fn;
  }
  clearTimer(handle: unknown): void {
    this.timers = this.timers.filter((t) => t !== handle);
  }
  fireAll(): void {
    for (const t of this.timers.splice(0)) t();
  }
}

const svc = (name: string, rv: string, hostname: string): FakeObject =>
  ({
    metadata: { name, namespace: 'ns', resourceVersion: rv, uid: `uid-${name}`, annotations: { [ANN]: hostname } },
    spec: { type: 'LoadBalancer', clusterIP: '10.96.0.1' },
    status: { loadBalancer: { ingress: [{ ip: '192.0.2.1' }] } },
  }) as unknown as FakeObject;

const slice = (service: string, rv: string, ready: boolean): FakeObject =>
  ({
    metadata: { name: `${service}-abc`, namespace: 'ns', resourceVersion: rv, labels: { 'kubernetes.io/service-name': service } },
    addressType: 'IPv4',
    endpoints: [{ addresses: ['10.0.0.1'], conditions: { ready } }],
  }) as unknown as FakeObject;

const ingress = (name: string, rv: string, backend: string): FakeObject =>
  ({
    metadata: { name, namespace: 'ns', resourceVersion: rv, uid: `uid-${name}` },
    spec: { rules: [{ host: `${name}.example.org`, http: { paths: [{ backend: { service: { name: backend } } }] } }] },
    status: { loadBalancer: { ingress: [{ ip: '192.0.2.9' }] } },
  }) as unknown as FakeObject;

function setup(kinds: Array<'service' | 'ingress'>, lists: Record<string, FakeObject[]>) {
  const clients = new Map<string, FakeListWatch>();
  const clock = new ManualClock();
  const source = new WorkloadSource({
    kinds,
    clock,
    holdDownMs: 5000,
    listWatchFactory: (resource) => {
      const c = new FakeListWatch();
      c.listResults = [{ items: lists[resource] ?? [], resourceVersion: '10' }];
      clients.set(resource, c);
      return c;
    },
  });
  const client = (r: string): FakeListWatch => {
    const c = clients.get(r);
    assert.ok(c, r);
    return c;
  };
  return { source, clock, client, service: new RecordingSink(), ingress: new RecordingSink() };
}

const targetsOf = (sink: RecordingSink, key: string): string[] =>
  ((sink.state.get(key)?.endpoints ?? []) as Array<{ targets: string[] }>).flatMap((e) => e.targets);

describe('services: workload source', () => {
  it('publishes after every watch listed, only healthy Services; withdraws after the hold-down; back at once', async () => {
    const t = setup(['service'], { services: [svc('web', '1', 'web.example.org'), svc('down', '2', 'down.example.org')], endpointslices: [slice('web', '3', true), slice('down', '4', false)] });
    await t.source.start({ service: t.service });
    await eventually('synced', () => t.service.isSynced);
    assert.deepEqual(t.service.log().slice(0, 2), ['replaceAll(ns/down,ns/web)', 'synced']);
    assert.deepEqual(targetsOf(t.service, 'ns/web'), ['192.0.2.1']);
    assert.deepEqual(targetsOf(t.service, 'ns/down'), [], 'never ready: present without records');
    await eventually('slice watch', () => t.client('endpointslices').watches.length > 0);
    const watch = t.client('endpointslices').last;
    watch.open();

    watch.event('MODIFIED', slice('web', '5', false));
    await tick();
    assert.deepEqual(targetsOf(t.service, 'ns/web'), ['192.0.2.1'], 'held');
    assert.equal(t.clock.timers.length, 1);
    t.clock.fireAll();
    assert.deepEqual(targetsOf(t.service, 'ns/web'), [], 'withdrawn when the hold-down ran out');

    watch.event('MODIFIED', slice('web', '6', true));
    await tick();
    assert.deepEqual(targetsOf(t.service, 'ns/web'), ['192.0.2.1'], 'back at once');

    // Lost and regained inside the hold-down: no withdrawal at all.
    const before = t.service.calls.length;
    watch.event('MODIFIED', slice('web', '7', false));
    watch.event('MODIFIED', slice('web', '8', true));
    await tick();
    assert.equal(t.clock.timers.length, 0);
    assert.equal(t.service.calls.length, before, 'nothing handed over: the entries never changed');

    watch.event('DELETED', slice('down', '9', false));
    watch.event('ADDED', slice('down', '10', true));
    await tick();
    assert.deepEqual(targetsOf(t.service, 'ns/down'), ['192.0.2.1']);
    await t.source.stop();
  });

  it('Ingress: published while a backend Service is ready; a Service deleted → its records removed', async () => {
    const t = setup(['service', 'ingress'], {
      services: [svc('api', '1', 'api.example.org')],
      endpointslices: [slice('api', '2', true)],
      ingresses: [ingress('shop', '3', 'api'), ingress('orphan', '4', 'missing')],
    });
    await t.source.start({ service: t.service, ingress: t.ingress });
    await eventually('synced', () => t.ingress.isSynced && t.service.isSynced);
    assert.deepEqual(targetsOf(t.ingress, 'ns/shop'), ['192.0.2.9']);
    assert.deepEqual(targetsOf(t.ingress, 'ns/orphan'), [], 'backend missing: no ready endpoint');
    await eventually('watches', () => t.client('endpointslices').watches.length > 0 && t.client('services').watches.length > 0);
    t.client('endpointslices').last.open();
    t.client('endpointslices').last.event('MODIFIED', slice('api', '5', false));
    await tick();
    t.clock.fireAll();
    assert.deepEqual(targetsOf(t.ingress, 'ns/shop'), []);
    assert.deepEqual(targetsOf(t.service, 'ns/api'), []);
    t.client('services').last.open();
    t.client('services').last.event('DELETED', svc('api', '6', 'api.example.org'));
    await tick();
    assert.equal(t.service.state.has('ns/api'), false);
    assert.ok(t.service.log().includes('remove(ns/api)'));
    await t.source.stop();
  });

  it('a relist (410 Gone) hands over only what changed: a Service gone, another changed', async () => {
    const t = setup(['service'], { services: [svc('a', '1', 'a.example.org'), svc('b', '2', 'b.example.org')], endpointslices: [slice('a', '3', true), slice('b', '4', true)] });
    await t.source.start({ service: t.service });
    await eventually('synced', () => t.service.isSynced);
    await eventually('service watch', () => t.client('services').watches.length > 0);
    const services = t.client('services');
    services.last.open();
    const changed = svc('b', '5', 'b2.example.org');
    services.listResults = [{ items: [changed], resourceVersion: '20' }];
    const before = t.service.calls.length;
    services.last.event('ERROR', { kind: 'Status', code: 410, reason: 'Expired' });
    services.last.close(null);
    await eventually('relisted', () => t.service.calls.length >= before + 2);
    assert.deepEqual(t.service.log().slice(before).sort(), ['remove(ns/a)', 'upsert(ns/b)']);
    assert.deepEqual(t.service.keys(), ['ns/b']);
    assert.equal((t.service.state.get('ns/b')?.endpoints[0] as { dnsName: string }).dnsName, 'b2.example.org');
    await t.source.stop();
  });

  it('sums its watches up per resource, for the crdns_source_watch_* metrics: a relist counts on the resource it happened to', async () => {
    const t = setup(['ingress'], { services: [], endpointslices: [], ingresses: [] });
    assert.deepEqual(t.source.watches(), [], 'nothing before start');
    await t.source.start({ ingress: t.ingress });
    await eventually('synced', () => t.ingress.isSynced);
    await eventually('watches', () => ['services', 'endpointslices', 'ingresses'].every((r) => t.client(r).watches.length > 0));
    for (const r of ['services', 'endpointslices', 'ingresses']) t.client(r).last.open();
    await eventually('connected', () => t.source.watches().every((w) => w.connected));
    assert.deepEqual(t.source.watches().map((w) => w.resource), ['services', 'endpointslices', 'ingresses']);
    const slices = t.client('endpointslices');
    slices.last.event('ERROR', { kind: 'Status', code: 410, reason: 'Expired' });
    slices.last.close(null);
    await eventually('relisted', () => t.source.watches().find((w) => w.resource === 'endpointslices')?.relists === 1);
    const byResource = new Map(t.source.watches().map((w) => [w.resource, w]));
    assert.equal(byResource.get('services')?.relists, 0);
    assert.equal(byResource.get('ingresses')?.relists, 0);
    assert.ok((byResource.get('endpointslices')?.restarts ?? 0) >= 1);
    for (const w of byResource.values()) assert.equal(typeof w.lastSyncTime, 'number');

    const registry = new Registry();
    registerResourceWatchMetrics(registry, () => t.source.watches());
    const text = await registry.metrics();
    assert.match(text, /^crdns_source_watch_relists\{resource="endpointslices"\} 1$/m);
    assert.match(text, /^crdns_source_watch_relists\{resource="services"\} 0$/m);
    assert.match(text, /^crdns_source_watch_last_sync_timestamp_seconds\{resource="ingresses"\} \d/m);
    for (const m of ['connected', 'restarts', 'failures', 'idle_restarts']) assert.match(text, new RegExp(`^crdns_source_watch_${m}\\{resource="ingresses"\\} \\d+$`, 'm'));
    await t.source.stop();
  });
});
