/**
 * Service and Ingress manifests in a folder or given to `check`: the live
 * source's conversion, addresses from the manifest alone, no readiness, and
 * the same guarantees as DNSEndpoints (a bad annotation is a problem and the
 * rest serves; a malformed object keeps its last good version).
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { formatManifestProblem, parseManifestText, type ManifestParseResult, type ParsedManifest } from '../../../../src/sources/manifests/documents.js';
import { ManifestSet } from '../../../../src/sources/manifests/manifest-set.js';
import { loadManifests } from '../../../../src/sources/manifests/read-files.js';
import { manifestKindOfKey } from '../../../../src/sources/manifests/workload-documents.js';
import { DEFAULT_ANNOTATION_PREFIXES } from '../../../../src/sources/services/annotations.js';
import { serviceRecords } from '../../../../src/sources/services/service-records.js';
import type { ServiceResource } from '../../../../src/sources/services/resources.js';

function ok(r: ManifestParseResult): ParsedManifest {
  if (!r.ok) assert.fail(`expected a parse, got ${formatManifestProblem(r.error)}`);
  return r;
}

const brief = (eps: readonly unknown[]) =>
  (eps as Array<{ dnsName: string; recordType: string; targets: string[]; recordTTL?: number }>).map((e) => `${e.dnsName} ${e.recordType}${e.recordTTL ? ` ${e.recordTTL}` : ''} ${e.targets.join(',')}`);

// ExternalDNS's tutorials: the "nginx" LoadBalancer Service with the hostname annotation (old prefix, trailing dot).
const NGINX_SERVICE = `apiVersion: v1
kind: Service
metadata:
  name: nginx
  annotations:
    external-dns.alpha.kubernetes.io/hostname: nginx.example.org.
spec:
  type: LoadBalancer
  ports:
  - port: 80
    name: http
    targetPort: 80
  selector:
    app: nginx
`;
const LB_STATUS = `status:
  loadBalancer:
    ingress:
    - ip: 192.0.2.10
    - ip: 2001:db8::10
`;

// ExternalDNS's Ingress tutorial: names from spec.rules[].host, the controller's address in status.
const NGINX_INGRESS = `apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: nginx
  namespace: web
spec:
  ingressClassName: nginx
  rules:
  - host: via-ingress.example.org
    http:
      paths:
      - backend:
          service:
            name: nginx
            port:
              number: 80
        path: /
        pathType: Prefix
status:
  loadBalancer:
    ingress:
    - hostname: lb-1234.elb.example.net
`;

describe('manifests: Services and Ingresses', () => {
  it('the ExternalDNS nginx Service with a load balancer status: A and AAAA, key prefixed with the kind', () => {
    const r = ok(parseManifestText(NGINX_SERVICE + LB_STATUS, 'svc.yaml'));
    assert.deepEqual(r.problems, []);
    assert.deepEqual(r.notes, []);
    assert.equal(r.ignored, 0);
    assert.deepEqual(r.objects.map((o) => [o.key, o.origin]), [['service:default/nginx', { source: 'manifests', namespace: 'default', name: 'nginx', file: 'svc.yaml#0' }]]);
    assert.deepEqual(brief(r.objects[0]?.endpoints ?? []), ['nginx.example.org. A 192.0.2.10', 'nginx.example.org. AAAA 2001:db8::10']);
    assert.equal(manifestKindOfKey('service:default/nginx'), 'service');
    assert.equal(manifestKindOfKey('default/nginx'), 'dnsendpoint');
  });

  it('uses the live source\'s conversion: the same entries serviceRecords() gives with no EndpointSlices', () => {
    const text = NGINX_SERVICE.replace('    external-dns', '    external-dns.kubernetes.io/srv: "true"\n    external-dns.kubernetes.io/ttl: 1m\n    external-dns') + LB_STATUS;
    const r = ok(parseManifestText(text, 'svc.yaml'));
    const live = serviceRecords(parseYaml(text) as ServiceResource, [], DEFAULT_ANNOTATION_PREFIXES);
    assert.deepEqual(r.objects[0]?.endpoints, live.endpoints);
    assert.ok(brief(live.endpoints).includes('_http._tcp.nginx.example.org SRV 60 0 100 80 nginx.example.org.'), brief(live.endpoints).join('; '));
  });

  it('the same Service without status publishes nothing, and a note says why', () => {
    const r = ok(parseManifestText(NGINX_SERVICE, 'svc.yaml'));
    assert.deepEqual(r.objects.map((o) => [o.key, o.endpoints.length]), [['service:default/nginx', 0]]);
    assert.deepEqual(r.problems, []);
    assert.equal(r.notes.length, 1);
    assert.equal(r.notes[0]?.object, 'service:default/nginx');
    assert.match(r.notes[0]?.message ?? '', /^no record for nginx\.example\.org\.: .*status\.loadBalancer\.ingress.*target annotation/);
  });

  it('the ExternalDNS Ingress: rule hosts → the controller\'s address, whatever its backends (no readiness in a folder)', () => {
    const r = ok(parseManifestText(NGINX_INGRESS, 'ing.yaml'));
    assert.deepEqual(r.problems, []);
    assert.deepEqual(r.objects.map((o) => o.key), ['ingress:web/nginx']);
    assert.deepEqual(brief(r.objects[0]?.endpoints ?? []), ['via-ingress.example.org CNAME lb-1234.elb.example.net']);
  });

  it('target annotation, internal-hostname from spec.clusterIPs (dual stack), headless and ExternalName', () => {
    const text = `apiVersion: v1
kind: Service
metadata:
  name: api
  namespace: core
  annotations:
    external-dns.kubernetes.io/hostname: api.example.org
    external-dns.kubernetes.io/target: 198.51.100.7
    external-dns.kubernetes.io/internal-hostname: api.internal.example.org
spec:
  clusterIP: 10.96.0.7
  clusterIPs: [10.96.0.7, fd00::7]
---
apiVersion: v1
kind: Service
metadata:
  name: db
  namespace: core
  annotations:
    external-dns.kubernetes.io/hostname: db.example.org
spec:
  clusterIP: None
---
apiVersion: v1
kind: Service
metadata:
  name: ext
  namespace: core
  annotations:
    external-dns.kubernetes.io/hostname: ext.example.org
spec:
  type: ExternalName
  externalName: elsewhere.example.net
`;
    const r = ok(parseManifestText(text, 'svc.yaml'));
    assert.deepEqual(r.problems, []);
    const byKey = new Map(r.objects.map((o) => [o.key, brief(o.endpoints)]));
    assert.deepEqual(byKey.get('service:core/api'), ['api.example.org A 198.51.100.7', 'api.internal.example.org A 10.96.0.7', 'api.internal.example.org AAAA fd00::7']);
    assert.deepEqual(byKey.get('service:core/db'), []);
    assert.deepEqual(byKey.get('service:core/ext'), ['ext.example.org CNAME elsewhere.example.net']);
    assert.deepEqual(r.notes.map((n) => n.object), ['service:core/db']);
    assert.match(r.notes[0]?.message ?? '', /headless.*EndpointSlices/);
  });

  it('a bad annotation value is a problem naming it; the object is served without it and keeps no last-good lock', () => {
    const text = NGINX_SERVICE.replace('    external-dns', '    external-dns.kubernetes.io/ttl: soon\n    external-dns') + LB_STATUS;
    const r = ok(parseManifestText(text, 'svc.yaml'));
    assert.deepEqual(r.problems.map((p) => [p.kind, p.object, p.line]), [['annotation', 'service:default/nginx', 1]]);
    assert.match(r.problems[0]?.message ?? '', /^annotation external-dns\.kubernetes\.io\/ttl: "soon" .*; ignored$/);
    assert.deepEqual(r.rejectedKeys, []);
    assert.deepEqual(brief(r.objects[0]?.endpoints ?? []), ['nginx.example.org. A 192.0.2.10', 'nginx.example.org. AAAA 2001:db8::10']);
  });

  it('what the API server would refuse is a document problem: a non-string annotation, a Service name with a dot, spec not a mapping', () => {
    const cases: Array<[string, RegExp]> = [
      [NGINX_SERVICE.replace('    external-dns', '    external-dns.kubernetes.io/ttl: 60\n    external-dns'), /annotations\["external-dns\.kubernetes\.io\/ttl"\] must be a string/],
      [NGINX_SERVICE.replace('name: nginx', 'name: nginx.web'), /not a valid Service name/],
      [NGINX_SERVICE.replace(/spec:[\s\S]*$/, 'spec: [1]\n'), /spec must be a mapping/],
      [NGINX_SERVICE.replace(/metadata:[\s\S]*?spec:/, 'spec:'), /Service has no metadata/],
    ];
    for (const [text, re] of cases) {
      const r = ok(parseManifestText(text, 'svc.yaml'));
      assert.equal(r.objects.length, 0, text);
      assert.equal(r.problems.length, 1, text);
      assert.equal(r.problems[0]?.kind, 'document');
      assert.match(r.problems[0]?.message ?? '', re);
    }
  });

  it('other apiVersions of the same kinds stay ignored input, and say which crdns reads', () => {
    const text = `apiVersion: serving.knative.dev/v1
kind: Service
metadata: {name: hello}
---
apiVersion: networking.k8s.io/v1beta1
kind: Ingress
metadata: {name: old}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: s}
`;
    const r = ok(parseManifestText(text, 'x.yaml'));
    assert.deepEqual(r.objects, []);
    assert.deepEqual(r.problems, []);
    assert.deepEqual(r.ignoredDocuments, [
      { origin: 'x.yaml#0', kind: 'Service', note: 'apiVersion "serving.knative.dev/v1"; crdns reads v1 Services' },
      { origin: 'x.yaml#1', kind: 'Ingress', note: 'apiVersion "networking.k8s.io/v1beta1"; crdns reads networking.k8s.io/v1 Ingresses' },
      { origin: 'x.yaml#2', kind: 'EndpointSlice' },
    ]);
  });

  it('a Service and a DNSEndpoint of the same name are two objects', () => {
    const dep = 'apiVersion: externaldns.k8s.io/v1alpha1\nkind: DNSEndpoint\nmetadata: {name: nginx}\nspec: {endpoints: []}\n';
    const r = ok(parseManifestText(`${dep}---\n${NGINX_SERVICE}`, 'both.yaml'));
    assert.deepEqual(r.objects.map((o) => o.key).sort(), ['default/nginx', 'service:default/nginx']);
  });

  it('--annotation-prefix replaces both ExternalDNS prefixes', () => {
    const text = NGINX_SERVICE.replace('external-dns.alpha.kubernetes.io/hostname', 'dns.example.com/hostname') + LB_STATUS;
    assert.equal(ok(parseManifestText(text, 's.yaml')).objects[0]?.endpoints.length, 0);
    assert.equal(ok(parseManifestText(text, 's.yaml', { annotationPrefixes: ['dns.example.com/'] })).objects[0]?.endpoints.length, 2);
  });

  it('a Service that becomes malformed keeps its last good version in a folder, as the API server would keep the old object', () => {
    const set = new ManifestSet();
    set.update('s.yaml', 'dir/s.yaml', { text: NGINX_SERVICE + LB_STATUS });
    set.update('s.yaml', 'dir/s.yaml', { text: (NGINX_SERVICE + LB_STATUS).replace('    external-dns', '    external-dns.kubernetes.io/ttl: 60\n    external-dns').replace('192.0.2.10', '192.0.2.99') });
    const { objects, problems } = set.resolve();
    assert.deepEqual(brief(objects.get('service:default/nginx')?.endpoints ?? []), ['nginx.example.org. A 192.0.2.10', 'nginx.example.org. AAAA 2001:db8::10']);
    assert.deepEqual(problems.map((p) => p.kind), ['document']);
  });

  it('loadManifests hands over the notes of what it serves', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'crdns-workload-docs-'));
    try {
      await writeFile(join(dir, 'a.yaml'), NGINX_SERVICE);
      await writeFile(join(dir, 'b.yaml'), NGINX_INGRESS);
      const r = await loadManifests([dir]);
      assert.deepEqual(r.objects.map((o) => o.key), ['ingress:web/nginx', 'service:default/nginx']);
      assert.deepEqual(r.notes.map((n) => [n.origin, n.object]), [[join(dir, 'a.yaml#0'), 'service:default/nginx']]);
      assert.deepEqual(r.problems, []);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
