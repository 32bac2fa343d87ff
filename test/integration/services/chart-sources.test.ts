/** The chart's crdns.sources value through the real helm: --source flags, and RBAC for exactly the enabled sources. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { CHART, CI_VALUES, cleanupHelmHome, find, podSpec, render, type Manifest } from '../helm/support.js';

type Rule = { apiGroups: string[]; resources: string[]; verbs: string[] };
const file = (name: string): Rule[] => parseYaml(readFileSync(path.join(CHART(), 'files', name), 'utf8')) as Rule[];
const rulesOf = (m: Manifest[], kind = 'ClusterRole'): Rule[] => (find(m, kind) as unknown as { rules: Rule[] }).rules;
const sourceArgs = (m: Manifest[]): string[] => (podSpec(find(m, 'Deployment')).initContainers?.find((c) => c.name === 'crdns')?.args ?? []).filter((a) => a.startsWith('--source'));
const resources = (rules: Rule[]): string[] => rules.flatMap((r) => r.resources.map((x) => `${r.apiGroups[0] || 'core'}/${x}`)).sort();

describe('helm chart: crdns.sources', function () {
  this.timeout(180_000);
  after(cleanupHelmHome);
  const MINIMAL = ['-f', CI_VALUES('minimal')];

  it('default: no --source flag, and only files/rbac-rules.yaml', async () => {
    const m = await render(MINIMAL);
    assert.deepEqual(sourceArgs(m), []);
    assert.deepEqual(rulesOf(m), file('rbac-rules.yaml'));
  });

  it('service and ingress without dnsendpoint: read Services, EndpointSlices, Ingresses; Events; nothing of DNSEndpoints', async () => {
    const m = await render([...MINIMAL, '--set', 'crdns.sources={service,ingress}']);
    assert.deepEqual(sourceArgs(m), ['--source=service', '--source=ingress']);
    assert.deepEqual(resources(rulesOf(m)), ['core/events', 'core/services', 'discovery.k8s.io/endpointslices', 'networking.k8s.io/ingresses']);
    for (const r of rulesOf(m)) if (r.resources[0] !== 'events') assert.deepEqual(r.verbs, ['get', 'list', 'watch']);
  });

  it('dnsendpoint and service, per namespace: each Role holds the DNSEndpoint rules plus Services and EndpointSlices', async () => {
    const m = await render([...MINIMAL, '--set', 'crdns.sources={dnsendpoint,service}', '--set', 'crdns.watchNamespaces={a}']);
    assert.deepEqual(sourceArgs(m), ['--source=dnsendpoint', '--source=service']);
    assert.deepEqual(rulesOf(m, 'Role'), [...file('rbac-rules.yaml'), ...file('rbac-rules-services.yaml')]);
  });

  it('gateway-httproute alone: Gateways and HTTPRoutes, Services and EndpointSlices for health; no GRPCRoutes, no Ingresses', async () => {
    const m = await render([...MINIMAL, '--set', 'crdns.sources={gateway-httproute}']);
    assert.deepEqual(sourceArgs(m), ['--source=gateway-httproute']);
    assert.deepEqual(resources(rulesOf(m)), ['core/events', 'core/services', 'discovery.k8s.io/endpointslices', 'gateway.networking.k8s.io/gateways', 'gateway.networking.k8s.io/httproutes']);
    for (const r of rulesOf(m)) if (r.resources[0] !== 'events') assert.deepEqual(r.verbs, ['get', 'list', 'watch']);
  });

  it('both route kinds with dnsendpoint, per namespace: each Role adds gateways, httproutes and grpcroutes', async () => {
    const m = await render([...MINIMAL, '--set', 'crdns.sources={dnsendpoint,gateway-httproute,gateway-grpcroute}', '--set', 'crdns.watchNamespaces={a}']);
    assert.deepEqual(rulesOf(m, 'Role'), [...file('rbac-rules.yaml'), ...file('rbac-rules-services.yaml'), ...file('rbac-rules-gateway.yaml'), ...file('rbac-rules-httproutes.yaml'), ...file('rbac-rules-grpcroutes.yaml')]);
  });

  it('without a route source: no Gateway API rules at all', async () => {
    for (const sources of ['{dnsendpoint}', '{service,ingress}']) {
      const m = await render([...MINIMAL, '--set', `crdns.sources=${sources}`]);
      assert.ok(!resources(rulesOf(m)).some((r) => r.startsWith('gateway.networking.k8s.io/')), sources);
    }
  });

  it('the schema refuses an unknown source', async () => {
    await assert.rejects(render([...MINIMAL, '--set', 'crdns.sources={gateway}']), /sources/);
    await assert.rejects(render([...MINIMAL, '--set', 'crdns.sources={gateway-tlsroute}']), /sources/);
  });

  it('peer reader: the same kinds, read-only, for peers that read this cluster', async () => {
    const m = await render(['-f', CI_VALUES('peers'), '--set', 'crdns.sources={dnsendpoint,ingress}']);
    const reader = (m.find((x) => x.kind === 'ClusterRole' && x.metadata.name.endsWith('-peer-reader')) as unknown as { rules: Rule[] } | undefined)?.rules;
    assert.ok(reader, 'peer-reader ClusterRole rendered');
    assert.deepEqual(resources(reader), ['core/services', 'discovery.k8s.io/endpointslices', 'externaldns.k8s.io/dnsendpoints', 'networking.k8s.io/ingresses']);
    for (const r of reader) assert.deepEqual(r.verbs, ['get', 'list', 'watch']);
  });

  it('peer reader with a route source: Gateways and the route kind, read-only', async () => {
    const m = await render(['-f', CI_VALUES('peers'), '--set', 'crdns.sources={dnsendpoint,gateway-grpcroute}']);
    const reader = (m.find((x) => x.kind === 'ClusterRole' && x.metadata.name.endsWith('-peer-reader')) as unknown as { rules: Rule[] } | undefined)?.rules;
    assert.ok(reader, 'peer-reader ClusterRole rendered');
    assert.deepEqual(resources(reader), ['core/services', 'discovery.k8s.io/endpointslices', 'externaldns.k8s.io/dnsendpoints', 'gateway.networking.k8s.io/gateways', 'gateway.networking.k8s.io/grpcroutes']);
  });
});
