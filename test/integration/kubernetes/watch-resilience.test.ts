/**
 * The Kubernetes source through outages of a real control plane: the API
 * server gone for 30 s, etcd restarted, watches cut by the server's
 * --min-request-timeout. The sink must keep its state while the API is away
 * and catch up with every change once it is back.
 */
import { callbackLogger } from '../../support/logger.js';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { DnsEndpointSource, type DnsEndpointSourceOptions } from '../../../src/sources/dnsendpoints/source.js';
import { ControlPlane } from '../../harness/control-plane.js';
import { aRecord } from '../../support/dnsendpoint-manifests.js';
import { TcpProxy } from '../../harness/tcp-proxy.js';
import { eventually } from '../../support/eventually.js';
import { RecordingSink } from '../../support/recording-sink.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const openFds = (): number => readdirSync('/proc/self/fd').length;

describe('Kubernetes source through control plane outages', function () {
  this.timeout(600_000);
  let plane: ControlPlane;
  const cleanups: Array<() => Promise<void>> = [];

  before(async function () {
    this.timeout(600_000);
    // Watches that do not ask for a timeout are cut after 5-10 s.
    plane = await ControlPlane.start({ minRequestTimeoutSeconds: 5 });
    await plane.createNamespace('apps');
  });

  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    if (plane && !plane.etcdRunning) await plane.startEtcd();
    if (plane && !plane.apiserverRunning) await plane.startApiserver();
  });

  after(async () => {
    await plane?.stop();
  });

  async function startSource(namespace: string, options: Partial<DnsEndpointSourceOptions> = {}): Promise<{ source: DnsEndpointSource; sink: RecordingSink; logs: string[] }> {
    const logs: string[] = [];
    const source = new DnsEndpointSource({
      kubeConfig: plane.kubeConfig('admin'),
      namespaces: [namespace],
      // Reconnect within a few seconds of the server coming back.
      backoff: { initialMs: 250, maxMs: 4_000 },
      logger: callbackLogger((level, message, fields) => logs.push(`${new Date().toISOString()} ${level} ${message} ${JSON.stringify(fields ?? {})}`)),
      ...options,
    });
    const sink = new RecordingSink();
    cleanups.push(() => source.stop());
    await source.start(sink);
    await eventually('initial sync', () => sink.isSynced, () => sink.summary());
    await eventually('watch open', () => source.state.connected);
    return { source, sink, logs };
  }

  it('keeps the last state while the API server is down for 30 s, and applies changes made after it is back', async () => {
    await plane.createNamespace('outage');
    await plane.apply(aRecord('keep', 'outage', '192.0.2.1'));
    await plane.apply(aRecord('change', 'outage', '192.0.2.2'));
    await plane.apply(aRecord('drop', 'outage', '192.0.2.3'));
    const { source, sink, logs } = await startSource('outage');
    assert.deepEqual(sink.keys(), ['outage/change', 'outage/drop', 'outage/keep']);
    const calls = sink.calls.length;

    await plane.stopApiserver();
    await eventually('source notices', () => !source.state.connected);
    await sleep(30_000);
    assert.equal(sink.calls.length, calls, `no sink call while the API server is down: ${sink.summary()}`);
    assert.deepEqual(sink.keys(), ['outage/change', 'outage/drop', 'outage/keep']);
    assert.equal(source.state.synced, true);
    assert.ok(source.state.failures > 0, 'the failures were seen (and survived)');
    const failuresDuringOutage = source.state.failures;

    const restartedAt = Date.now();
    await plane.startApiserver();
    const apiserverBack = Date.now() - restartedAt;
    // Change things at once, probably before the source has reconnected.
    await plane.apply(aRecord('change', 'outage', '192.0.2.22'));
    await plane.kubectl(['delete', 'dnsendpoint', '-n', 'outage', 'drop']);
    await plane.apply(aRecord('new', 'outage', '192.0.2.4'));
    await eventually(
      'changes after the restart',
      () => sink.targets('outage/change')?.[0] === '192.0.2.22' && !sink.state.has('outage/drop') && sink.state.has('outage/new'),
      () => `${sink.summary()}\n${logs.slice(-10).join('\n')}`,
    );
    const caughtUp = Date.now() - restartedAt;
    await eventually('reconnected', () => source.state.connected);
    assert.deepEqual(sink.keys(), ['outage/change', 'outage/keep', 'outage/new']);
    assert.ok(
      sink.calls.slice(calls).every((c) => c.op !== 'replaceAll' || c.keys.length > 0),
      'never an empty replaceAll',
    );
    console.log(
      `      kube-apiserver restart ${apiserverBack} ms (start times so far: ${plane.timings.apiserverStartMs.join(', ')} ms); ` +
        `changes seen ${caughtUp} ms after restart began; ${failuresDuringOutage} failed attempts in 30 s; ` +
        `relists ${source.state.relists}; sink calls after outage: ${sink.calls.slice(calls).map((c) => c.op).join(',')}`,
    );
  });

  it('catches up after etcd is restarted under a running API server', async () => {
    await plane.createNamespace('etcd-restart');
    await plane.apply(aRecord('before', 'etcd-restart', '192.0.2.1'));
    const { source, sink, logs } = await startSource('etcd-restart');
    const calls = sink.calls.length;
    await plane.stopEtcd();
    await sleep(10_000);
    assert.equal(sink.calls.length, calls, 'no sink call while etcd is down');
    assert.deepEqual(sink.keys(), ['etcd-restart/before']);
    await plane.startEtcd();
    // Writes may fail until the API server has reconnected to etcd.
    await eventually('write accepted', async () => (await plane.kubectlResult(['apply', '-f', '-'], { input: aRecord('after', 'etcd-restart', '192.0.2.2') })).code === 0, () => '', 120_000, 500);
    await plane.apply(aRecord('before', 'etcd-restart', '192.0.2.11'));
    await eventually(
      'changes after etcd restart',
      () => sink.state.has('etcd-restart/after') && sink.targets('etcd-restart/before')?.[0] === '192.0.2.11',
      () => `${sink.summary()}\n${logs.slice(-10).join('\n')}`,
      120_000,
    );
    console.log(`      etcd restart: ${plane.timings.etcdStartMs.slice(-1)[0]} ms to healthy; source restarts ${source.state.restarts}, relists ${source.state.relists}, failures ${source.state.failures}`);
  });

  it('restarts a watch that went silent on a half-open connection, and catches up', async () => {
    await plane.createNamespace('silent');
    const proxy = await TcpProxy.start(plane.apiserverPort);
    cleanups.push(() => proxy.stop());
    await plane.apply(aRecord('quiet', 'silent', '192.0.2.1'));
    const { source, sink } = await startSource('silent', {
      kubeConfig: plane.kubeConfig('admin', `https://127.0.0.1:${proxy.port}`),
      watchIdleTimeoutMs: 8_000,
    });
    const calls = sink.calls.length;
    const idleBefore = source.state.idleRestarts;
    const frozen = proxy.freeze();
    assert.ok(frozen >= 1, 'the watch connection went through the proxy');
    // Written straight to the API server; the frozen stream will never carry it.
    await plane.apply(aRecord('quiet', 'silent', '192.0.2.2'));
    await eventually('change arrives over a new watch', () => sink.targets('silent/quiet')?.[0] === '192.0.2.2', () => sink.summary(), 120_000);
    assert.ok(source.state.idleRestarts > idleBefore, 'the watchdog restarted the watch');
    assert.deepEqual(sink.calls.slice(calls).map((c) => c.op), ['upsert']);
  });

  it('misses no change when the server keeps closing watches (--min-request-timeout)', async () => {
    await plane.createNamespace('timeouts');
    const fdsBefore = openFds();
    // No client-side timeoutSeconds: the server's 5-10 s applies.
    const { source, sink } = await startSource('timeouts', { watchTimeoutSeconds: null });
    const expected = new Map<string, string>();
    const started = Date.now();
    let i = 0;
    while (Date.now() - started < 40_000) {
      const name = `obj-${i % 5}`;
      const ip = `192.0.2.${(i % 250) + 1}`;
      await plane.apply(aRecord(name, 'timeouts', ip));
      expected.set(`timeouts/${name}`, ip);
      i++;
      await sleep(500);
    }
    await eventually(
      'every last write seen',
      () => [...expected].every(([key, ip]) => sink.targets(key)?.[0] === ip),
      () => `${sink.summary()} expected ${JSON.stringify([...expected])}`,
    );
    const restarts = source.state.restarts;
    assert.ok(restarts >= 2, `the server closed the watch several times (restarts: ${restarts})`);
    assert.equal(source.state.failures, 0, `clean closes are not failures (${source.state.lastError})`);
    const fdsAfter = openFds();
    console.log(`      ${i} writes over 40 s, ${restarts} watch restarts, relists ${source.state.relists}; open fds ${fdsBefore} → ${fdsAfter}`);
    // client-node 1.4.0 makes a new https.Agent per watch (#2893); the sockets must still not pile up.
    assert.ok(fdsAfter - fdsBefore < 20 + restarts / 2, `file descriptors grew from ${fdsBefore} to ${fdsAfter} over ${restarts} reconnects`);
  });
});
