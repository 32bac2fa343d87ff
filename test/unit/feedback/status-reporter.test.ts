import { callbackLogger } from '../../support/logger.js';
import assert from 'node:assert/strict';
import type { EndpointProblem } from '../../../src/endpoint/endpoint.js';
import type { DirectoryEntry, DnsEndpointResource, DnsEndpointStatus, ObjectDirectory } from '../../../src/sources/dnsendpoints/resource.js';
import { eventName } from '../../../src/feedback/events.js';
import type { EventBody, StatusApi } from '../../../src/feedback/status-api.js';
import { mergeAccepted, StatusReporter, type StatusReporterOptions } from '../../../src/feedback/status-reporter.js';
import { tick } from '../../support/fake-list-watch.js';
import { eventually } from '../../support/eventually.js';

/** The watch cache and the API server in one: patches land in the directory, as the watch would bring them. */
class FakeCluster implements ObjectDirectory, StatusApi {
  objects = new Map<string, DirectoryEntry>();
  patches: Array<{ key: string; status: DnsEndpointStatus }> = [];
  events: EventBody[] = [];
  eventNames = new Set<string>();
  /** Drop status.conditions like a CRD without them in its schema. */
  pruneConditions = false;
  /** Don't reflect writes in the directory (the watch lags behind). */
  watchLags = false;
  failures: Array<{ op: 'patch' | 'event'; code: number }> = [];
  hang = false;
  private rv = 100;

  add(namespace: string, name: string, generation: number, endpoints: unknown[], status?: DnsEndpointStatus): DirectoryEntry {
    const key = `${namespace}/${name}`;
    const entry: DirectoryEntry = {
      key,
      namespace,
      name,
      uid: `uid-${name}-${this.rv}`,
      generation,
      resourceVersion: String(this.rv++),
      endpoints,
      status,
    };
    this.objects.set(key, entry);
    return entry;
  }

  lookup(key: string): DirectoryEntry | undefined {
    const e = this.objects.get(key);
    return e ? structuredClone(e) : undefined;
  }

  async patchStatus(namespace: string, name: string, status: DnsEndpointStatus): Promise<DnsEndpointResource> {
    if (this.hang) return new Promise<never>(() => {});
    const failure = this.failures.findIndex((f) => f.op === 'patch');
    if (failure >= 0) {
      const [f] = this.failures.splice(failure, 1);
      throw Object.assign(new Error(`HTTP ${f?.code}`), { code: f?.code });
    }
    const key = `${namespace}/${name}`;
    const entry = this.objects.get(key);
    if (!entry) throw Object.assign(new Error('not found'), { code: 404 });
    const stored: DnsEndpointStatus = { ...entry.status, ...structuredClone(status) };
    if (this.pruneConditions) delete stored.conditions;
    this.patches.push({ key, status: structuredClone(status) });
    const resourceVersion = String(this.rv++);
    if (!this.watchLags) {
      entry.status = stored;
      entry.resourceVersion = resourceVersion;
    }
    return { metadata: { name, namespace, resourceVersion }, status: stored };
  }

  async createEvent(_namespace: string, event: EventBody): Promise<void> {
    const failure = this.failures.findIndex((f) => f.op === 'event');
    if (failure >= 0) {
      const [f] = this.failures.splice(failure, 1);
      throw Object.assign(new Error(`HTTP ${f?.code}`), { code: f?.code });
    }
    const name = event.metadata?.name ?? '';
    if (this.eventNames.has(name)) throw Object.assign(new Error('AlreadyExists'), { code: 409 });
    this.eventNames.add(name);
    this.events.push(event);
  }
}

function setup(options: Partial<StatusReporterOptions> = {}): { cluster: FakeCluster; reporter: StatusReporter } {
  const cluster = new FakeCluster();
  const reporter = new StatusReporter({
    directory: cluster,
    api: cluster,
    writesPerSecond: 1000,
    burst: 1000,
    retry: { initialMs: 1, maxMs: 5 },
    instance: 'crdns-test-0',
    ...options,
  });
  return { cluster, reporter };
}

const ENDPOINTS = [
  { dnsName: 'good.example.org', recordType: 'A', targets: ['192.0.2.1'] },
  { dnsName: 'bad.example.org', recordType: 'A', targets: ['192.0.2.1', '300.1.1.1'] },
  { dnsName: 'worse.example.org', recordType: 'MX', targets: ['mail.example.org'] },
];

const problem = (object: string, index: number, field: string, reason: string): EndpointProblem => ({ object, index, field, reason });

describe('StatusReporter', () => {
  it('writes observedGeneration and a False Accepted condition, and one Warning event per problem', async () => {
    const { cluster, reporter } = setup();
    const { uid, resourceVersion } = cluster.add('apps', 'web', 3, ENDPOINTS);
    reporter.report('apps/web', 3, [
      problem('apps/web', 1, 'targets[1]', 'not an IPv4 address'),
      problem('apps/web', 2, 'targets[0]', 'MX target needs "<preference> <host>"'),
    ]);
    await reporter.idle();
    assert.equal(cluster.patches.length, 1);
    const status = cluster.lookup('apps/web')?.status;
    assert.equal(status?.observedGeneration, 3);
    const accepted = status?.conditions?.find((c) => c.type === 'Accepted');
    assert.equal(accepted?.status, 'False');
    assert.equal(accepted?.reason, 'InvalidEndpoints');
    assert.equal(accepted?.observedGeneration, 3);
    assert.match(accepted?.lastTransitionTime ?? '', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    assert.equal(
      accepted?.message,
      '2 of 3 endpoints not served: spec.endpoints[1] dnsName="bad.example.org" field=targets[1]: not an IPv4 address; ' +
        'spec.endpoints[2] dnsName="worse.example.org" field=targets[0]: MX target needs "<preference> <host>"',
    );

    assert.equal(cluster.events.length, 2);
    const [first] = cluster.events;
    assert.equal(first?.type, 'Warning');
    assert.equal(first?.reason, 'InvalidEndpoint');
    assert.equal(first?.message, 'spec.endpoints[1] dnsName="bad.example.org" field=targets[1]: not an IPv4 address (generation 3)');
    assert.deepEqual(first?.involvedObject, {
      apiVersion: 'externaldns.k8s.io/v1alpha1',
      kind: 'DNSEndpoint',
      namespace: 'apps',
      name: 'web',
      uid,
      resourceVersion,
    });
    assert.equal(first?.metadata?.namespace, 'apps');
    assert.match(first?.metadata?.name ?? '', /^web\.[0-9a-f]{16}$/);
    assert.equal(first?.reportingComponent, 'crdns');
    assert.equal(first?.reportingInstance, 'crdns-test-0');
    assert.equal(first?.count, 1);
    await reporter.stop();
  });

  it('writes nothing more when the same result is reported again, even before the watch shows the write', async () => {
    const { cluster, reporter } = setup();
    cluster.add('apps', 'web', 1, ENDPOINTS);
    const problems = [problem('apps/web', 1, 'targets[1]', 'not an IPv4 address')];
    cluster.watchLags = true;
    for (let i = 0; i < 5; i++) reporter.report('apps/web', 1, problems);
    await reporter.idle();
    for (let i = 0; i < 5; i++) reporter.report('apps/web', 1, problems);
    await reporter.idle();
    assert.equal(cluster.patches.length, 1);
    assert.equal(cluster.events.length, 1);

    // Once the watch catches up, the object itself shows the status: still nothing to do.
    cluster.watchLags = false;
    const e = cluster.objects.get('apps/web');
    assert.ok(e);
    e.status = { ...cluster.patches[0]?.status };
    e.resourceVersion = '999';
    reporter.report('apps/web', 1, problems);
    await reporter.idle();
    assert.equal(cluster.patches.length, 1);
    assert.equal(reporter.stats.statusWrites, 1);
    assert.equal(reporter.stats.eventsCreated, 1);
    await reporter.stop();
  });

  it('reports a new generation again: new status, and new events even for the same problem', async () => {
    const { cluster, reporter } = setup();
    const entry = cluster.add('apps', 'web', 1, ENDPOINTS);
    const p = problem('apps/web', 1, 'targets[1]', 'not an IPv4 address');
    reporter.report('apps/web', 1, [p]);
    await reporter.idle();
    const e = cluster.objects.get('apps/web');
    assert.ok(e);
    e.generation = 2;
    reporter.report('apps/web', 2, [p]);
    await reporter.idle();
    assert.equal(cluster.events.length, 2);
    assert.notEqual(cluster.events[0]?.metadata?.name, cluster.events[1]?.metadata?.name);
    assert.equal(cluster.events[1]?.metadata?.name, eventName('web', entry.uid, 2, p));
    // Fixed: Accepted flips to True, lastTransitionTime moves.
    e.generation = 3;
    reporter.report('apps/web', 3, []);
    await reporter.idle();
    const accepted = cluster.lookup('apps/web')?.status?.conditions?.find((c) => c.type === 'Accepted');
    assert.equal(accepted?.status, 'True');
    assert.equal(accepted?.reason, 'Accepted');
    assert.equal(accepted?.message, 'all 3 endpoints are served');
    assert.equal(cluster.lookup('apps/web')?.status?.observedGeneration, 3);
    assert.equal(cluster.events.length, 2, 'no events when all is well');
    await reporter.stop();
  });

  it('ignores stale generations and keys it does not know', async () => {
    const { cluster, reporter } = setup();
    cluster.add('apps', 'web', 5, ENDPOINTS);
    reporter.report('apps/web', 4, [problem('apps/web', 0, 'dnsName', 'old news')]);
    reporter.report('manifests:file.yaml#0', undefined, [problem('manifests:file.yaml#0', 0, 'dnsName', 'x')]);
    await reporter.idle();
    assert.equal(cluster.patches.length, 0);
    assert.equal(cluster.events.length, 0);
    reporter.report('apps/web', undefined, []);
    await reporter.idle();
    assert.equal(cluster.lookup('apps/web')?.status?.observedGeneration, 5, 'undefined generation means the current one');
    await reporter.stop();
  });

  it('falls back to observedGeneration only when the CRD prunes conditions (ExternalDNS CRD)', async () => {
    const logs: string[] = [];
    const { cluster, reporter } = setup({ logger: callbackLogger((level, message) => logs.push(`${level} ${message}`)) });
    cluster.pruneConditions = true;
    cluster.add('apps', 'a', 1, ENDPOINTS);
    cluster.add('apps', 'b', 1, ENDPOINTS);
    reporter.report('apps/a', 1, [problem('apps/a', 1, 'targets[1]', 'not an IPv4 address')]);
    await reporter.idle();
    assert.equal(reporter.stats.conditionsSupported, false);
    assert.equal(cluster.lookup('apps/a')?.status?.observedGeneration, 1);
    reporter.report('apps/a', 1, [problem('apps/a', 1, 'targets[1]', 'not an IPv4 address')]);
    reporter.report('apps/b', 1, []);
    await reporter.idle();
    assert.equal(cluster.patches.length, 2, 'a is done; b gets one write');
    assert.deepEqual(cluster.patches[1], { key: 'apps/b', status: { observedGeneration: 1 } });
    assert.equal(cluster.events.length, 1, 'events do not depend on the schema');
    assert.equal(logs.filter((l) => l.includes('observedGeneration only')).length, 1, 'said once');
    assert.equal(reporter.stats.statusWriteFailures, 0);
    await reporter.stop();
  });

  it('keeps other writers\' conditions and the transition time of an unchanged status', () => {
    const desired = { generation: 4, accepted: { status: 'True' as const, reason: 'Accepted', message: 'all 1 endpoints are served' } };
    const existing = [
      { type: 'Ready', status: 'True' as const, lastTransitionTime: '2026-01-01T00:00:00Z', reason: 'Programmed', message: '' },
      { type: 'Accepted', status: 'True' as const, lastTransitionTime: '2026-02-02T00:00:00Z', reason: 'Accepted', message: 'old', observedGeneration: 3 },
    ];
    const merged = mergeAccepted(existing, desired, new Date('2026-03-03T03:03:03.333Z'));
    assert.deepEqual(merged.map((c) => [c.type, c.lastTransitionTime, c.observedGeneration]), [
      ['Ready', '2026-01-01T00:00:00Z', undefined],
      ['Accepted', '2026-02-02T00:00:00Z', 4],
    ]);
    const flipped = mergeAccepted(existing, { ...desired, accepted: { ...desired.accepted, status: 'False' } }, new Date('2026-03-03T03:03:03.333Z'));
    assert.equal(flipped[1]?.lastTransitionTime, '2026-03-03T03:03:03Z');
  });

  it('retries failed writes, and counts an existing event as already recorded', async () => {
    const { cluster, reporter } = setup();
    cluster.add('apps', 'web', 1, ENDPOINTS);
    cluster.failures = [
      { op: 'patch', code: 503 },
      { op: 'patch', code: 500 },
      { op: 'event', code: 503 },
    ];
    const p = problem('apps/web', 1, 'targets[1]', 'not an IPv4 address');
    reporter.report('apps/web', 1, [p]);
    await reporter.idle();
    assert.equal(cluster.lookup('apps/web')?.status?.observedGeneration, 1);
    assert.equal(cluster.events.length, 1);
    assert.equal(reporter.stats.statusWriteFailures, 2);

    // Another replica (or this one before a restart) starts with no memory: the event name collides.
    const second = new StatusReporter({ directory: cluster, api: cluster, writesPerSecond: 1000, burst: 1000 });
    second.report('apps/web', 1, [p]);
    await second.idle();
    assert.equal(cluster.events.length, 1);
    assert.equal(second.stats.eventsAlreadyRecorded, 1);
    assert.equal(second.stats.statusWrites, 0, 'the status is already right');
    await second.stop();
    await reporter.stop();
  });

  it('never blocks the caller, coalesces writes per object and respects the write rate', async () => {
    const { cluster, reporter } = setup({ writesPerSecond: 2, burst: 1, events: false });
    for (const name of ['a', 'b', 'c']) cluster.add('apps', name, 1, ENDPOINTS);
    cluster.hang = true;
    const started = Date.now();
    for (let i = 0; i < 1000; i++) reporter.report('apps/a', 1, [problem('apps/a', 1, 'targets[1]', `reason ${i}`)]);
    assert.ok(Date.now() - started < 5_000, 'report() returned while the API hangs');
    await reporter.stop();

    const second = setup({ writesPerSecond: 2, burst: 1, events: false });
    for (const name of ['a', 'b', 'c']) second.cluster.add('apps', name, 1, ENDPOINTS);
    second.reporter.report('apps/a', 1, []);
    second.reporter.report('apps/b', 1, []);
    second.reporter.report('apps/c', 1, []);
    second.reporter.report('apps/b', 1, [problem('apps/b', 0, 'dnsName', 'latest')]);
    await eventually('first write', () => second.cluster.patches.length >= 1);
    await tick(100);
    assert.equal(second.cluster.patches.length, 1, 'a burst of 1 at 2/s: the second write waits ~0.5 s');
    await second.reporter.idle();
    assert.deepEqual(second.cluster.patches.map((p) => p.key), ['apps/a', 'apps/b', 'apps/c']);
    assert.match(second.cluster.lookup('apps/b')?.status?.conditions?.[0]?.message ?? '', /latest/, 'b was written once, with the latest report');
    await second.reporter.stop();
  });

  it('drops writes for objects deleted or recreated meanwhile', async () => {
    const { cluster, reporter } = setup({ writesPerSecond: 1, burst: 1 });
    cluster.add('apps', 'first', 1, ENDPOINTS);
    cluster.add('apps', 'gone', 1, ENDPOINTS);
    reporter.report('apps/first', 1, []);
    reporter.report('apps/gone', 1, [problem('apps/gone', 0, 'dnsName', 'x')]);
    cluster.objects.delete('apps/gone');
    await reporter.idle();
    assert.deepEqual(cluster.patches.map((p) => p.key), ['apps/first']);
    assert.equal(cluster.events.length, 0);
    await reporter.stop();
  });

  it('gives every one of 20,000 objects its status and events, however many are pending', async function () {
    this.timeout(120_000);
    const { cluster, reporter } = setup({ writesPerSecond: 1_000_000, burst: 1_000_000 });
    const n = 20_000;
    const reports = [];
    for (let i = 0; i < n; i++) {
      cluster.add('apps', `o${i}`, 1, ENDPOINTS);
      reports.push({ key: `apps/o${i}`, generation: 1, problems: [problem(`apps/o${i}`, 1, 'targets[1]', 'not an IPv4 address')] });
    }
    reporter.reportMany(reports);
    await reporter.idle();
    assert.equal(new Set(cluster.patches.map((p) => p.key)).size, n, 'a status write for every object');
    assert.equal(cluster.events.length, n, 'an event for every object');
    assert.equal(reporter.stats.eventsDropped, 0);
    await reporter.stop();
  });
});
