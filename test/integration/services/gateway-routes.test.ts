/**
 * HTTPRoutes and GRPCRoutes as record sources (`--source gateway-httproute`,
 * `--source gateway-grpcroute`), against a real kube-apiserver and the real
 * `crdns serve` process, with exactly the RBAC the chart renders for those
 * sources.
 *
 * A bare kube-apiserver has no Gateway API: the test installs minimal CRDs for
 * Gateway, HTTPRoute and GRPCRoute (gateway.networking.k8s.io/v1, a schema that
 * preserves unknown fields, and the status subresource). The upstream CRDs'
 * schemas and CEL rules validate what a Gateway controller writes, which is not
 * what is under test; the status subresource is kept so that status is written
 * the way a controller writes it, through /status. There is no Gateway
 * controller and no kubelet: the test writes the Gateways' status.addresses,
 * the routes' status.parents (Accepted) and the EndpointSlices itself.
 */
import assert from 'node:assert/strict';
import { ControlPlane } from '../../harness/control-plane.js';
import { startCrdns, type CrdnsProcess } from '../../harness/crdns-process.js';
import { queryClient, type QueryClient } from '../../../src/cli/query.js';
import { answerHelpers } from '../../support/answers.js';
import { pollUntil } from '../../support/eventually.js';
import { CI_VALUES, cleanupHelmHome, find, render } from '../helm/support.js';

const INFRA = 'infra';
const NS = 'web';
const NEW = 'external-dns.kubernetes.io';
const GROUP = 'gateway.networking.k8s.io';

function crd(kind: string, plural: string): string {
  return JSON.stringify({
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    // *.k8s.io groups are protected: the API server wants the approval annotation the upstream CRDs carry.
    metadata: { name: `${plural}.${GROUP}`, annotations: { 'api-approved.kubernetes.io': 'https://github.com/kubernetes-sigs/gateway-api/pull/2466' } },
    spec: {
      group: GROUP,
      scope: 'Namespaced',
      names: { kind, plural, singular: kind.toLowerCase(), listKind: `${kind}List` },
      versions: [{ name: 'v1', served: true, storage: true, subresources: { status: {} }, schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } } }],
    },
  });
}

function sliceYaml(service: string, ready: boolean): string {
  return `apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: ${service}-1, namespace: ${NS}, labels: {kubernetes.io/service-name: ${service}}}
addressType: IPv4
ports: [{name: http, port: 80, protocol: TCP}]
endpoints:
- addresses: [10.0.1.1]
  conditions: {ready: ${ready}}
`;
}

function serviceYaml(name: string): string {
  return `apiVersion: v1
kind: Service
metadata: {name: ${name}, namespace: ${NS}}
spec:
  ports: [{port: 80, name: http}]
  selector: {app: ${name}}
`;
}

/** A route as an application team writes it, parented to Gateway infra/gw. */
function routeYaml(kind: 'HTTPRoute' | 'GRPCRoute', name: string, hostnames: string[], backend: string, annotations: Record<string, string> = {}): string {
  return JSON.stringify({
    apiVersion: `${GROUP}/v1`,
    kind,
    metadata: { name, namespace: NS, annotations },
    spec: { hostnames, parentRefs: [{ name: 'gw', namespace: INFRA }], rules: [{ backendRefs: [{ name: backend, port: 80 }] }] },
  });
}

describe('crdns serve --source gateway-httproute --source gateway-grpcroute against a real kube-apiserver', function () {
  this.timeout(600_000);
  let plane: ControlPlane;
  let crdns: CrdnsProcess;
  let client: QueryClient;

  const { answer, served } = answerHelpers(() => client, 90_000);
  /** The route's parent status as a Gateway controller writes it, through the status subresource. */
  const accept = (plural: string, name: string, status: 'True' | 'False') =>
    plane.kubectl([
      'patch', plural, name, '-n', NS, '--subresource=status', '--type=merge', '-p',
      JSON.stringify({ status: { parents: [{ parentRef: { group: GROUP, kind: 'Gateway', name: 'gw', namespace: INFRA }, controllerName: 'example.net/gateway-controller', conditions: [{ type: 'Accepted', status, reason: status === 'True' ? 'Accepted' : 'NotAllowedByListeners', observedGeneration: 1, lastTransitionTime: '2026-01-01T00:00:00Z', message: '' }] }] } }),
    ]);
  const gatewayAddresses = (addresses: string[]) =>
    plane.kubectl(['patch', 'gateways', 'gw', '-n', INFRA, '--subresource=status', '--type=merge', '-p', JSON.stringify({ status: { addresses: addresses.map((value) => ({ type: 'IPAddress', value })) } })]);

  before(async () => {
    plane = await ControlPlane.start();
    await plane.createNamespace(INFRA);
    await plane.createNamespace(NS);
    for (const [kind, plural] of [['Gateway', 'gateways'], ['HTTPRoute', 'httproutes'], ['GRPCRoute', 'grpcroutes']] as const) await plane.apply(crd(kind, plural));
    for (const plural of ['gateways', 'httproutes', 'grpcroutes']) {
      await plane.kubectl(['wait', '--for=condition=Established', '--timeout=120s', `crd/${plural}.${GROUP}`]);
      await pollUntil(() => plane.kubectlResult(['get', `${plural}.${GROUP}`, '--all-namespaces']), (r) => r.code === 0, `${plural} served`, 120_000, 250);
    }
    const chart = await render(['-f', CI_VALUES('minimal'), '--set', 'crdns.sources={gateway-httproute,gateway-grpcroute}']);
    const rules = (find(chart, 'ClusterRole') as unknown as { rules: unknown[] }).rules;
    await plane.apply(JSON.stringify({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: 'crdns' }, rules }));
    await plane.apply(JSON.stringify({
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name: 'crdns' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'crdns' },
      subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: 'crdns' }],
    }));
    // The Gateway a platform team runs: one HTTP and one HTTPS listener, routes from every namespace.
    await plane.apply(JSON.stringify({
      apiVersion: `${GROUP}/v1`,
      kind: 'Gateway',
      metadata: { name: 'gw', namespace: INFRA },
      spec: {
        gatewayClassName: 'example',
        listeners: [
          { name: 'http', protocol: 'HTTP', port: 80, allowedRoutes: { namespaces: { from: 'All' } } },
          { name: 'https', protocol: 'HTTPS', port: 443, hostname: '*.example.org', allowedRoutes: { namespaces: { from: 'All' } } },
        ],
      },
    }));
    await gatewayAddresses(['192.0.2.80']);
    crdns = await startCrdns({
      zones: ['example.org'],
      http: '127.0.0.1:0',
      args: ['--kubeconfig', plane.kubeconfigPath('crdns'), '--source', 'gateway-httproute', '--source', 'gateway-grpcroute', '--health-hold-down', '1', '--default-ttl', '30'],
    });
    client = queryClient(crdns.addresses[0] as string, 3000);
  });

  after(async () => {
    client?.close();
    await crdns?.stop();
    await plane?.stop();
    await cleanupHelmHome();
  });

  it("serves an accepted HTTPRoute's hostnames at its parent Gateway's status address while a backend has a ready endpoint", async () => {
    await plane.apply(serviceYaml('echo'));
    await plane.apply(sliceYaml('echo', true));
    // ExternalDNS docs (sources/gateway.md): echoserver.example.org routed to Service echo.
    await plane.apply(routeYaml('HTTPRoute', 'echo', ['echoserver.example.org'], 'echo', { [`${NEW}/ttl`]: '1m' }));
    await accept('httproutes', 'echo', 'True');
    const r = await served('echoserver.example.org', ['192.0.2.80']);
    assert.match(r.answer[0] as string, / 60 IN A /, 'ttl annotation on the route');
  });

  it('a route the Gateway did not accept is not served; a Gateway address change reaches every accepted route', async () => {
    await plane.apply(routeYaml('HTTPRoute', 'refused', ['refused.example.org'], 'echo'));
    await accept('httproutes', 'refused', 'False');
    await gatewayAddresses(['192.0.2.81', '2001:db8::81']);
    await served('echoserver.example.org', ['192.0.2.81']);
    await served('echoserver.example.org', ['2001:db8::81'], 'AAAA');
    // Both routes were recomputed on the Gateway's change that is now visible: the refused one has no record.
    assert.equal((await answer('refused.example.org')).rcode, 3);
    await accept('httproutes', 'refused', 'True');
    await served('refused.example.org', ['192.0.2.81']);
  });

  it('withdraws the route after the hold-down once its backend has no ready endpoint, and serves it again when it has', async () => {
    await plane.apply(sliceYaml('echo', false));
    await pollUntil(() => answer('echoserver.example.org'), (r) => r.rcode === 3, 'withdrawn', 90_000, 50);
    await plane.apply(sliceYaml('echo', true));
    await served('echoserver.example.org', ['192.0.2.81']);
  });

  it('serves a GRPCRoute; the target annotation on the Gateway replaces its addresses', async () => {
    await plane.apply(routeYaml('GRPCRoute', 'grpc', ['grpc.example.org'], 'echo'));
    await accept('grpcroutes', 'grpc', 'True');
    await served('grpc.example.org', ['192.0.2.81']);
    await plane.kubectl(['annotate', 'gateways', 'gw', '-n', INFRA, `${NEW}/target=lb.cloud.example.net`]);
    await served('grpc.example.org', ['lb.cloud.example.net.'], 'CNAME');
    await served('echoserver.example.org', ['lb.cloud.example.net.'], 'CNAME');
  });

  it('a target annotation on the route gets a Warning Event on the HTTPRoute, and the route still serves', async () => {
    await plane.apply(routeYaml('HTTPRoute', 'misplaced', ['misplaced.example.org'], 'echo', { [`${NEW}/target`]: '203.0.113.9' }));
    await accept('httproutes', 'misplaced', 'True');
    await served('misplaced.example.org', ['lb.cloud.example.net.'], 'CNAME');
    type EventList = { items: { reason: string; type: string; message: string; involvedObject: { kind: string; name: string; apiVersion: string } }[] };
    const events = await pollUntil(
      () => plane.getJson<EventList>(['events', '-n', NS]),
      (e) => e.items.some((i) => i.involvedObject.name === 'misplaced'),
      'Warning event on HTTPRoute misplaced',
      60_000,
      100,
    );
    const ev = events.items.filter((i) => i.involvedObject.name === 'misplaced');
    assert.equal(ev.length, 1, JSON.stringify(ev));
    assert.deepEqual([ev[0]?.type, ev[0]?.reason, ev[0]?.involvedObject.kind, ev[0]?.involvedObject.apiVersion], ['Warning', 'InvalidAnnotation', 'HTTPRoute', `${GROUP}/v1`]);
    assert.match(ev[0]?.message ?? '', /target.*parent Gateway/);
  });

  it('exposes the Gateway API watches by resource', async () => {
    const text = await fetch(`http://${crdns.httpAddress()}/metrics`).then((r) => r.text());
    for (const r of ['services', 'endpointslices', 'gateways', 'httproutes', 'grpcroutes']) assert.match(text, new RegExp(`^crdns_source_watch_connected\\{resource="${r}"\\} 1$`, 'm'), r);
    assert.doesNotMatch(text, /resource="ingresses"/);
  });
});
