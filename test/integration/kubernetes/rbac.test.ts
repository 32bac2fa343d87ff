/**
 * crdns with the rights of helm/crdns/files/rbac-rules.yaml and nothing else:
 * enough to watch, write status and record events; not enough to change any
 * DNSEndpoint or read anything else. Without them it retries until granted.
 */
import assert from 'node:assert/strict';
import { validateObject } from '../../../src/endpoint/validate-object.js';
import { DnsEndpointSource } from '../../../src/sources/dnsendpoints/source.js';
import { StatusReporter } from '../../../src/feedback/status-reporter.js';
import { ControlPlane } from '../../harness/control-plane.js';
import { aRecord, dnsEndpointManifest } from '../../support/dnsendpoint-manifests.js';
import { eventually } from '../../support/eventually.js';
import { RecordingSink } from '../../support/recording-sink.js';

describe('crdns RBAC rules against a real API server', function () {
  this.timeout(300_000);
  let plane: ControlPlane;

  before(async function () {
    this.timeout(600_000);
    plane = await ControlPlane.start();
    await plane.createNamespace('apps');
  });

  after(async () => {
    await plane?.stop();
  });

  it('waits out a 403 and syncs once the rules are bound; then watches, writes status and events', async () => {
    await plane.apply(aRecord('early', 'apps', '192.0.2.1'));
    let reporter: StatusReporter | undefined;
    const sink = new RecordingSink((_s, changed) => {
      for (const object of changed) {
        reporter?.report(object.key, object.origin.generation, validateObject(object, { zones: ['example.org'], defaultTtl: 300 }).problems);
      }
    });
    const source = new DnsEndpointSource({
      kubeconfig: plane.kubeconfigPath('crdns'),
      backoff: { initialMs: 250, maxMs: 2_000 },
    });
    reporter = new StatusReporter({ directory: source, kubeConfig: plane.kubeConfig('crdns') });
    try {
      await source.start(sink);
      await eventually('forbidden seen', () => source.state.failures >= 2);
      assert.equal(sink.isSynced, false);
      assert.match(source.state.lastError ?? '', /403/);

      await plane.grantCrdnsRbac();
      await eventually('synced after the grant', () => sink.isSynced, () => `${source.state.lastError}`);
      assert.deepEqual(sink.keys(), ['apps/early']);
      await eventually('observedGeneration written as crdns', async () => {
        const o = await plane.getJson<{ status?: { observedGeneration?: number } }>(['dnsendpoint', '-n', 'apps', 'early']);
        return o.status?.observedGeneration === 1;
      });

      await plane.apply(
        dnsEndpointManifest({ name: 'broken', namespace: 'apps', endpoints: [{ dnsName: 'x.example.org', recordType: 'CNAME', targets: ['a', 'b'] }] }),
      );
      await eventually('event recorded as crdns', async () => {
        const list = await plane.getJson<{ items: Array<{ reason: string; source?: { component?: string } }> }>([
          'events',
          '-n',
          'apps',
          '--field-selector',
          'involvedObject.name=broken',
        ]);
        return list.items.some((e) => e.reason === 'InvalidEndpoint' && e.source?.component === 'crdns');
      });
      await reporter.idle();
      assert.equal(reporter.stats.statusWriteFailures, 0);
    } finally {
      await reporter.stop();
      await source.stop();
    }
  });

  it('cannot do more than the rules say', async () => {
    await plane.grantCrdnsRbac();
    const can = async (...args: string[]): Promise<string> =>
      (await plane.kubectlResult(['auth', 'can-i', ...args], { user: 'crdns' })).stdout.trim();
    assert.equal(await can('list', 'dnsendpoints.externaldns.k8s.io', '--all-namespaces'), 'yes');
    assert.equal(await can('watch', 'dnsendpoints.externaldns.k8s.io', '-n', 'apps'), 'yes');
    assert.equal(await can('patch', 'dnsendpoints.externaldns.k8s.io', '--subresource=status', '-n', 'apps'), 'yes');
    assert.equal(await can('create', 'events', '-n', 'apps'), 'yes');
    assert.equal(await can('create', 'dnsendpoints.externaldns.k8s.io', '-n', 'apps'), 'no');
    assert.equal(await can('patch', 'dnsendpoints.externaldns.k8s.io', '-n', 'apps'), 'no');
    assert.equal(await can('delete', 'dnsendpoints.externaldns.k8s.io', '-n', 'apps'), 'no');
    assert.equal(await can('list', 'secrets', '-n', 'apps'), 'no');
    assert.equal(await can('get', 'configmaps', '-n', 'apps'), 'no');

    // And the API server really refuses the write, not just the can-i answer.
    const create = await plane.kubectlResult(['apply', '-f', '-'], { user: 'crdns', input: aRecord('sneaky', 'apps', '192.0.2.66') });
    assert.notEqual(create.code, 0);
    assert.match(create.stderr, /forbidden/i);
    const spec = await plane.kubectlResult(['patch', 'dnsendpoint', '-n', 'apps', 'early', '--type=merge', '-p', '{"spec":{"endpoints":[]}}'], {
      user: 'crdns',
    });
    assert.notEqual(spec.code, 0);
    assert.match(spec.stderr, /forbidden/i);
  });
});
