/**
 * DnsEndpointSource and StatusReporter against a real kube-apiserver + etcd:
 * DNSEndpoints created, changed and deleted with kubectl reach the sink, and
 * invalid endpoints come back as status and Events on the resource.
 */
import { callbackLogger } from '../../support/logger.js';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { CustomObjectsApi } from '@kubernetes/client-node';
import { validateObject } from '../../../src/endpoint/validate-object.js';
import { DnsEndpointSource, type DnsEndpointSourceOptions } from '../../../src/sources/dnsendpoints/source.js';
import { StatusReporter } from '../../../src/feedback/status-reporter.js';
import type { Condition } from '../../../src/sources/dnsendpoints/resource.js';
import { ControlPlane, CRD_FILE } from '../../harness/control-plane.js';
import { aRecord, dnsEndpointManifest } from '../../support/dnsendpoint-manifests.js';
import { eventually } from '../../support/eventually.js';
import { RecordingSink } from '../../support/recording-sink.js';

interface DnsEndpointJson {
  metadata: { generation: number; uid: string; resourceVersion: string };
  status?: { observedGeneration?: number; conditions?: Condition[] };
}
interface EventJson {
  type: string;
  reason: string;
  message: string;
  count?: number;
  involvedObject: { name: string; uid: string; kind: string };
}

const quantiles = (xs: number[]): string => {
  const s = [...xs].sort((a, b) => a - b);
  const at = (q: number): number => s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? NaN;
  return `n=${s.length} median=${at(0.5)}ms p90=${at(0.9)}ms max=${s[s.length - 1]}ms`;
};

describe('Kubernetes source against a real API server', function () {
  this.timeout(300_000);
  let plane: ControlPlane;
  const cleanups: Array<() => Promise<void>> = [];

  before(async function () {
    this.timeout(600_000);
    plane = await ControlPlane.start();
    await plane.createNamespace('apps');
    await plane.createNamespace('other');
    console.log(`      control plane: etcd ${plane.timings.etcdStartMs[0]} ms, kube-apiserver ${plane.timings.apiserverStartMs[0]} ms, CRD served ${plane.timings.crdReadyMs} ms`);
  });

  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  after(async () => {
    await plane?.stop();
  });

  async function startSource(options: Partial<DnsEndpointSourceOptions> = {}, sink = new RecordingSink()): Promise<{ source: DnsEndpointSource; sink: RecordingSink }> {
    const source = new DnsEndpointSource({ kubeConfig: plane.kubeConfig('admin'), ...options });
    cleanups.push(() => source.stop());
    await source.start(sink);
    return { source, sink };
  }

  it('hands over the initial list, then every create, update and delete made with kubectl', async () => {
    await plane.apply(aRecord('one', 'apps', '192.0.2.1'));
    await plane.apply(aRecord('two', 'other', '192.0.2.2'));
    const { source, sink } = await startSource();
    await eventually('initial sync', () => sink.isSynced, () => sink.summary());
    assert.deepEqual(sink.calls.map((c) => c.op), ['replaceAll', 'synced']);
    assert.deepEqual(sink.keys(), ['apps/one', 'other/two']);
    assert.deepEqual(sink.targets('apps/one'), ['192.0.2.1']);
    const origin = sink.state.get('apps/one')?.origin;
    assert.equal(origin?.source, 'kubernetes');
    assert.equal(origin?.generation, 1);
    assert.match(origin?.uid ?? '', /^[0-9a-f-]{36}$/);
    await eventually('watch open', () => source.state.connected);

    const latencies: number[] = [];
    const expectChange = async (what: string, change: () => Promise<unknown>, check: () => boolean): Promise<void> => {
      await change();
      const written = Date.now();
      await eventually(what, check, () => sink.summary());
      latencies.push(Date.now() - written);
    };
    await expectChange('create', () => plane.apply(aRecord('three', 'apps', '192.0.2.3')), () => sink.state.has('apps/three'));
    await expectChange(
      'update',
      () => plane.apply(aRecord('one', 'apps', '192.0.2.11')),
      () => sink.targets('apps/one')?.[0] === '192.0.2.11',
    );
    assert.equal(sink.state.get('apps/one')?.origin.generation, 2);
    await expectChange('delete', () => plane.kubectl(['delete', 'dnsendpoint', '-n', 'other', 'two']), () => !sink.state.has('other/two'));
    for (let i = 0; i < 10; i++) {
      await expectChange(
        `update ${i}`,
        () => plane.apply(aRecord('three', 'apps', `192.0.2.${100 + i}`)),
        () => sink.targets('apps/three')?.[0] === `192.0.2.${100 + i}`,
      );
    }
    console.log(`      kubectl exited → sink change: ${quantiles(latencies)}`);
    // Without kubectl's own start-up in the way: API create answered → sink upsert.
    const api = plane.kubeConfig('admin').makeApiClient(CustomObjectsApi);
    const direct: number[] = [];
    for (let i = 0; i < 20; i++) {
      const body = JSON.parse(aRecord(`direct-${i}`, 'apps', '192.0.2.50')) as object;
      await api.createNamespacedCustomObject({ group: 'externaldns.k8s.io', version: 'v1alpha1', plural: 'dnsendpoints', namespace: 'apps', body });
      const answered = performance.now();
      await eventually(`direct-${i}`, () => sink.state.has(`apps/direct-${i}`), () => sink.summary(), 60_000, 1);
      direct.push(Math.round((performance.now() - answered) * 10) / 10);
    }
    console.log(`      API create answered → sink upsert: ${quantiles(direct)}`);
    await plane.kubectl(['delete', 'dnsendpoint', '-n', 'apps', ...Array.from({ length: 20 }, (_, i) => `direct-${i}`)]);
    await eventually('direct-* removed', () => sink.keys().every((k) => !k.startsWith('apps/direct-')));
    const ops = sink.calls.slice(2).map((c) => c.op);
    assert.ok(
      ops.every((op) => op === 'upsert' || op === 'remove'),
      `changes arrive one by one, never as replaceAll: ${ops.join(',')}`,
    );
    assert.deepEqual(sink.keys(), ['apps/one', 'apps/three']);

    // A status-only write (as crdns or ExternalDNS make) bumps resourceVersion, not generation: not passed on.
    const before = sink.calls.length;
    await plane.kubectl(['patch', 'dnsendpoint', '-n', 'apps', 'one', '--subresource=status', '--type=merge', '-p', '{"status":{"observedGeneration":2}}']);
    await eventually('directory sees the status', () => source.lookup('apps/one')?.status?.observedGeneration === 2);
    assert.equal(sink.calls.length, before);
    await plane.kubectl(['delete', 'dnsendpoint', '-n', 'apps', 'one', 'three']);
  });

  it('limits itself to the given namespaces and label selector, on list and on watch', async () => {
    const serve = { 'crdns.test/serve': 'yes' };
    await plane.apply(aRecord('sel-a', 'apps', '192.0.2.1', 'example.org', serve));
    await plane.apply(aRecord('sel-b', 'apps', '192.0.2.2'));
    await plane.apply(aRecord('sel-c', 'other', '192.0.2.3', 'example.org', serve));
    const { sink } = await startSource({ namespaces: ['apps'], labelSelector: 'crdns.test/serve=yes' });
    await eventually('initial sync', () => sink.isSynced, () => sink.summary());
    assert.deepEqual(sink.keys(), ['apps/sel-a']);

    await plane.apply(aRecord('sel-d', 'other', '192.0.2.4', 'example.org', serve));
    await plane.kubectl(['label', 'dnsendpoint', '-n', 'apps', 'sel-b', 'crdns.test/serve=yes']);
    await eventually('labelled object appears', () => sink.state.has('apps/sel-b'), () => sink.summary());
    await plane.kubectl(['label', 'dnsendpoint', '-n', 'apps', 'sel-a', 'crdns.test/serve-']);
    await eventually('unlabelled object disappears', () => !sink.state.has('apps/sel-a'), () => sink.summary());
    assert.deepEqual(sink.keys(), ['apps/sel-b'], 'nothing from namespace "other"');
    await plane.kubectl(['delete', 'dnsendpoint', '-n', 'apps', 'sel-a', 'sel-b']);
    await plane.kubectl(['delete', 'dnsendpoint', '-n', 'other', 'sel-c', 'sel-d']);
  });

  /**
   * Stands in for the catalog: after each change, validates the objects the
   * way crdns does and reports the outcome.
   */
  function reportingSink(reporter: () => StatusReporter | undefined): RecordingSink {
    return new RecordingSink((_sink, changed) => {
      for (const object of changed) {
        const { problems } = validateObject(object, { zones: ['example.org'], defaultTtl: 300 });
        reporter()?.report(object.key, object.origin.generation, problems);
      }
    });
  }

  it('reports invalid endpoints as Warning events, observedGeneration and an Accepted condition', async () => {
    let reporter: StatusReporter | undefined;
    const sink = reportingSink(() => reporter);
    const { source } = await startSource({ namespaces: ['apps'] }, sink);
    reporter = new StatusReporter({ directory: source, kubeConfig: plane.kubeConfig('admin'), instance: 'test-instance' });
    cleanups.push(() => (reporter as StatusReporter).stop());
    await eventually('initial sync', () => sink.isSynced);

    const broken = dnsEndpointManifest({
      name: 'mixed',
      namespace: 'apps',
      endpoints: [
        { dnsName: 'ok.example.org', recordType: 'A', targets: ['192.0.2.1'] },
        { dnsName: 'bad.example.org', recordType: 'MX', targets: ['10 mail.example.org', 'ten mail.example.org'] },
        { dnsName: 'elsewhere.example.com', recordType: 'A', targets: ['192.0.2.2'] },
      ],
    });
    const written = Date.now();
    await plane.apply(broken);
    const get = (): Promise<DnsEndpointJson> => plane.getJson<DnsEndpointJson>(['dnsendpoint', '-n', 'apps', 'mixed']);
    const events = async (): Promise<EventJson[]> =>
      (await plane.getJson<{ items: EventJson[] }>(['events', '-n', 'apps', '--field-selector', 'involvedObject.name=mixed'])).items;

    await eventually('observedGeneration 1', async () => (await get()).status?.observedGeneration === 1, () => sink.summary());
    const statusLatency = Date.now() - written;
    const accepted = (await get()).status?.conditions?.find((c) => c.type === 'Accepted');
    assert.equal(accepted?.status, 'False');
    assert.equal(accepted?.reason, 'InvalidEndpoints');
    assert.equal(accepted?.observedGeneration, 1);
    assert.match(accepted?.message ?? '', /^2 of 3 endpoints not served: spec\.endpoints\[1\] dnsName="bad\.example\.org" field=targets\[1\]: .+; spec\.endpoints\[2\] dnsName="elsewhere\.example\.com" field=dnsName: .+/);

    await eventually('two events', async () => (await events()).length === 2);
    const eventLatency = Date.now() - written;
    const found = await events();
    const uid = (await get()).metadata.uid;
    for (const e of found) {
      assert.equal(e.type, 'Warning');
      assert.equal(e.reason, 'InvalidEndpoint');
      assert.equal(e.involvedObject.kind, 'DNSEndpoint');
      assert.equal(e.involvedObject.uid, uid);
    }
    const messages = found.map((e) => e.message).sort();
    assert.match(messages[0] ?? '', /^spec\.endpoints\[1\] dnsName="bad\.example\.org" field=targets\[1\]: .+ \(generation 1\)$/);
    assert.match(messages[1] ?? '', /^spec\.endpoints\[2\] dnsName="elsewhere\.example\.com" field=dnsName: .+ \(generation 1\)$/);
    console.log(`      kubectl apply done → status written ${statusLatency} ms, both events visible ${eventLatency} ms (polled through kubectl)`);

    // Reporting again, a relist-driven replaceAll, and a fresh reporter (a restart, or a second replica): no new events.
    for (let i = 0; i < 20; i++) sink.upsert(sink.state.get('apps/mixed') as NonNullable<ReturnType<typeof sink.state.get>>);
    const second = new StatusReporter({ directory: source, kubeConfig: plane.kubeConfig('admin'), instance: 'second-replica' });
    second.report('apps/mixed', 1, validateObject(sink.state.get('apps/mixed') as never, { zones: ['example.org'], defaultTtl: 300 }).problems);
    await second.idle();
    await reporter.idle();
    assert.equal(second.stats.eventsAlreadyRecorded, 2);
    assert.equal(second.stats.statusWrites, 0);
    await second.stop();
    assert.equal((await events()).length, 2);
    assert.ok(found.every((e) => (e.count ?? 1) === 1));

    // Fixed: Accepted flips to True at generation 2; still only the two old events.
    await plane.apply(
      dnsEndpointManifest({
        name: 'mixed',
        namespace: 'apps',
        endpoints: [{ dnsName: 'ok.example.org', recordType: 'A', targets: ['192.0.2.1'] }],
      }),
    );
    await eventually('observedGeneration 2', async () => (await get()).status?.observedGeneration === 2);
    const fixed = (await get()).status?.conditions?.find((c) => c.type === 'Accepted');
    assert.equal(fixed?.status, 'True');
    assert.equal(fixed?.message, 'the endpoint is served');
    await reporter.idle();
    assert.equal((await events()).length, 2);
    assert.equal(reporter.stats.statusWriteFailures, 0);
    assert.equal(reporter.stats.eventsCreated, 2);
    await plane.kubectl(['delete', 'dnsendpoint', '-n', 'apps', 'mixed']);
  });

  it('works with a CRD that has no status.conditions (ExternalDNS\'s own): observedGeneration only, no errors', async () => {
    // ExternalDNS's schema is ours minus conditions (and our printer column).
    const crd = parseYaml(readFileSync(CRD_FILE(), 'utf8')) as {
      spec: { versions: Array<{ additionalPrinterColumns?: unknown; schema: { openAPIV3Schema: { properties: { status: { properties: Record<string, unknown> } } } } }> };
    };
    const version = crd.spec.versions[0];
    assert.ok(version);
    delete version.schema.openAPIV3Schema.properties.status.properties['conditions'];
    delete version.additionalPrinterColumns;
    await plane.installCrd(stringifyYaml(crd));
    cleanups.push(() => plane.installCrd());

    const logs: string[] = [];
    let reporter: StatusReporter | undefined;
    const sink = reportingSink(() => reporter);
    const { source } = await startSource({ namespaces: ['other'] }, sink);
    reporter = new StatusReporter({
      directory: source,
      kubeConfig: plane.kubeConfig('admin'),
      logger: callbackLogger((level, message) => logs.push(`${level}: ${message}`)),
    });
    cleanups.push(() => (reporter as StatusReporter).stop());
    await eventually('initial sync', () => sink.isSynced);
    await plane.apply(
      dnsEndpointManifest({
        name: 'plain',
        namespace: 'other',
        endpoints: [{ dnsName: 'bad.example.org', recordType: 'MX', targets: ['ten mail.example.org'] }],
      }),
    );
    const get = (): Promise<DnsEndpointJson> => plane.getJson<DnsEndpointJson>(['dnsendpoint', '-n', 'other', 'plain']);
    await eventually('observedGeneration 1', async () => (await get()).status?.observedGeneration === 1);
    await plane.kubectl(['patch', 'dnsendpoint', '-n', 'other', 'plain', '--type=merge', '-p', '{"spec":{"endpoints":[{"dnsName":"good.example.org","recordType":"A","targets":["192.0.2.1"]}]}}']);
    await eventually('observedGeneration 2', async () => (await get()).status?.observedGeneration === 2);
    await reporter.idle();
    assert.equal((await get()).status?.conditions, undefined);
    assert.equal(reporter.stats.conditionsSupported, false);
    assert.equal(reporter.stats.statusWriteFailures, 0);
    assert.equal(reporter.stats.statusWrites, 2, 'one probe that got pruned, then observedGeneration only');
    assert.equal(reporter.stats.eventsCreated, 1, 'events do not depend on the schema');
    assert.deepEqual(logs.filter((l) => l.startsWith('warn') || l.startsWith('error')), []);
    await plane.kubectl(['delete', 'dnsendpoint', '-n', 'other', 'plain']);
  });
});
