/** HTTPRoute and GRPCRoute → endpoint entries, table-style: ExternalDNS's parent, listener and hostname rules, and crdns's health gate. */
import assert from 'node:assert/strict';
import { DEFAULT_ANNOTATION_PREFIXES } from '../../../../src/sources/services/annotations.js';
import type { EndpointSliceResource, GatewayListener, GatewayResource, RouteResource, ServiceResource } from '../../../../src/sources/services/resources.js';
import { matchingHost, parentGatewayKeys, routeRecords, type RouteView } from '../../../../src/sources/services/route-records.js';

const P = DEFAULT_ANNOTATION_PREFIXES;
const NEW = 'external-dns.kubernetes.io/';

function gateway(listeners: GatewayListener[], extra: { namespace?: string; annotations?: Record<string, string>; addresses?: string[] } = {}): GatewayResource {
  return {
    metadata: { name: 'gw', namespace: extra.namespace ?? 'infra', ...(extra.annotations ? { annotations: extra.annotations } : {}) },
    spec: { listeners },
    status: { addresses: (extra.addresses ?? ['192.0.2.80']).map((value) => ({ type: 'IPAddress', value })) },
  };
}

const ALL = { namespaces: { from: 'All' } };
const HTTP = [{ name: 'http', protocol: 'HTTP', port: 80, allowedRoutes: ALL }];

function route(opts: { hostnames?: string[]; annotations?: Record<string, string>; accepted?: string; parent?: Record<string, unknown>; statusParent?: Record<string, unknown>; backends?: string[]; namespace?: string } = {}): RouteResource {
  const parent = { name: 'gw', namespace: 'infra', ...opts.parent };
  return {
    metadata: { name: 'web', namespace: opts.namespace ?? 'web', generation: 2, ...(opts.annotations ? { annotations: opts.annotations } : {}) },
    spec: {
      ...(opts.hostnames ? { hostnames: opts.hostnames } : {}),
      parentRefs: [parent],
      rules: [{ backendRefs: (opts.backends ?? ['web']).map((name) => ({ name, port: 80 })) }],
    },
    status: {
      parents: [{ parentRef: { ...parent, ...opts.statusParent }, conditions: [{ type: 'Accepted', status: opts.accepted ?? 'True', observedGeneration: 1 }] }],
    },
  } as RouteResource;
}

function view(gateways: GatewayResource[], ready: Record<string, boolean> = { web: true }, services: Record<string, ServiceResource> = {}): RouteView {
  const slice = (ok: boolean): EndpointSliceResource => ({ addressType: 'IPv4', endpoints: [{ addresses: ['10.0.0.1'], conditions: { ready: ok } }] });
  return {
    gateway: (ns, n) => gateways.find((g) => g.metadata?.namespace === ns && g.metadata?.name === n),
    service: (_ns, n) => services[n],
    slices: (_ns, n) => (n in ready ? [slice(ready[n] as boolean)] : []),
  };
}

const brief = (eps: readonly { dnsName: string; recordType: string; targets: string[]; recordTTL?: number }[]) =>
  eps.map((e) => `${e.dnsName} ${e.recordType}${e.recordTTL ? ` ${e.recordTTL}` : ''} ${e.targets.join(',')}`);

describe('services: HTTPRoute/GRPCRoute → records', () => {
  const cases: Array<{ what: string; route: RouteResource; gateways?: GatewayResource[]; kind?: 'httproute' | 'grpcroute'; want: string[] }> = [
    // ExternalDNS docs (sources/gateway.md): echoserver.example.org on a route to Service echo.
    { what: 'spec.hostnames → the parent Gateway\'s status.addresses', route: route({ hostnames: ['echoserver.example.org'] }), want: ['echoserver.example.org A 192.0.2.80'] },
    { what: 'not Accepted: nothing', route: route({ hostnames: ['a.example.org'], accepted: 'False' }), want: [] },
    { what: 'an Accepted of an older generation still counts (no flap while the controller catches up)', route: route({ hostnames: ['a.example.org'] }), want: ['a.example.org A 192.0.2.80'] },
    { what: 'a status parent the spec no longer lists: nothing', route: route({ hostnames: ['a.example.org'], statusParent: { name: 'old-gw' } }), gateways: [gateway(HTTP), { ...gateway(HTTP), metadata: { name: 'old-gw', namespace: 'infra' } }], want: [] },
    { what: 'a parent that is not a Gateway: nothing', route: route({ hostnames: ['a.example.org'], parent: { kind: 'Service', group: '' } }), want: [] },
    { what: 'Gateway not found: nothing', route: route({ hostnames: ['a.example.org'], parent: { name: 'missing' } }), want: [] },
    { what: 'listener protocol TCP does not take an HTTPRoute', route: route({ hostnames: ['a.example.org'] }), gateways: [gateway([{ name: 't', protocol: 'TCP', port: 80, allowedRoutes: ALL }])], want: [] },
    { what: 'HTTPS listener takes it; its hostname narrows a wildcard route host', route: route({ hostnames: ['*.example.org'] }), gateways: [gateway([{ name: 's', protocol: 'HTTPS', port: 443, hostname: 'shop.example.org', allowedRoutes: ALL }])], want: ['shop.example.org A 192.0.2.80'] },
    { what: 'a route host outside the listener hostname: nothing', route: route({ hostnames: ['a.example.net'] }), gateways: [gateway([{ name: 's', protocol: 'HTTP', hostname: '*.example.org', allowedRoutes: ALL }])], want: [] },
    { what: 'no route hostnames: the listener\'s hostname', route: route(), gateways: [gateway([{ name: 'h', protocol: 'HTTP', hostname: 'www.example.org', allowedRoutes: ALL }])], want: ['www.example.org A 192.0.2.80'] },
    { what: 'no hostnames anywhere: nothing', route: route(), want: [] },
    { what: 'sectionName picks one listener', route: route({ hostnames: ['*.example.org'], parent: { sectionName: 'b' } }), gateways: [gateway([{ name: 'a', protocol: 'HTTP', hostname: 'a.example.org', allowedRoutes: ALL }, { name: 'b', protocol: 'HTTP', hostname: 'b.example.org', allowedRoutes: ALL }])], want: ['b.example.org A 192.0.2.80'] },
    { what: 'a parentRef port no listener has: nothing', route: route({ hostnames: ['a.example.org'], parent: { port: 8080 } }), want: [] },
    { what: 'allowedRoutes from Same (the default) refuses another namespace\'s route', route: route({ hostnames: ['a.example.org'] }), gateways: [gateway([{ name: 'h', protocol: 'HTTP' }])], want: [] },
    { what: '... and takes its own namespace\'s', route: route({ hostnames: ['a.example.org'], namespace: 'infra' }), gateways: [gateway([{ name: 'h', protocol: 'HTTP' }])], want: ['a.example.org A 192.0.2.80'] },
    { what: 'allowedRoutes kinds without HTTPRoute refuse it', route: route({ hostnames: ['a.example.org'] }), gateways: [gateway([{ name: 'h', protocol: 'HTTP', allowedRoutes: { ...ALL, kinds: [{ kind: 'GRPCRoute' }] } }])], want: [] },
    { what: 'a GRPCRoute is taken where kinds list GRPCRoute', kind: 'grpcroute', route: route({ hostnames: ['grpc.example.org'] }), gateways: [gateway([{ name: 'h', protocol: 'HTTPS', allowedRoutes: { ...ALL, kinds: [{ kind: 'GRPCRoute' }] } }])], want: ['grpc.example.org A 192.0.2.80'] },
    { what: 'the Gateway\'s target annotation replaces its addresses (name → CNAME)', route: route({ hostnames: ['a.example.org'] }), gateways: [gateway(HTTP, { annotations: { [`${NEW}target`]: 'lb.example.net' } })], want: ['a.example.org CNAME lb.example.net'] },
    { what: 'dual-stack and hostname addresses; hostname annotation and ttl on the route', route: route({ hostnames: ['a.example.org'], annotations: { 'external-dns.alpha.kubernetes.io/hostname': 'b.example.org', [`${NEW}ttl`]: '2m' } }), gateways: [gateway(HTTP, { addresses: ['2001:db8::80', '192.0.2.80'] })], want: ['a.example.org A 120 192.0.2.80', 'a.example.org AAAA 120 2001:db8::80', 'b.example.org A 120 192.0.2.80', 'b.example.org AAAA 120 2001:db8::80'] },
    { what: 'gateway-hostname-source annotation-only', route: route({ hostnames: ['a.example.org'], annotations: { [`${NEW}hostname`]: 'b.example.org', [`${NEW}gateway-hostname-source`]: 'annotation-only' } }), want: ['b.example.org A 192.0.2.80'] },
    { what: 'gateway-hostname-source defined-hosts-only', route: route({ hostnames: ['a.example.org'], annotations: { [`${NEW}hostname`]: 'b.example.org', [`${NEW}gateway-hostname-source`]: 'defined-hosts-only' } }), want: ['a.example.org A 192.0.2.80'] },
  ];
  for (const c of cases) {
    it(c.what, () => {
      const r = routeRecords(c.route, c.kind ?? 'httproute', view(c.gateways ?? [gateway(HTTP)]), P);
      assert.deepEqual(brief(r.endpoints), c.want);
    });
  }

  it('two parents: targets merged, deduplicated and sorted whatever the order of status.parents', () => {
    const two: RouteResource = route({ hostnames: ['a.example.org'] });
    two.spec?.parentRefs?.push({ name: 'gw2', namespace: 'infra' });
    two.status?.parents?.unshift({ parentRef: { name: 'gw2', namespace: 'infra' }, conditions: [{ type: 'Accepted', status: 'True' }] });
    const gws = [gateway(HTTP, { addresses: ['192.0.2.90', '192.0.2.80'] }), { ...gateway(HTTP, { addresses: ['192.0.2.70'] }), metadata: { name: 'gw2', namespace: 'infra' } }];
    assert.deepEqual(brief(routeRecords(two, 'httproute', view(gws), P).endpoints), ['a.example.org A 192.0.2.70,192.0.2.80,192.0.2.90']);
    assert.deepEqual(parentGatewayKeys(two), ['infra/gw', 'infra/gw2']);
  });

  it('health: gated on the backendRef Services, healthy when one has a ready endpoint; opt-outs ungate', () => {
    const r = route({ hostnames: ['a.example.org'], backends: ['web', 'api'] });
    const gws = [gateway(HTTP)];
    assert.deepEqual([routeRecords(r, 'httproute', view(gws, { web: false, api: true }), P)].map((x) => [x.healthGated, x.healthy]), [[true, true]]);
    assert.deepEqual([routeRecords(r, 'httproute', view(gws, { web: false, api: false }), P)].map((x) => [x.healthGated, x.healthy]), [[true, false]]);
    const optOut = routeRecords(route({ hostnames: ['a.example.org'], annotations: { [`${NEW}health-check`]: 'false' } }), 'httproute', view(gws, { web: false }), P);
    assert.equal(optOut.healthGated, false);
    const notReady = routeRecords(r, 'httproute', view(gws, { web: false }, { api: { spec: { publishNotReadyAddresses: true } } }), P);
    assert.equal(notReady.healthGated, false);
    const noServices = route({ hostnames: ['a.example.org'], backends: [] });
    assert.equal(routeRecords(noServices, 'httproute', view(gws), P).healthGated, false);
  });

  it('annotation problems: a target on the route (read from the Gateway), a bad gateway-hostname-source, a bad ttl; the rest serves', () => {
    const r = routeRecords(route({ hostnames: ['a.example.org'], annotations: { [`${NEW}target`]: '198.51.100.1', [`${NEW}gateway-hostname-source`]: 'both', [`${NEW}ttl`]: 'soon' } }), 'httproute', view([gateway(HTTP)]), P);
    assert.deepEqual(r.problems.map((p) => p.annotation).sort(), [`${NEW}gateway-hostname-source`, `${NEW}target`, `${NEW}ttl`]);
    assert.deepEqual(brief(r.endpoints), ['a.example.org A 192.0.2.80']);
  });

  it('host matching: empty matches anything, a wildcard matches below itself only, the more specific name wins', () => {
    assert.equal(matchingHost('', 'a.example.org'), 'a.example.org');
    assert.equal(matchingHost('a.example.org', ''), 'a.example.org');
    assert.equal(matchingHost('*.example.org', 'a.b.example.org'), 'a.b.example.org');
    assert.equal(matchingHost('a.example.org', '*.example.org'), 'a.example.org');
    assert.equal(matchingHost('*.example.org', 'example.org'), undefined);
    assert.equal(matchingHost('*.example.org', '*.a.example.org'), '*.a.example.org');
    assert.equal(matchingHost('A.Example.org', 'a.example.org.'), 'a.example.org');
    assert.equal(matchingHost('a.example.org', 'b.example.org'), undefined);
  });
});
