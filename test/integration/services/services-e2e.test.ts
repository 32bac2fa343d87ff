/**
 * Services and Ingresses as record sources, against a real kube-apiserver and
 * the real `crdns serve` process. There is no controller-manager or kubelet:
 * the test plays their parts, writing EndpointSlices and the status
 * subresource of Services and Ingresses itself, as a cloud controller and the
 * EndpointSlice controller would. crdns runs as user "crdns" with exactly the
 * RBAC rules the chart renders for crdns.sources=[service, ingress].
 */
import assert from 'node:assert/strict';
import { ControlPlane } from '../../harness/control-plane.js';
import { startCrdns, type CrdnsProcess } from '../../harness/crdns-process.js';
import { queryClient, type QueryClient } from '../../../src/cli/query.js';
import { answerHelpers } from '../../support/answers.js';
import { pollUntil } from '../../support/eventually.js';
import { CI_VALUES, cleanupHelmHome, find, render } from '../helm/support.js';

const NS = 'web';
const OLD = 'external-dns.alpha.kubernetes.io';
const NEW = 'external-dns.kubernetes.io';
const HOLD_DOWN_MS = 1000;

/** An EndpointSlice as the EndpointSlice controller would write it for a Service. */
function sliceYaml(service: string, endpoints: Array<{ ip: string; ready: boolean; hostname?: string }>, name = `${service}-1`): string {
  const eps = endpoints.map((e) => `- addresses: [${e.ip}]\n  conditions: {ready: ${e.ready}}${e.hostname ? `\n  hostname: ${e.hostname}` : ''}`).join('\n');
  return `apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: ${name}, namespace: ${NS}, labels: {kubernetes.io/service-name: ${service}}}
addressType: IPv4
ports: [{name: http, port: 80, protocol: TCP}]
endpoints:
${eps}
`;
}

describe('crdns serve --source service --source ingress against a real kube-apiserver', function () {
  this.timeout(600_000);
  let plane: ControlPlane;
  let crdns: CrdnsProcess;
  let client: QueryClient;

  const { answer, served } = answerHelpers(() => client);

  before(async () => {
    plane = await ControlPlane.start();
    await plane.createNamespace(NS);
    const chart = await render(['-f', CI_VALUES('minimal'), '--set', 'crdns.sources={service,ingress}']);
    const rules = (find(chart, 'ClusterRole') as unknown as { rules: unknown[] }).rules;
    await plane.apply(JSON.stringify({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: 'crdns' }, rules }));
    await plane.apply(JSON.stringify({
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name: 'crdns' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'crdns' },
      subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: 'crdns' }],
    }));
    crdns = await startCrdns({
      zones: ['external-dns-test.my-org.com', 'example.org'],
      http: '127.0.0.1:0',
      args: [
        '--kubeconfig', plane.kubeconfigPath('crdns'),
        '--source', 'service', '--source', 'ingress',
        '--health-hold-down', String(HOLD_DOWN_MS / 1000),
        '--default-ttl', '30',
      ],
    });
    client = queryClient(crdns.addresses[0] as string, 3000);
  });

  after(async () => {
    client?.close();
    await crdns?.stop();
    await plane?.stop();
    await cleanupHelmHome();
  });

  it("serves ExternalDNS's own LoadBalancer example once its status has an address and a ready endpoint", async () => {
    // ExternalDNS docs (tutorials): the nginx Service with the hostname annotation.
    await plane.apply(`apiVersion: v1
kind: Service
metadata:
  name: nginx
  namespace: ${NS}
  annotations:
    ${OLD}/hostname: nginx.external-dns-test.my-org.com.
spec:
  type: LoadBalancer
  ports:
  - port: 80
    name: http
    targetPort: 80
  selector:
    app: nginx
`);
    await plane.apply(sliceYaml('nginx', [{ ip: '10.0.0.1', ready: true }]));
    await plane.kubectl(['patch', 'service', 'nginx', '-n', NS, '--subresource=status', '--type=merge', '-p', '{"status":{"loadBalancer":{"ingress":[{"ip":"192.0.2.10"}]}}}']);
    const r = await served('nginx.external-dns-test.my-org.com', ['192.0.2.10']);
    assert.match(r.answer[0] as string, / 30 IN A /, 'default TTL');
  });

  it('withdraws the records only after the hold-down once no endpoint is ready, and serves them again as soon as one is', async () => {
    const started = Date.now();
    await plane.apply(sliceYaml('nginx', [{ ip: '10.0.0.1', ready: false }]));
    const gone = await pollUntil(() => answer('nginx.external-dns-test.my-org.com'), (r) => r.rcode === 3, 'withdrawn', 60_000, 20);
    const withdrawnAfter = Date.now() - started;
    assert.equal(gone.answer.length, 0);
    // crdns saw the change no earlier than `started`, and holds it for the hold-down from then.
    assert.ok(withdrawnAfter >= HOLD_DOWN_MS, `withdrawn after ${withdrawnAfter} ms, before the ${HOLD_DOWN_MS} ms hold-down`);
    await plane.apply(sliceYaml('nginx', [{ ip: '10.0.0.1', ready: false }, { ip: '10.0.0.2', ready: true }]));
    await served('nginx.external-dns-test.my-org.com', ['192.0.2.10']);
  });

  it('reads the new annotation prefix; ttl as a duration; target overrides (IPv4 → A, IPv6 → AAAA)', async () => {
    await plane.apply(`apiVersion: v1
kind: Service
metadata:
  name: api
  namespace: ${NS}
  annotations:
    ${NEW}/hostname: api.example.org,api2.example.org
    ${NEW}/ttl: 1m30s
    ${NEW}/target: 198.51.100.7,2001:db8::7
spec:
  type: LoadBalancer
  ports: [{port: 443, name: https}]
  selector: {app: api}
`);
    await plane.apply(sliceYaml('api', [{ ip: '10.0.1.1', ready: true }]));
    const a = await served('api.example.org', ['198.51.100.7']);
    assert.match(a.answer[0] as string, / 90 IN A /);
    await served('api.example.org', ['2001:db8::7'], 'AAAA');
    await served('api2.example.org', ['198.51.100.7']);
  });

  it('headless Service: ready pod addresses, and <pod hostname>.<hostname> for pods that have one', async () => {
    await plane.apply(`apiVersion: v1
kind: Service
metadata:
  name: db
  namespace: ${NS}
  annotations:
    ${OLD}/hostname: db.example.org
spec:
  clusterIP: None
  ports: [{port: 5432, name: pg}]
  selector: {app: db}
`);
    await plane.apply(sliceYaml('db', [
      { ip: '10.0.2.1', ready: true, hostname: 'db-0' },
      { ip: '10.0.2.2', ready: false, hostname: 'db-1' },
      { ip: '10.0.2.3', ready: true },
    ]));
    await served('db.example.org', ['10.0.2.1', '10.0.2.3']);
    await served('db-0.db.example.org', ['10.0.2.1']);
    assert.equal((await answer('db-1.db.example.org')).rcode, 3, 'a not-ready pod is not published');
  });

  it("serves ExternalDNS's Ingress example from its status while its backend Service has a ready endpoint", async () => {
    // ExternalDNS docs (tutorials): an Ingress in front of the nginx Service.
    await plane.apply(`apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: nginx
  namespace: ${NS}
spec:
  ingressClassName: nginx
  rules:
  - host: via-ingress.external-dns-test.my-org.com
    http:
      paths:
      - path: /
        pathType: Prefix
        backend:
          service:
            name: nginx
            port:
              number: 80
`);
    await plane.kubectl(['patch', 'ingress', 'nginx', '-n', NS, '--subresource=status', '--type=merge', '-p', '{"status":{"loadBalancer":{"ingress":[{"hostname":"lb.cloud.example.net"}]}}}']);
    await served('via-ingress.external-dns-test.my-org.com', ['lb.cloud.example.net.'], 'CNAME');
  });

  it('withdraws the Ingress (and its backend Service) after the hold-down once the backend has no ready endpoint; back when it has', async () => {
    const started = Date.now();
    await plane.apply(sliceYaml('nginx', [{ ip: '10.0.0.1', ready: false }, { ip: '10.0.0.2', ready: false }]));
    await pollUntil(() => answer('via-ingress.external-dns-test.my-org.com', 'CNAME'), (r) => r.rcode === 3, 'Ingress withdrawn', 60_000, 20);
    assert.ok(Date.now() - started >= HOLD_DOWN_MS, 'not before the hold-down');
    assert.equal((await answer('nginx.external-dns-test.my-org.com')).rcode, 3, 'the Service too');
    await plane.apply(sliceYaml('nginx', [{ ip: '10.0.0.2', ready: true }]));
    await served('via-ingress.external-dns-test.my-org.com', ['lb.cloud.example.net.'], 'CNAME');
    await served('nginx.external-dns-test.my-org.com', ['192.0.2.10']);
  });

  it('a bad annotation value gets a Warning Event on the Service, and the rest of it serves', async () => {
    await plane.apply(`apiVersion: v1
kind: Service
metadata:
  name: bad
  namespace: ${NS}
  annotations:
    ${NEW}/hostname: bad.example.org
    ${NEW}/ttl: soon
    ${NEW}/target: 203.0.113.9
spec:
  type: ClusterIP
  ports: [{port: 80, name: http}]
  selector: {app: bad}
`);
    await plane.apply(sliceYaml('bad', [{ ip: '10.0.3.1', ready: true }]));
    const r = await served('bad.example.org', ['203.0.113.9']);
    assert.match(r.answer[0] as string, / 30 IN A /, 'the bad ttl is ignored: default TTL');
    type EventList = { items: { reason: string; type: string; message: string; involvedObject: { kind: string; name: string } }[] };
    const events = await pollUntil(
      () => plane.getJson<EventList>(['events', '-n', NS]),
      (e) => e.items.some((i) => i.involvedObject.kind === 'Service' && i.involvedObject.name === 'bad'),
      'Warning event on Service bad',
      60_000,
      100,
    );
    const ev = events.items.filter((i) => i.involvedObject.name === 'bad');
    assert.equal(ev.length, 1, JSON.stringify(ev));
    assert.equal(ev[0]?.type, 'Warning');
    assert.equal(ev[0]?.reason, 'InvalidAnnotation');
    assert.match(ev[0]?.message ?? '', /external-dns\.kubernetes\.io\/ttl: "soon"/);
  });

  it('srv "true": SRV per named port; a name the validation refuses gets an InvalidEndpoint Event and the rest serves', async () => {
    await plane.apply(`apiVersion: v1
kind: Service
metadata:
  name: sip
  namespace: ${NS}
  annotations:
    ${NEW}/hostname: sip.example.org,bad_name!.example.org
    ${NEW}/srv: "true"
spec:
  type: LoadBalancer
  ports: [{port: 5060, name: sip, protocol: UDP}]
  selector: {app: sip}
`);
    await plane.apply(sliceYaml('sip', [{ ip: '10.0.4.1', ready: true }]));
    await plane.kubectl(['patch', 'service', 'sip', '-n', NS, '--subresource=status', '--type=merge', '-p', '{"status":{"loadBalancer":{"ingress":[{"ip":"192.0.2.50"}]}}}']);
    await served('sip.example.org', ['192.0.2.50']);
    await served('_sip._udp.sip.example.org', ['0 100 5060 sip.example.org.'], 'SRV');
    type EventList = { items: { reason: string; message: string; involvedObject: { kind: string; name: string } }[] };
    const events = await pollUntil(
      () => plane.getJson<EventList>(['events', '-n', NS]),
      (e) => e.items.some((i) => i.involvedObject.name === 'sip' && i.reason === 'InvalidEndpoint'),
      'InvalidEndpoint event on Service sip',
      60_000,
      100,
    );
    const ev = events.items.filter((i) => i.involvedObject.name === 'sip');
    assert.ok(ev.length >= 1 && ev.every((e) => e.involvedObject.kind === 'Service' && /bad_name!\.example\.org/.test(e.message)), JSON.stringify(ev));
  });

  it('exposes each watch by resource (services, endpointslices, ingresses) as metrics and in /readyz, through an API server restart', async () => {
    const metrics = () => fetch(`http://${crdns.httpAddress()}/metrics`).then((r) => r.text());
    const value = (text: string, name: string, resource: string): number => Number(new RegExp(`^${name}\\{resource="${resource}"\\} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);
    const RESOURCES = ['services', 'endpointslices', 'ingresses'];
    const before = await metrics();
    for (const r of RESOURCES) {
      assert.equal(value(before, 'crdns_source_watch_connected', r), 1, `${r} connected`);
      assert.ok(value(before, 'crdns_source_watch_last_sync_timestamp_seconds', r) > Date.now() / 1000 - 600, `${r} synced recently`);
    }
    assert.ok(Number.isNaN(value(before, 'crdns_source_watch_connected', 'dnsendpoints')), 'no DNSEndpoint watch without --source dnsendpoint');
    const failuresBefore = RESOURCES.map((r) => value(before, 'crdns_source_watch_failures', r));
    const restartsBefore = RESOURCES.map((r) => value(before, 'crdns_source_watch_restarts', r));

    await plane.stopApiserver();
    const down = await pollUntil(metrics, (t) => RESOURCES.every((r) => value(t, 'crdns_source_watch_connected', r) === 0), 'every watch disconnected', 120_000, 200);
    assert.ok(RESOURCES.every((r) => value(down, 'crdns_source_watch_connected', r) === 0));
    await plane.startApiserver();
    const back = await pollUntil(metrics, (t) => RESOURCES.every((r) => value(t, 'crdns_source_watch_connected', r) === 1), 'every watch back', 180_000, 200);
    RESOURCES.forEach((r, i) => {
      assert.ok(value(back, 'crdns_source_watch_restarts', r) > (restartsBefore[i] as number), `${r} restarted`);
      assert.ok(value(back, 'crdns_source_watch_failures', r) >= (failuresBefore[i] as number), `${r} failures never go down`);
    });
    assert.ok(RESOURCES.some((r, i) => value(back, 'crdns_source_watch_failures', r) > (failuresBefore[i] as number)), 'the outage was counted as failures');
    const ready = (await fetch(`http://${crdns.httpAddress()}/readyz`).then((r) => r.json())) as { watches: Array<{ resource: string; connected: boolean }> };
    assert.deepEqual(ready.watches.map((w) => [w.resource, w.connected]), RESOURCES.map((r) => [r, true]));
    // Still serving what it knew, and new changes again.
    await served('nginx.external-dns-test.my-org.com', ['192.0.2.10']);
  });
});
