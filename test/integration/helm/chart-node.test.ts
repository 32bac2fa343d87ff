/**
 * The chart on a one-node cluster with a real kubelet (test/harness/node-cluster.ts): helm
 * install --wait succeeds with locally built images, the pod's two containers become Ready
 * (crdns as a native sidecar, CoreDNS after its startupProbe), crdns lists DNSEndpoints with the
 * ServiceAccount token the kubelet mounted, and CoreDNS answers on the pod IP and on the
 * Service's ClusterIP (kube-proxy).
 */
import assert from 'node:assert/strict';
import { dig } from '../../harness/coredns.js';
import { NODE_IMAGES, NodeCluster } from '../../harness/node-cluster.js';
import { aRecord } from '../../support/dnsendpoint-manifests.js';
import { eventually } from '../../support/eventually.js';
import { CHART, cleanupHelmHome, helmOk } from './support.js';

describe('helm chart: installed on a one-node cluster with a kubelet', function () {
  this.timeout(600_000);
  let node: NodeCluster;
  const ns = 'crdns-node';

  before(async function () {
    this.timeout(2_400_000);
    node = await NodeCluster.start();
    await node.kubectl(['delete', 'namespace', ns, '--ignore-not-found', '--wait=true', '--timeout=120s']);
    await node.kubectl(['create', 'namespace', ns]);
  });

  after(async () => {
    if (node) {
      await helmOk(['uninstall', 'crdns', '-n', ns, '--wait', '--timeout', '120s'], { kubeconfig: node.kubeconfig }).catch(() => undefined);
      await node.stop();
    }
    await cleanupHelmHome();
  });

  it('installs with --wait, and CoreDNS in the pod answers from a DNSEndpoint', async () => {
    await helmOk(
      [
        'install', 'crdns', CHART(), '-n', ns, '--wait', '--timeout', '300s',
        '--set', 'zones[0]=example.org', '--set', 'replicaCount=1',
        '--set', `crdns.image.repository=${NODE_IMAGES.crdns.repository}`, '--set', `crdns.image.tag=${NODE_IMAGES.crdns.tag}`,
        '--set', 'crdns.image.pullPolicy=Never',
        '--set', `coredns.image.repository=${NODE_IMAGES.coredns.repository}`, '--set', `coredns.image.tag=${NODE_IMAGES.coredns.tag}`,
        '--set', 'coredns.image.pullPolicy=Never',
      ],
      { kubeconfig: node.kubeconfig },
    );
    const pods = JSON.parse(await node.kubectl(['get', 'pods', '-n', ns, '-o', 'json'])) as {
      items: Array<{ status: { podIP: string; containerStatuses?: Array<{ name: string; ready: boolean }>; initContainerStatuses?: Array<{ name: string; ready: boolean }> } }>;
    };
    assert.equal(pods.items.length, 1);
    const pod = pods.items[0]!;
    const ready = [...(pod.status.initContainerStatuses ?? []), ...(pod.status.containerStatuses ?? [])].map((c) => `${c.name}=${c.ready}`).sort();
    assert.deepEqual(ready, ['coredns=true', 'crdns=true']);

    await node.kubectl(['apply', '-n', ns, '-f', '-'], aRecord('hello', ns, '192.0.2.10'));
    let last = '';
    const answers = async (host: string, port: number, tcp: boolean): Promise<boolean> => {
      const r = await dig('hello.example.org', 'A', { host, port, tcp, timeoutS: 2 });
      last = `${r.status} ${r.answer.map((a) => a.rdata).join(',')}`;
      return last === 'NOERROR 192.0.2.10';
    };
    await eventually('the pod IP to answer', () => answers(pod.status.podIP, 1053, false), () => last, 60_000, 500);

    const svc = JSON.parse(await node.kubectl(['get', 'service', 'crdns', '-n', ns, '-o', 'json'])) as { spec: { clusterIP: string } };
    await eventually('the ClusterIP to answer over UDP', () => answers(svc.spec.clusterIP, 53, false), () => last, 60_000, 500);
    await eventually('the ClusterIP to answer over TCP', () => answers(svc.spec.clusterIP, 53, true), () => last, 60_000, 500);
  });
});
