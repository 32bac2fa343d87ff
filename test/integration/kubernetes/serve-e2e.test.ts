/**
 * End to end with a real control plane: DNSEndpoints written with kubectl,
 * answered by the real `crdns serve` process (as the least-privilege "crdns"
 * user) over gRPC and through stock CoreDNS (cache off) over UDP and TCP.
 * Then the API server goes away for 30 s, and etcd restarts: answers stay,
 * and changes made afterwards are served.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ControlPlane } from '../../harness/control-plane.js';
import { dig, startCoreDNS, type CorednsProcess } from '../../harness/coredns.js';
import { startCrdns, type CrdnsProcess } from '../../harness/crdns-process.js';
import { queryClient, type QueryClient } from '../../../src/cli/query.js';
import { presentRecord } from '../../../src/dns/presentation.js';
import { pollUntil } from '../../support/eventually.js';

const NS = 'telco';

function endpointYaml(name: string, endpoints: string, namespace = NS): string {
  return `apiVersion: externaldns.k8s.io/v1alpha1
kind: DNSEndpoint
metadata: {name: ${name}, namespace: ${namespace}}
spec:
  endpoints:
${endpoints}`;
}

describe('crdns serve against a real kube-apiserver, through CoreDNS', function () {
  this.timeout(600_000);
  let plane: ControlPlane;
  let crdns: CrdnsProcess;
  let coredns: CorednsProcess;
  let client: QueryClient;
  let sockDir: string;

  const grpcAnswer = async (name: string, type = 'A') => {
    const r = await client.ask(name, type);
    return { rcode: (r.flags ?? 0) & 0xf, answer: (r.answers ?? []).map((a) => presentRecord(a)).sort() };
  };

  before(async () => {
    plane = await ControlPlane.start();
    await plane.grantCrdnsRbac();
    await plane.createNamespace(NS);
    sockDir = await mkdtemp(path.join(tmpdir(), 'crdns-k8s-e2e-'));
    const socket = path.join(sockDir, 'crdns.sock');
    crdns = await startCrdns({
      zones: ['telco.test'],
      listen: [`unix://${socket}`],
      http: '127.0.0.1:0',
      args: ['--kubeconfig', plane.kubeconfigPath('crdns'), '--default-ttl', '30'],
    });
    client = queryClient(crdns.addresses[0] as string, 3000);
    coredns = await startCoreDNS({ corefileText: `.:{$COREDNS_PORT} {\n  bind {$COREDNS_BIND}\n  errors\n  grpc . unix://${socket}\n}\n` });
  });

  after(async () => {
    client?.close();
    await coredns?.stop();
    await crdns?.stop();
    await plane?.stop();
    if (sockDir) await rm(sockDir, { recursive: true, force: true });
  });

  it('serves a DNSEndpoint created with kubectl, over gRPC and through CoreDNS on UDP and TCP', async () => {
    await plane.apply(
      endpointYaml(
        'sip',
        `  - {dnsName: pcscf.telco.test, recordType: NAPTR, targets: ['10 50 "S" "SIP+D2U" "" _sip._udp.telco.test.']}
  - {dnsName: _sip._udp.telco.test, recordType: SRV, targets: ["10 60 5060 p1.telco.test."]}
  - {dnsName: p1.telco.test, recordType: A, targets: [10.1.0.1]}
  - {dnsName: broken.telco.test, recordType: MX, targets: ["ten mail.telco.test"]}`,
      ),
    );
    await pollUntil(() => grpcAnswer('p1.telco.test'), (r) => r.answer.length === 1, 'A served over gRPC', 30000, 50);
    for (const tcp of [false, true]) {
      const naptr = await dig('pcscf.telco.test', 'NAPTR', { port: coredns.port, tcp });
      assert.equal(naptr.status, 'NOERROR');
      assert.ok(naptr.flags.includes('aa'), 'AA passes through CoreDNS');
      assert.equal(naptr.answer[0]?.rdata, '10 50 "S" "SIP+D2U" "" _sip._udp.telco.test.');
      const srv = await dig('_sip._udp.telco.test', 'SRV', { port: coredns.port, tcp });
      assert.equal(srv.answer[0]?.rdata, '10 60 5060 p1.telco.test.');
      assert.equal(srv.additional[0]?.rdata, '10.1.0.1');
    }
  });

  it('reports the invalid endpoint on the object (Event, observedGeneration) while the rest serves', async () => {
    type EventList = { items: { reason: string; type: string; message: string; involvedObject: { name: string } }[] };
    const events = await pollUntil(
      () => plane.getJson<EventList>(['events', '-n', NS]),
      (e) => e.items.some((i) => i.reason === 'InvalidEndpoint' && i.involvedObject.name === 'sip'),
      'Warning event for endpoint 3',
      30000,
      50,
    );
    const ev = events.items.find((i) => i.reason === 'InvalidEndpoint');
    assert.equal(ev?.type, 'Warning');
    assert.match(ev?.message ?? '', /spec\.endpoints\[3\]/);
    assert.match(ev?.message ?? '', /broken\.telco\.test/);
    type Stored = { metadata: { generation: number }; status?: { observedGeneration?: number } };
    const obj = await pollUntil(
      () => plane.getJson<Stored>(['dnsendpoint', 'sip', '-n', NS]),
      (o) => o.status?.observedGeneration === o.metadata.generation,
      'observedGeneration',
      30000,
      50,
    );
    assert.equal(obj.status?.observedGeneration, 1);
    assert.equal((await grpcAnswer('_sip._udp.telco.test', 'SRV')).answer.length, 1);
  });

  it('serves updates and deletions as soon as the API server reports them', async () => {
    await plane.apply(endpointYaml('web', '  - {dnsName: www.telco.test, recordType: A, targets: [10.2.0.1]}'));
    await pollUntil(() => grpcAnswer('www.telco.test'), (r) => r.answer[0]?.endsWith('10.2.0.1') === true, 'created', 30000, 50);
    await plane.apply(endpointYaml('web', '  - {dnsName: www.telco.test, recordType: A, targets: [10.2.0.2, 10.2.0.3]}'));
    await pollUntil(() => grpcAnswer('www.telco.test'), (r) => r.answer.length === 2 && r.answer[0]?.endsWith('10.2.0.2') === true, 'updated', 30000, 50);
    const viaCoreDNS = await dig('www.telco.test', 'A', { port: coredns.port });
    assert.deepEqual(viaCoreDNS.answer.map((a) => a.rdata).sort(), ['10.2.0.2', '10.2.0.3']);
    await plane.kubectl(['delete', 'dnsendpoint', 'web', '-n', NS]);
    await pollUntil(() => grpcAnswer('www.telco.test'), (r) => r.rcode === 3, 'deleted', 30000, 50);
  });

  it('keeps answering while the API server is down for 30 s, then serves changes made after it returns', async () => {
    await plane.apply(endpointYaml('steady', '  - {dnsName: steady.telco.test, recordType: A, targets: [10.3.0.1]}'));
    await pollUntil(() => grpcAnswer('steady.telco.test'), (r) => r.answer.length === 1, 'steady served', 30000, 50);
    await plane.stopApiserver();
    const deadline = Date.now() + 30_000;
    let asked = 0;
    while (Date.now() < deadline) {
      const r = await grpcAnswer('steady.telco.test');
      assert.equal(r.rcode, 0, 'answer kept while the API server is down');
      assert.equal(r.answer.length, 1);
      const d = await dig('steady.telco.test', 'A', { port: coredns.port });
      assert.equal(d.answer[0]?.rdata, '10.3.0.1');
      asked++;
      await new Promise((r) => setTimeout(r, 500));
    }
    assert.ok(asked >= 10);
    const ready = await fetch(`http://${crdns.httpAddress()}/readyz`);
    assert.equal(ready.status, 200, 'still ready: it serves its last good snapshot');
    const body = (await ready.json()) as { connected: boolean };
    assert.equal(body.connected, false);
    await plane.startApiserver();
    await plane.apply(endpointYaml('steady', '  - {dnsName: steady.telco.test, recordType: A, targets: [10.3.0.2]}'));
    await pollUntil(() => grpcAnswer('steady.telco.test'), (r) => r.answer[0]?.endsWith('10.3.0.2') === true, 'change after the outage served', 120_000, 50);
  });

  it('survives an etcd restart', async () => {
    await plane.stopEtcd();
    assert.equal((await grpcAnswer('steady.telco.test')).answer.length, 1);
    await plane.startEtcd();
    await pollUntil(() => plane.apply(endpointYaml('after-etcd', '  - {dnsName: etcd.telco.test, recordType: TXT, targets: [back]}')), () => true, 'API writable again', 120_000, 50);
    await pollUntil(() => grpcAnswer('etcd.telco.test', 'TXT'), (r) => r.answer.length === 1, 'served after etcd restart', 120_000, 50);
  });

  it('exposes what happened to the watch and to feedback as metrics', async () => {
    const text = await fetch(`http://${crdns.httpAddress()}/metrics`).then((r) => r.text());
    const value = (name: string): number => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);
    assert.ok(value('crdns_watch_restarts') >= 1, 'the outage restarted the watch');
    assert.ok(value('crdns_watch_failures') >= 1, 'and failed lists or watches were counted');
    assert.equal(value('crdns_watch_connected'), 1);
    assert.ok(value('crdns_status_writes') >= 1);
    assert.ok(value('crdns_events_created') >= 1, 'the Warning event for the broken endpoint');
    assert.ok(value('crdns_watch_last_sync_timestamp_seconds') > Date.now() / 1000 - 600);
  });
});
