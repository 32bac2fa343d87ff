/** Service and Ingress → endpoint entries, table-style: what ExternalDNS would publish, and crdns's health gate. */
import assert from 'node:assert/strict';
import { parseTtl, readAnnotations, DEFAULT_ANNOTATION_PREFIXES } from '../../../../src/sources/services/annotations.js';
import { parseGoDuration } from '../../../../src/sources/services/go-duration.js';
import { ingressRecords } from '../../../../src/sources/services/ingress-records.js';
import { hasReadyEndpoint, publishedAddresses } from '../../../../src/sources/services/readiness.js';
import type { EndpointSliceResource, IngressResource, ServiceResource } from '../../../../src/sources/services/resources.js';
import { serviceRecords } from '../../../../src/sources/services/service-records.js';
import { validateObject } from '../../../../src/endpoint/validate-object.js';
import { parseName } from '../../../../src/dns/name.js';

const P = DEFAULT_ANNOTATION_PREFIXES;
const NEW = 'external-dns.kubernetes.io/';
const OLD = 'external-dns.alpha.kubernetes.io/';

function lb(annotations: Record<string, string>, ingress: Array<{ ip?: string; hostname?: string }> = [{ ip: '192.0.2.10' }], extra: Partial<ServiceResource['spec']> = {}): ServiceResource {
  return {
    metadata: { name: 'nginx', namespace: 'default', uid: 'u1', annotations },
    spec: { type: 'LoadBalancer', clusterIP: '10.96.0.10', ports: [{ name: 'http', port: 80, protocol: 'TCP' }], ...extra },
    status: { loadBalancer: { ingress } },
  };
}

function slice(endpoints: EndpointSliceResource['endpoints'], addressType = 'IPv4'): EndpointSliceResource {
  return { metadata: { name: 's1', namespace: 'default', labels: { 'kubernetes.io/service-name': 'nginx' } }, addressType, endpoints };
}

const READY = slice([{ addresses: ['10.0.0.1'], conditions: { ready: true } }]);
const NOT_READY = slice([{ addresses: ['10.0.0.1'], conditions: { ready: false } }]);

const brief = (eps: readonly { dnsName: string; recordType: string; targets: string[]; recordTTL?: number }[]) =>
  eps.map((e) => `${e.dnsName} ${e.recordType}${e.recordTTL ? ` ${e.recordTTL}` : ''} ${e.targets.join(',')}`);

describe('services: annotations', () => {
  const ttlCases: Array<[string, number | RegExp]> = [
    ['60', 60],
    [' 300 ', 300],
    ['1m30s', 90],
    ['1.5h', 5400],
    ['2h45m', 9900],
    ['1500ms', 1],
    ['0', /outside/],
    ['-5', /outside/],
    ['500ms', /outside/],
    ['2147483648', /outside/],
    ['ten', /neither/],
    ['5 minutes', /neither/],
    ['', /neither/],
  ];
  for (const [text, want] of ttlCases) {
    it(`ttl ${JSON.stringify(text)} → ${String(want)}`, () => {
      const got = parseTtl(text);
      if (typeof want === 'number') assert.equal(got, want);
      else assert.match(String(got), want);
    });
  }

  it('Go durations: units, fractions, signs; garbage is undefined', () => {
    assert.equal(parseGoDuration('1h2m3s'), 3723e9);
    assert.equal(parseGoDuration('.5s'), 0.5e9);
    assert.equal(parseGoDuration('-1m'), -60e9);
    assert.equal(parseGoDuration('10µs'), 10e3);
    assert.equal(parseGoDuration('1d'), undefined);
    assert.equal(parseGoDuration('1'), undefined);
    assert.equal(parseGoDuration('s'), undefined);
  });

  it('reads both prefixes; the new one wins where both are set; a custom prefix replaces both', () => {
    assert.deepEqual(readAnnotations({ [`${OLD}hostname`]: 'a.example.org' }, P).hostnames, ['a.example.org']);
    assert.deepEqual(readAnnotations({ [`${NEW}hostname`]: 'b.example.org' }, P).hostnames, ['b.example.org']);
    assert.deepEqual(readAnnotations({ [`${OLD}hostname`]: 'old.example.org', [`${NEW}hostname`]: 'new.example.org' }, P).hostnames, ['new.example.org']);
    assert.deepEqual(readAnnotations({ [`${NEW}hostname`]: 'b.example.org' }, ['dns.example.com/']).hostnames, []);
    assert.deepEqual(readAnnotations({ 'dns.example.com/hostname': 'c.example.org' }, ['dns.example.com/']).hostnames, ['c.example.org']);
  });

  it('comma lists are trimmed and empty items dropped; a bad value is a problem naming the annotation, the rest is read', () => {
    const a = readAnnotations({ [`${NEW}hostname`]: ' a.example.org, ,b.example.org,', [`${OLD}ttl`]: 'soon', [`${NEW}srv`]: 'yes' }, P);
    assert.deepEqual(a.hostnames, ['a.example.org', 'b.example.org']);
    assert.equal(a.ttl, undefined);
    assert.equal(a.srv, false);
    assert.deepEqual(a.problems.map((p) => p.annotation), [`${NEW}srv`, `${OLD}ttl`]);
  });
});

describe('services: readiness', () => {
  const cases: Array<[string, EndpointSliceResource['endpoints'], boolean]> = [
    ['ready true', [{ addresses: ['10.0.0.1'], conditions: { ready: true } }], true],
    ['ready unset counts as ready', [{ addresses: ['10.0.0.1'] }], true],
    ['ready null counts as ready', [{ addresses: ['10.0.0.1'], conditions: { ready: null } }], true],
    ['ready false', [{ addresses: ['10.0.0.1'], conditions: { ready: false } }], false],
    ['terminating never counts', [{ addresses: ['10.0.0.1'], conditions: { ready: true, terminating: true } }], false],
    ['no endpoints', [], false],
    ['endpoints null', null, false],
    ['one of two ready', [{ addresses: ['10.0.0.1'], conditions: { ready: false } }, { addresses: ['10.0.0.2'], conditions: { ready: true } }], true],
  ];
  for (const [what, endpoints, want] of cases) {
    it(`${what} → ${want ? 'ready' : 'not ready'}`, () => assert.equal(hasReadyEndpoint([slice(endpoints)]), want));
  }

  it('published addresses: ready only, or all but terminating with publishNotReadyAddresses; sorted, deduplicated', () => {
    const s = [
      slice([
        { addresses: ['10.0.0.3'], conditions: { ready: false } },
        { addresses: ['10.0.0.2'], hostname: 'web-1' },
        { addresses: ['10.0.0.1'], conditions: { ready: true, terminating: true } },
      ]),
      slice([{ addresses: ['10.0.0.2'], hostname: 'web-1' }]),
    ];
    assert.deepEqual(publishedAddresses(s, false), [{ address: '10.0.0.2', hostname: 'web-1' }]);
    assert.deepEqual(publishedAddresses(s, true).map((a) => a.address), ['10.0.0.2', '10.0.0.3']);
    assert.deepEqual(publishedAddresses([slice([{ addresses: ['x'] }], 'FQDN')], false), []);
  });
});

describe('services: Service → records', () => {
  const cases: Array<{ what: string; svc: ServiceResource; slices?: EndpointSliceResource[]; want: string[]; gated?: boolean }> = [
    {
      // ExternalDNS docs (tutorials, "nginx" example): a LoadBalancer Service with the hostname annotation.
      what: 'ExternalDNS docs example: LoadBalancer with hostname (alpha prefix)',
      svc: lb({ [`${OLD}hostname`]: 'nginx.external-dns-test.my-org.com.' }),
      want: ['nginx.external-dns-test.my-org.com. A 192.0.2.10'],
    },
    {
      what: 'new prefix, comma list, ttl as a duration',
      svc: lb({ [`${NEW}hostname`]: 'a.example.org,b.example.org', [`${NEW}ttl`]: '1m' }),
      want: ['a.example.org A 60 192.0.2.10', 'b.example.org A 60 192.0.2.10'],
    },
    {
      what: 'load balancer with IPv4, IPv6 and a hostname',
      svc: lb({ [`${NEW}hostname`]: 'a.example.org' }, [{ ip: '192.0.2.10' }, { ip: '2001:db8::1' }, { hostname: 'lb.cloud.example.net' }]),
      want: ['a.example.org A 192.0.2.10', 'a.example.org AAAA 2001:db8::1', 'a.example.org CNAME lb.cloud.example.net'],
    },
    {
      what: 'target annotation overrides the status: IPv4, IPv6, name',
      svc: lb({ [`${NEW}hostname`]: 'a.example.org', [`${NEW}target`]: '198.51.100.1, 2001:db8::2' }),
      want: ['a.example.org A 198.51.100.1', 'a.example.org AAAA 2001:db8::2'],
    },
    {
      what: 'target as a name → CNAME',
      svc: lb({ [`${NEW}hostname`]: 'a.example.org', [`${NEW}target`]: 'edge.example.net' }),
      want: ['a.example.org CNAME edge.example.net'],
    },
    {
      what: 'internal-hostname → ClusterIPs (dual stack)',
      svc: lb({ [`${NEW}internal-hostname`]: 'in.example.org' }, [], { clusterIPs: ['10.96.0.10', 'fd00::10'] }),
      want: ['in.example.org A 10.96.0.10', 'in.example.org AAAA fd00::10'],
    },
    {
      what: 'LoadBalancer without status yet → nothing',
      svc: lb({ [`${NEW}hostname`]: 'a.example.org' }, []),
      want: [],
    },
    {
      what: 'plain ClusterIP with hostname → nothing (ExternalDNS without --publish-internal-services)',
      svc: { metadata: { name: 'nginx', namespace: 'default', annotations: { [`${NEW}hostname`]: 'a.example.org' } }, spec: { type: 'ClusterIP', clusterIP: '10.96.0.10' } },
      want: [],
    },
    {
      what: 'ExternalName → CNAME, never health-gated',
      svc: { metadata: { name: 'ext', namespace: 'default', annotations: { [`${NEW}hostname`]: 'a.example.org' } }, spec: { type: 'ExternalName', externalName: 'backend.example.net' } },
      want: ['a.example.org CNAME backend.example.net'],
      gated: false,
    },
    {
      what: 'headless: ready pod addresses, and <pod hostname>.<hostname>',
      svc: { metadata: { name: 'nginx', namespace: 'default', annotations: { [`${NEW}hostname`]: 'db.example.org' } }, spec: { clusterIP: 'None' } },
      slices: [slice([
        { addresses: ['10.0.0.1'], hostname: 'db-0', conditions: { ready: true } },
        { addresses: ['10.0.0.2'], hostname: 'db-1', conditions: { ready: false } },
        { addresses: ['10.0.0.3'] },
      ])],
      want: ['db.example.org A 10.0.0.1,10.0.0.3', 'db-0.db.example.org A 10.0.0.1'],
    },
    {
      what: 'publishNotReadyAddresses: not-ready pods published, not gated',
      svc: { metadata: { name: 'nginx', namespace: 'default', annotations: { [`${NEW}hostname`]: 'db.example.org' } }, spec: { clusterIP: 'None', publishNotReadyAddresses: true } },
      slices: [slice([{ addresses: ['10.0.0.2'], conditions: { ready: false } }])],
      want: ['db.example.org A 10.0.0.2'],
      gated: false,
    },
    {
      what: 'health-check "false" opts out of the gate',
      svc: lb({ [`${NEW}hostname`]: 'a.example.org', [`${NEW}health-check`]: 'false' }),
      want: ['a.example.org A 192.0.2.10'],
      gated: false,
    },
    {
      what: 'srv "true": one SRV per named port, pointing at the hostname',
      svc: lb({ [`${NEW}hostname`]: 'sip.example.org', [`${NEW}srv`]: 'true' }, [{ ip: '192.0.2.10' }], {
        ports: [{ name: 'sip', port: 5060, protocol: 'UDP' }, { name: 'sips', port: 5061 }, { port: 9999 }],
      }),
      want: ['sip.example.org A 192.0.2.10', '_sip._udp.sip.example.org SRV 0 100 5060 sip.example.org.', '_sips._tcp.sip.example.org SRV 0 100 5061 sip.example.org.'],
    },
    {
      what: 'no annotations → nothing',
      svc: lb({}),
      want: [],
    },
  ];
  for (const c of cases) {
    it(c.what, () => {
      const r = serviceRecords(c.svc, c.slices ?? [READY], P);
      assert.deepEqual(brief(r.endpoints), c.want);
      assert.equal(r.healthGated, c.gated ?? true);
    });
  }

  it('health follows the slices', () => {
    const svc = lb({ [`${NEW}hostname`]: 'a.example.org' });
    assert.equal(serviceRecords(svc, [READY], P).healthy, true);
    assert.equal(serviceRecords(svc, [NOT_READY], P).healthy, false);
    assert.equal(serviceRecords(svc, [], P).healthy, false);
  });

  it('the entries pass the same validation as DNSEndpoints: a bad target is one problem, the rest is served', () => {
    const svc = lb({ [`${NEW}hostname`]: 'a.example.org,bad_name!.example.org', [`${NEW}ttl`]: 'never' });
    const r = serviceRecords(svc, [READY], P);
    assert.deepEqual(r.problems.map((p) => p.annotation), [`${NEW}ttl`]);
    const zone = parseName('example.org');
    assert.ok(zone.ok);
    const v = validateObject({ key: 'default/nginx', origin: { source: 'service', namespace: 'default', name: 'nginx' }, endpoints: r.endpoints }, { zones: [zone.name], defaultTtl: 300 });
    assert.equal(v.problems.length, 1, JSON.stringify(v.problems));
    assert.equal(v.problems[0]?.index, 1);
    assert.equal(v.rrsets.length, 1);
  });
});

describe('services: Ingress → records', () => {
  // ExternalDNS docs (ingress example): rules' hosts, addresses from the controller's status.
  const ingress = (annotations: Record<string, string> = {}, status: Array<{ ip?: string; hostname?: string }> = [{ ip: '192.0.2.20' }]): IngressResource => ({
    metadata: { name: 'nginx', namespace: 'default', annotations },
    spec: {
      rules: [
        { host: 'via-ingress.external-dns-test.my-org.com', http: { paths: [{ backend: { service: { name: 'nginx' } } }] } },
        { host: 'other.example.org', http: { paths: [{ backend: { service: { name: 'api' } } }] } },
      ],
    },
    status: { loadBalancer: { ingress: status } },
  });
  const backends = (ready: Record<string, boolean>, services: Record<string, ServiceResource> = {}) => ({
    service: (n: string) => services[n] ?? { metadata: { name: n, namespace: 'default' }, spec: { type: 'ClusterIP' } },
    slices: (n: string) => (n in ready ? [ready[n] ? READY : NOT_READY] : []),
  });

  it('rules and hostname annotation, status addresses; healthy while any backend is ready', () => {
    const r = ingressRecords(ingress({ [`${OLD}hostname`]: 'extra.example.org' }), backends({ nginx: false, api: true }), P);
    assert.deepEqual(brief(r.endpoints), ['via-ingress.external-dns-test.my-org.com A 192.0.2.20', 'other.example.org A 192.0.2.20', 'extra.example.org A 192.0.2.20']);
    assert.equal(r.healthGated, true);
    assert.equal(r.healthy, true);
    assert.equal(ingressRecords(ingress(), backends({ nginx: false, api: false }), P).healthy, false);
  });

  it('target and ttl annotations; hostname status → CNAME', () => {
    assert.deepEqual(brief(ingressRecords(ingress({ [`${NEW}ttl`]: '120' }, [{ hostname: 'lb.example.net' }]), backends({}), P).endpoints).slice(0, 1), [
      'via-ingress.external-dns-test.my-org.com CNAME 120 lb.example.net',
    ]);
    assert.deepEqual(brief(ingressRecords(ingress({ [`${NEW}target`]: '203.0.113.5' }), backends({}), P).endpoints).slice(0, 1), ['via-ingress.external-dns-test.my-org.com A 203.0.113.5']);
  });

  it('not gated: opt-out annotation, a backend with publishNotReadyAddresses, or no Service backends', () => {
    assert.equal(ingressRecords(ingress({ [`${NEW}health-check`]: 'false' }), backends({}), P).healthGated, false);
    const pnr: ServiceResource = { metadata: { name: 'api', namespace: 'default' }, spec: { publishNotReadyAddresses: true } };
    assert.equal(ingressRecords(ingress(), backends({}, { api: pnr }), P).healthGated, false);
    const noBackends: IngressResource = { metadata: { name: 'x', namespace: 'default' }, spec: { rules: [{ host: 'x.example.org' }] }, status: { loadBalancer: { ingress: [{ ip: '192.0.2.1' }] } } };
    assert.equal(ingressRecords(noBackends, backends({}), P).healthGated, false);
  });
});
