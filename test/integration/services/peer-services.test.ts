/**
 * A peer cluster's Services, read with the chart's peer-reader rules for
 * crdns.sources [dnsendpoint, service], merged with this cluster's: two real
 * kube-apiservers, one crdns.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ControlPlane } from '../../harness/control-plane.js';
import { startCrdns, type CrdnsProcess } from '../../harness/crdns-process.js';
import { writeReaderKubeconfig } from '../../harness/peer-reader.js';
import { queryClient, type QueryClient } from '../../../src/cli/query.js';
import { presentRecord } from '../../../src/dns/presentation.js';
import { eventually, pollUntil } from '../../support/eventually.js';
import { CI_VALUES, cleanupHelmHome, render } from '../helm/support.js';

const NS = 'web';

const serviceYaml = (ip: string) => `apiVersion: v1
kind: Service
metadata:
  name: shop
  namespace: ${NS}
  annotations: {external-dns.kubernetes.io/hostname: shop.example.org}
spec:
  type: LoadBalancer
  ports: [{port: 80, name: http}]
  selector: {app: shop}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: shop-1, namespace: ${NS}, labels: {kubernetes.io/service-name: shop}}
addressType: IPv4
endpoints: [{addresses: [${ip}], conditions: {ready: true}}]
`;

describe('crdns serve --source service with a peer cluster', function () {
  this.timeout(600_000);
  let a: ControlPlane;
  let b: ControlPlane;
  let crdns: CrdnsProcess;
  let client: QueryClient;
  let dir: string;
  let peerFile: string;

  const answer = async (name: string) => {
    const r = await client.ask(name, 'A');
    return (r.answers ?? []).map((x) => presentRecord(x).split(' ').slice(4).join(' '));
  };

  before(async () => {
    [a, b] = await Promise.all([ControlPlane.start(), ControlPlane.start()]);
    dir = await mkdtemp(path.join(tmpdir(), 'crdns-peer-svc-'));
    for (const plane of [a, b]) await plane.createNamespace(NS);
    // b's peer reader, exactly as the chart renders it for these sources.
    const chart = await render(['-f', CI_VALUES('peers'), '--set', 'crdns.sources={dnsendpoint,service}']);
    const rules = (chart.find((m) => m.kind === 'ClusterRole' && m.metadata.name.endsWith('-peer-reader')) as unknown as { rules: unknown[] }).rules;
    await b.apply(JSON.stringify({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'peer-reader', namespace: 'kube-system' } }));
    await b.apply(JSON.stringify({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: 'crdns-peer-reader' }, rules }));
    await b.apply(JSON.stringify({
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name: 'crdns-peer-reader' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'crdns-peer-reader' },
      subjects: [{ kind: 'ServiceAccount', name: 'peer-reader', namespace: 'kube-system' }],
    }));
    peerFile = path.join(dir, 'a-sees-b.yaml');
    await writeReaderKubeconfig(b, peerFile);
    crdns = await startCrdns({
      zones: ['example.org'],
      args: ['--kubeconfig', a.kubeconfigPath('admin'), '--cluster', 'a', '--peer', `b=${peerFile}`, '--source', 'dnsendpoint', '--source', 'service', '--health-hold-down', '1'],
    });
    client = queryClient(crdns.addresses[0] as string, 3000);
  });

  after(async () => {
    client?.close();
    await crdns?.stop();
    await Promise.all([a?.stop(), b?.stop()]);
    if (dir) await rm(dir, { recursive: true, force: true });
    await cleanupHelmHome();
  });

  it("serves a peer's Service, merges it with this cluster's (this cluster's target first), and withdraws the peer's when it has no ready endpoint", async () => {
    await b.apply(serviceYaml('10.2.0.1'));
    await b.kubectl(['patch', 'service', 'shop', '-n', NS, '--subresource=status', '--type=merge', '-p', '{"status":{"loadBalancer":{"ingress":[{"ip":"192.0.2.2"}]}}}']);
    await pollUntil(() => answer('shop.example.org'), (r) => JSON.stringify(r) === '["192.0.2.2"]', 'peer b served', 60_000, 50);

    await a.apply(serviceYaml('10.1.0.1'));
    await a.kubectl(['patch', 'service', 'shop', '-n', NS, '--subresource=status', '--type=merge', '-p', '{"status":{"loadBalancer":{"ingress":[{"ip":"192.0.2.9"}]}}}']);
    const merged = await pollUntil(() => answer('shop.example.org'), (r) => r.length === 2, 'merged', 60_000, 50);
    assert.deepEqual(merged, ['192.0.2.9', '192.0.2.2']);

    await b.kubectl(['patch', 'endpointslice', 'shop-1', '-n', NS, '--type=merge', '-p', '{"endpoints":[{"addresses":["10.2.0.1"],"conditions":{"ready":false}}]}']);
    await pollUntil(() => answer('shop.example.org'), (r) => JSON.stringify(r) === '["192.0.2.9"]', "peer's target withdrawn", 60_000, 50);
  });

  it("takes a rotated peer kubeconfig for the peer's Services too, and keeps serving their changes", async () => {
    await writeReaderKubeconfig(b, peerFile);
    await eventually('peer workloads took the new credentials', async () => /watching Services and Ingresses with the new credentials/.test(crdns.logs()), () => '', 60_000, 100);
    await b.kubectl(['patch', 'endpointslice', 'shop-1', '-n', NS, '--type=merge', '-p', '{"endpoints":[{"addresses":["10.2.0.1"],"conditions":{"ready":true}}]}']);
    const r = await pollUntil(() => answer('shop.example.org'), (x) => x.length === 2, "peer's target back", 60_000, 50);
    assert.deepEqual(r, ['192.0.2.9', '192.0.2.2']);
  });
});
