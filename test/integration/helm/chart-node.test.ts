/**
 * The chart on a one-node cluster with a real kubelet (test/harness/node-cluster.ts): helm
 * install --wait succeeds with locally built images, the pod's two containers become Ready
 * (crdns as a native sidecar, CoreDNS after its startupProbe; the kubelet probes the pods'
 * IPv6 addresses), crdns lists DNSEndpoints with the ServiceAccount token the kubelet mounted,
 * and CoreDNS answers on the pod IP and on the Service's ClusterIP (kube-proxy). Then what an
 * operator meets next: CoreDNS started only after crdns, a record changed live, the crdns
 * container killed (CoreDNS keeps answering while the kubelet restarts it), and `helm upgrade`
 * rolling the pods, with a query every 50 ms through the ClusterIP (and at the pod whose crdns
 * is killed): never a wrong answer, and no failed one during the rollouts.
 */
import assert from 'node:assert/strict';
import { isIPv4, isIPv6 } from 'node:net';
import dnsPacket from 'dns-packet';
import { dig, replyHeader, udpExchange } from '../../harness/coredns.js';
import { NODE_IMAGES, NodeCluster } from '../../harness/node-cluster.js';
import { aRecord } from '../../support/dnsendpoint-manifests.js';
import { eventually } from '../../support/eventually.js';
import { CHART, cleanupHelmHome, helmOk } from './support.js';

describe('helm chart: installed on a one-node cluster with a kubelet', function () {
  this.timeout(600_000);
  let node: NodeCluster;
  const ns = 'crdns-node';
  let clusterIP = '';
  const imageArgs = [
    '--set', `crdns.image.repository=${NODE_IMAGES.crdns.repository}`, '--set', `crdns.image.tag=${NODE_IMAGES.crdns.tag}`,
    '--set', 'crdns.image.pullPolicy=Never',
    '--set', `coredns.image.repository=${NODE_IMAGES.coredns.repository}`, '--set', `coredns.image.tag=${NODE_IMAGES.coredns.tag}`,
    '--set', 'coredns.image.pullPolicy=Never',
  ];

  interface PodStatus {
    metadata: { name: string };
    status: {
      podIP: string;
      podIPs?: Array<{ ip: string }>;
      containerStatuses?: ContainerStatus[];
      initContainerStatuses?: ContainerStatus[];
    };
  }
  interface ContainerStatus {
    name: string;
    ready: boolean;
    restartCount: number;
    containerID?: string;
    state?: { running?: { startedAt: string } };
  }
  const pods = async (): Promise<PodStatus[]> => (JSON.parse(await node.kubectl(['get', 'pods', '-n', ns, '-o', 'json'])) as { items: PodStatus[] }).items;
  const container = (p: PodStatus, name: string): ContainerStatus | undefined => [...(p.status.initContainerStatuses ?? []), ...(p.status.containerStatuses ?? [])].find((c) => c.name === name);

  interface LoopResult {
    sent: number;
    /** Replies with the previous value: CoreDNS's serve_stale, allowed while crdns is away. */
    stale: string[];
    timeouts: string[];
    /** Anything else: another rcode, no address, an address never written. */
    wrong: string[];
  }

  /** Asks `host` (default: the ClusterIP) for hello.example.org every 50 ms until stopped, sorting every reply that is not `want`. */
  function queryLoop(want: string, previous: string, host?: string, port = 53): { stop: () => Promise<LoopResult> } {
    let running = true;
    const r: LoopResult = { sent: 0, stale: [], timeouts: [], wrong: [] };
    const loop = (async () => {
      while (running) {
        r.sent++;
        const at = new Date().toISOString();
        try {
          const raw = await udpExchange(port, dnsPacket.encode({ type: 'query', id: r.sent & 0xffff, questions: [{ name: 'hello.example.org', type: 'A' }] }), 2000, host ?? clusterIP, true);
          const { rcode } = replyHeader(raw);
          const addresses = (dnsPacket.decode(raw).answers ?? []).flatMap((a) => (a.type === 'A' ? [a.data] : [])).join(',');
          if (rcode === 0 && addresses === previous) r.stale.push(at);
          else if (rcode !== 0 || addresses !== want) r.wrong.push(`${at}: rcode ${rcode} ${addresses}`);
        } catch (err) {
          r.timeouts.push(`${at}: ${(err as Error).message}`);
        }
        await new Promise((res) => setTimeout(res, 50));
      }
    })();
    return {
      stop: async () => {
        running = false;
        await loop;
        return r;
      },
    };
  }

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
      ['install', 'crdns', CHART(), '-n', ns, '--wait', '--timeout', '300s', '--set', 'zones[0]=example.org', ...imageArgs],
      { kubeconfig: node.kubeconfig },
    );
    const installed = await pods();
    assert.equal(installed.length, 2, 'the chart default: two replicas');
    const pod = installed[0]!;
    const ready = [...(pod.status.initContainerStatuses ?? []), ...(pod.status.containerStatuses ?? [])].map((c) => `${c.name}=${c.ready}`).sort();
    assert.deepEqual(ready, ['coredns=true', 'crdns=true']);
    // The node is dual-stack, IPv6 first: the kubelet's probes (crdns's /readyz on --http=:9253,
    // CoreDNS's /ready) went to the IPv6 pod address, and they passed.
    assert.ok(isIPv6(pod.status.podIP), `pod IP ${pod.status.podIP} is not IPv6`);
    assert.ok((pod.status.podIPs ?? []).some((a) => isIPv4(a.ip)), `no IPv4 pod address: ${JSON.stringify(pod.status.podIPs)}`);

    await node.kubectl(['apply', '-n', ns, '-f', '-'], aRecord('hello', ns, '192.0.2.10'));
    let last = '';
    const answers = async (host: string, port: number, tcp: boolean): Promise<boolean> => {
      const r = await dig('hello.example.org', 'A', { host, port, tcp, timeoutS: 2 });
      last = `${r.status} ${r.answer.map((a) => a.rdata).join(',')}`;
      return last === 'NOERROR 192.0.2.10';
    };
    await eventually('the pod IP to answer', () => answers(pod.status.podIP, 1053, false), () => last, 60_000, 500);

    const svc = JSON.parse(await node.kubectl(['get', 'service', 'crdns', '-n', ns, '-o', 'json'])) as { spec: { clusterIP: string } };
    clusterIP = svc.spec.clusterIP;
    await eventually('the ClusterIP to answer over UDP', () => answers(clusterIP, 53, false), () => last, 60_000, 500);
    await eventually('the ClusterIP to answer over TCP', () => answers(clusterIP, 53, true), () => last, 60_000, 500);
  });

  it('started CoreDNS only once crdns had started (crdns is a native sidecar with a startupProbe)', async () => {
    const [pod] = await pods();
    assert.ok(pod);
    const crdns = container(pod, 'crdns')?.state?.running?.startedAt;
    const coredns = container(pod, 'coredns')?.state?.running?.startedAt;
    assert.ok(crdns && coredns, JSON.stringify(pod.status));
    assert.ok(Date.parse(coredns) >= Date.parse(crdns), `CoreDNS started at ${coredns}, crdns at ${crdns}`);
    assert.ok((pod.status.initContainerStatuses ?? []).some((c) => c.name === 'crdns'), 'crdns runs as an init container with restartPolicy Always');
  });

  it('serves a changed DNSEndpoint through the ClusterIP and from every replica', async () => {
    await node.kubectl(['apply', '-n', ns, '-f', '-'], aRecord('hello', ns, '192.0.2.11'));
    let last = '';
    const serves = (host: string, port: number) => async (): Promise<boolean> => {
      const r = await dig('hello.example.org', 'A', { host, port, timeoutS: 2 });
      last = `${host}: ${r.status} ${r.answer.map((a) => a.rdata).join(',')}`;
      return last.endsWith(': NOERROR 192.0.2.11');
    };
    await eventually('the new address through the ClusterIP', serves(clusterIP, 53), () => last, 30_000, 100);
    // Both pods, not only the one that answered: the next tests count any reply with the old
    // value as stale, wherever it came from.
    for (const p of await pods()) await eventually('the new address from each pod', serves(p.status.podIP, 1053), () => last, 30_000, 100);
  });

  // The pod's CoreDNS answers from its cache (serve_stale) while crdns is away; the Service
  // moves to the other replica, since a pod whose crdns is not running is not Ready.
  it('keeps answering in the pod, and never wrongly through the Service, while the crdns container is SIGKILLed and restarted by the kubelet', async () => {
    const [pod] = await pods();
    assert.ok(pod);
    const before = container(pod, 'crdns');
    assert.ok(before?.containerID, JSON.stringify(pod.status));
    const inPod = queryLoop('192.0.2.11', '192.0.2.10', pod.status.podIP, 1053);
    const viaService = queryLoop('192.0.2.11', '192.0.2.10');
    await new Promise((r) => setTimeout(r, 500));
    await node.killContainer(before.containerID);
    let state = '';
    await eventually('crdns restarted and ready', async () => {
      const c = container((await pods()).find((p) => p.metadata.name === pod.metadata.name) as PodStatus, 'crdns');
      state = JSON.stringify(c);
      return c !== undefined && c.restartCount > before.restartCount && c.ready;
    }, () => state, 120_000, 250);
    await new Promise((r) => setTimeout(r, 1000));
    // In the pod: every query answered with the current value, from CoreDNS's cache while crdns is away.
    const pod0 = await inPod.stop();
    assert.ok(pod0.sent > 10, `only ${pod0.sent} queries sent`);
    assert.deepEqual([pod0.wrong, pod0.timeouts, pod0.stale], [[], [], []], `the pod IP, ${pod0.sent} queries`);
    // Through the Service: never a wrong answer. Stale and timed-out replies are printed, not yet
    // asserted: the one stale answer seen (1 of 4 runs) came from a test that checked a change on
    // one pod only, fixed above, and there are too few runs since to assert none (docs/helm.md).
    const svc = await viaService.stop();
    console.log(`      through the ClusterIP: ${svc.sent} queries, ${svc.stale.length} stale, ${svc.timeouts.length} timed out`);
    assert.ok(svc.sent > 10, `only ${svc.sent} queries sent`);
    assert.deepEqual(svc.wrong, [], `the ClusterIP, ${svc.sent} queries`);
  });

  // Each old pod's CoreDNS must answer until kube-proxy has stopped using it, conntrack entries
  // included: a client reusing a source port follows its old entry (values.yaml, lameduck). With
  // lameduck 5 s and a 5 s x 2 readiness probe this lost about one query per rollout here.
  it('helm upgrade rolls the pods twice without a failed, wrong or stale answer', async () => {
    const loop = queryLoop('192.0.2.11', '192.0.2.10');
    await new Promise((r) => setTimeout(r, 500));
    for (const round of ['second', 'third']) {
      const old = new Set((await pods()).map((p) => p.metadata.name));
      await helmOk(
        ['upgrade', 'crdns', CHART(), '-n', ns, '--wait', '--timeout', '300s', '--reuse-values', '--set', `podAnnotations.rollout=${round}`],
        { kubeconfig: node.kubeconfig },
      );
      let names = '';
      await eventually('the old pods gone', async () => {
        const now = await pods();
        names = now.map((p) => p.metadata.name).join(',');
        return now.length === old.size && now.every((p) => !old.has(p.metadata.name));
      }, () => names, 120_000, 250);
    }
    // Queries sent to an old pod just before it went away still get their replies.
    await new Promise((r) => setTimeout(r, 2000));
    const r = await loop.stop();
    console.log(`      during two rollouts: ${r.sent} queries`);
    assert.ok(r.sent > 10, `only ${r.sent} queries sent`);
    assert.deepEqual([r.wrong, r.stale, r.timeouts], [[], [], []], `${r.sent} queries during the rollouts`);
  });
});
