/**
 * Every cluster answers for every cluster, with real processes: three control
 * planes (etcd + kube-apiserver each, on loopback), a crdns per cluster that
 * watches its own API server and the two others' with read-only peer tokens,
 * and stock CoreDNS (cache off) in front of each.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { queryClient, type QueryClient } from '../../../src/cli/query.js';
import { ControlPlane } from '../../harness/control-plane.js';
import { dig, startCoreDNS, type CorednsProcess } from '../../harness/coredns.js';
import { startCrdns, type CrdnsProcess } from '../../harness/crdns-process.js';
import { installPeerReader, writeReaderKubeconfig } from '../../harness/peer-reader.js';
import { dnsEndpointManifest, type EndpointSpec } from '../../support/dnsendpoint-manifests.js';
import { eventually } from '../../support/eventually.js';

const NAMES = ['a', 'b', 'c'] as const;
type Name = (typeof NAMES)[number];
const ZONE = 'mesh.test';
const NS = 'apps';
const GRACE_S = 3;

/** One DNSEndpoint in the test namespace. */
const endpoint = (name: string, ...endpoints: EndpointSpec[]): string => dnsEndpointManifest({ name, namespace: NS, endpoints });
const aRec = (dnsName: string, ip: string): EndpointSpec => ({ dnsName, recordType: 'A', targets: [ip] });

interface Cluster {
  name: Name;
  plane: ControlPlane;
  crdns: CrdnsProcess;
  coredns: CorednsProcess;
  client: QueryClient;
  /** Kubeconfig files this cluster's crdns uses for each peer. */
  peerFiles: Map<Name, string>;
}

describe('three clusters, every one answering for all', function () {
  this.timeout(900_000);
  const clusters = new Map<Name, Cluster>();
  const planes = new Map<Name, ControlPlane>();
  let dir: string;

  const answer = async (c: Cluster, name: string, type = 'A'): Promise<string[]> => {
    const r = await c.client.ask(name, type);
    return (r.answers ?? []).filter((x) => x.type === type).map((x) => String((x as { data?: unknown }).data));
  };
  const sorted = (xs: string[]) => [...xs].sort();

  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'crdns-mesh-'));
    for (const name of NAMES) {
      const plane = await ControlPlane.start();
      await plane.grantCrdnsRbac();
      await plane.createNamespace(NS);
      await installPeerReader(plane);
      planes.set(name, plane);
    }
    for (const name of NAMES) {
      const plane = planes.get(name) as ControlPlane;
      const peerFiles = new Map<Name, string>();
      const peerArgs: string[] = [];
      for (const peer of NAMES.filter((n) => n !== name)) {
        const file = path.join(dir, `${name}-sees-${peer}.yaml`);
        await writeReaderKubeconfig(planes.get(peer) as ControlPlane, file);
        peerFiles.set(peer, file);
        peerArgs.push('--peer', `${peer}=${file}`);
      }
      const socket = path.join(dir, `${name}.sock`);
      const crdns = await startCrdns({
        zones: [ZONE],
        listen: [`unix://${socket}`],
        http: '127.0.0.1:0',
        args: [
          '--kubeconfig', plane.kubeconfigPath('crdns'), '--cluster', name, ...peerArgs,
          '--peer-grace', String(GRACE_S), '--default-ttl', '30',
          // Cluster c withdraws a lost peer's orphans; a and b keep them (the default).
          ...(name === 'c' ? ['--peer-orphans', 'withdraw'] : []),
        ],
      });
      const coredns = await startCoreDNS({ corefileText: `.:{$COREDNS_PORT} {\n  bind {$COREDNS_BIND}\n  grpc . unix://${socket}\n}\n` });
      clusters.set(name, { name, plane, crdns, coredns, client: queryClient(crdns.addresses[0] as string, 3000), peerFiles });
    }
  });

  after(async () => {
    for (const c of clusters.values()) {
      c.client.close();
      await c.coredns.stop();
      await c.crdns.stop();
    }
    for (const p of planes.values()) await p.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const cluster = (n: Name) => clusters.get(n) as Cluster;

  it('peers need no more than a read-only token: it can list and watch DNSEndpoints and write nothing', async () => {
    const b = cluster('b');
    const file = b.peerFiles.get('a') as string;
    const kubectl = (args: string[]) => cluster('a').plane.kubectlResult([...args, `--kubeconfig=${file}`]);
    for (const verb of ['list', 'watch', 'get']) assert.match((await kubectl(['auth', 'can-i', verb, 'dnsendpoints.externaldns.k8s.io', '-A'])).stdout, /yes/);
    for (const args of [['create', 'dnsendpoints.externaldns.k8s.io'], ['patch', 'dnsendpoints.externaldns.k8s.io', '--subresource=status'], ['create', 'events'], ['get', 'secrets']]) {
      assert.match((await kubectl(['auth', 'can-i', ...args, '-n', NS])).stdout, /no/, args.join(' '));
    }
  });

  it('answers a record created in any cluster in every cluster, over gRPC and through CoreDNS', async () => {
    for (const origin of NAMES) {
      await cluster(origin).plane.apply(endpoint(`only-${origin}`, aRec(`only-${origin}.${ZONE}`, `10.9.0.${NAMES.indexOf(origin) + 1}`)));
    }
    for (const origin of NAMES) {
      const want = `10.9.0.${NAMES.indexOf(origin) + 1}`;
      for (const reader of NAMES) {
        await eventually(`only-${origin} answered by ${reader}'s crdns`, async () => (await answer(cluster(reader), `only-${origin}.${ZONE}`)).includes(want), () => '', 30_000, 50);
        const viaCoreDns = await dig(`only-${origin}.${ZONE}`, 'A', { port: cluster(reader).coredns.port });
        assert.deepEqual(viaCoreDns.answer.map((r) => r.rdata), [want], `through ${reader}'s CoreDNS`);
      }
    }
  });

  it('merges one name defined in all three clusters: the union, this cluster\'s target first, in each cluster', async () => {
    for (const origin of NAMES) {
      await cluster(origin).plane.apply(endpoint('web', aRec(`web.${ZONE}`, `10.1.0.${NAMES.indexOf(origin) + 1}`)));
    }
    for (const reader of NAMES) {
      await eventually(`web in ${reader} holds all three`, async () => (await answer(cluster(reader), `web.${ZONE}`)).length === 3, () => '', 30_000, 50);
      const got = await answer(cluster(reader), `web.${ZONE}`);
      assert.equal(got[0], `10.1.0.${NAMES.indexOf(reader) + 1}`, `${reader}'s own target first: ${got.join(' ')}`);
      const peers = NAMES.filter((n) => n !== reader).map((n) => `10.1.0.${NAMES.indexOf(n) + 1}`);
      assert.deepEqual(got.slice(1), peers, 'then the peers in the order given');
    }
  });

  it('resolves a cross-cluster CNAME/data conflict to the same answer in all three clusters', async () => {
    // b's CNAME is created first, then c's A on the same name: the older owner (b) wins everywhere.
    await cluster('b').plane.apply(endpoint('contested', { dnsName: `contested.${ZONE}`, recordType: 'CNAME', targets: [`web.${ZONE}`] }));
    await new Promise((r) => setTimeout(r, 1100)); // creationTimestamp has a resolution of one second
    await cluster('c').plane.apply(endpoint('contested', aRec(`contested.${ZONE}`, `10.7.0.3`)));
    for (const reader of NAMES) {
      await eventually(`${reader} has seen c's contested object and rejected it`, async () => /contested\.mesh\.test\. already has a CNAME/.test(cluster(reader).crdns.logs()), () => '', 30_000, 50);
      await eventually(`contested in ${reader}`, async () => (await answer(cluster(reader), `contested.${ZONE}`, 'CNAME')).length === 1, () => '', 30_000, 50);
      assert.deepEqual(await answer(cluster(reader), `contested.${ZONE}`, 'CNAME'), [`web.${ZONE}`], `${reader} serves b's CNAME`);
    }
    // The loser is reported by the crdns of the cluster that owns it: on c's object, in c.
    await eventually('c reports its object', async () => {
      const events = await cluster('c').plane.kubectlResult(['get', 'events', '-n', NS, '-o', 'json']);
      return events.stdout.includes('contested') && events.stdout.includes('already has a CNAME');
    }, () => '', 30_000, 200);
    const inB = await cluster('b').plane.kubectlResult(['get', 'events', '-n', NS, '-o', 'json']);
    assert.doesNotMatch(inB.stdout, /already has a CNAME/, 'b writes nothing about c\'s object');
  });

  it('removes an object deleted in b from a and c at once', async () => {
    await cluster('b').plane.apply(endpoint('gone', aRec(`gone.${ZONE}`, `10.5.0.2`)));
    for (const reader of ['a', 'c'] as const) await eventually(`gone served in ${reader}`, async () => (await answer(cluster(reader), `gone.${ZONE}`)).length === 1, () => '', 30_000, 50);
    await cluster('b').plane.kubectl(['delete', 'dnsendpoint', 'gone', '-n', NS]);
    for (const reader of ['a', 'c'] as const) await eventually(`gone withdrawn in ${reader}`, async () => (await answer(cluster(reader), `gone.${ZONE}`)).length === 0, () => '', 10_000, 20);
  });

  it('keeps working when a peer\'s kubeconfig is rotated in place (a new token)', async () => {
    const a = cluster('a');
    const file = a.peerFiles.get('b') as string;
    await writeReaderKubeconfig(cluster('b').plane, file);
    await eventually('a took the new credentials', async () => /peer kubeconfig changed/.test(a.crdns.logs()), () => '', 30_000, 100);
    await cluster('b').plane.apply(endpoint('after-rotation', aRec(`after-rotation.${ZONE}`, `10.6.0.2`)));
    await eventually('a serves what b wrote after the rotation', async () => (await answer(a, `after-rotation.${ZONE}`)).length === 1, () => '', 30_000, 50);
  });

  it('withdraws a lost peer\'s shared targets after the grace, keeps (or withdraws) its sole names, and restores it when it is back', async () => {
    const b = cluster('b').plane;
    await b.stopApiserver();
    const stoppedAt = Date.now();
    for (const reader of ['a', 'c'] as const) {
      await eventually(`b withdrawn from web in ${reader}`, async () => !(await answer(cluster(reader), `web.${ZONE}`)).includes('10.1.0.2'), () => '', 60_000, 50);
    }
    const withdrawnAfterMs = Date.now() - stoppedAt;
    assert.ok(withdrawnAfterMs >= GRACE_S * 1000 - 500, `not before the grace (${withdrawnAfterMs} ms)`);
    assert.deepEqual(sorted(await answer(cluster('a'), `web.${ZONE}`)), ['10.1.0.1', '10.1.0.3']);
    assert.deepEqual(await answer(cluster('a'), `only-b.${ZONE}`), ['10.9.0.2'], 'a keeps b\'s sole name (default)');
    assert.deepEqual(await answer(cluster('c'), `only-b.${ZONE}`), [], 'c withdraws it (--peer-orphans withdraw)');
    const readyz = await fetch(`http://${cluster('a').crdns.httpAddress()}/readyz`).then((r) => r.json() as Promise<{ peers?: { name: string; state: string }[] }>);
    assert.equal(readyz.peers?.find((p) => p.name === 'b')?.state, 'lost');
    const metrics = await fetch(`http://${cluster('a').crdns.httpAddress()}/metrics`).then((r) => r.text());
    assert.match(metrics, /crdns_peer_state\{peer="b",state="lost"\} 1/);
    console.log(`      b's API server stopped → its targets withdrawn in a and c after ${withdrawnAfterMs} ms (grace ${GRACE_S} s)`);

    await b.startApiserver();
    const backAt = Date.now();
    for (const reader of ['a', 'c'] as const) {
      await eventually(`b restored in ${reader}`, async () => (await answer(cluster(reader), `web.${ZONE}`)).includes('10.1.0.2'), () => '', 60_000, 50);
    }
    assert.deepEqual(await answer(cluster('c'), `only-b.${ZONE}`), ['10.9.0.2'], 'c serves b\'s sole name again');
    console.log(`      b's API server back → restored in a and c after ${Date.now() - backAt} ms`);
  });
});
