/**
 * Service and Ingress manifests next to DNSEndpoints, through the real CLI:
 * `crdns check` validates them (exit status 1 for a bad annotation, as for a
 * bad endpoint) and says they are served without readiness; `crdns serve
 * --manifests` serves them, logs and counts what it could not use, and keeps
 * serving the rest. Fixtures are ExternalDNS's own tutorial objects.
 */
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { queryClient } from '../../../src/cli/query.js';
import { presentRecord } from '../../../src/dns/presentation.js';
import { startCrdns, type CrdnsProcess } from '../../harness/crdns-process.js';
import { pollUntil } from '../../support/eventually.js';
import { crdns, dnsEndpoint, REPO, tempDir } from './support.js';

// ExternalDNS tutorials: the nginx LoadBalancer Service (old prefix, trailing dot), here with the status a cloud controller would write.
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
status:
  loadBalancer:
    ingress:
    - ip: 192.0.2.10
`;

// ExternalDNS's Ingress tutorial: the names are the rules' hosts.
const NGINX_INGRESS = `apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: nginx
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
    - ip: 192.0.2.20
`;

describe('Service and Ingress manifests: crdns check and serve --manifests', function () {
  this.timeout(120_000);
  let dir: string;
  let remove: () => Promise<void>;
  beforeEach(async () => ({ dir, remove } = await tempDir('workloads')));
  afterEach(async () => remove());

  async function check(files: Record<string, string>, extra: string[] = []): Promise<{ code: number; out: string }> {
    for (const [name, text] of Object.entries(files)) await writeFile(path.join(dir, name), text);
    const r = await crdns(['check', '--zone', 'example.org', ...extra, dir]);
    return { code: r.code, out: r.out + r.err };
  }

  it('check: the ExternalDNS examples are valid, counted by kind, and said to be served without readiness', async () => {
    const r = await check({ 'svc.yaml': NGINX_SERVICE, 'ing.yaml': NGINX_INGRESS, 'dep.yaml': dnsEndpoint('www', ['{dnsName: www.example.org, recordType: A, targets: [192.0.2.1]}']) });
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /^note: Services and Ingresses from files are served without readiness/m);
    assert.match(r.out, /^1 DNSEndpoint objects, 1 Service, 1 Ingress, \d+ RRsets served, 0 problems$/m);
    assert.doesNotMatch(r.out, /ignored:/);
  });

  it('check: a bad annotation value exits 1 naming the object and the annotation', async () => {
    const r = await check({ 'svc.yaml': NGINX_SERVICE.replace('  annotations:\n', '  annotations:\n    external-dns.kubernetes.io/ttl: soon\n') });
    assert.equal(r.code, 1, r.out);
    assert.match(r.out, /svc\.yaml:1:1: annotation external-dns\.kubernetes\.io\/ttl: "soon" is neither whole seconds nor a duration like 1m30s; ignored \(service:default\/nginx\)/);
    assert.match(r.out, /1 problem\n$/);
  });

  it('check: a bad name from an annotation is named by the record it would have published', async () => {
    const r = await check({ 'ing.yaml': NGINX_INGRESS.replace('  name: nginx\n', '  name: nginx\n  annotations:\n    external-dns.kubernetes.io/hostname: "bad..name.example.org"\n') });
    assert.equal(r.code, 1, r.out);
    assert.match(r.out, /ing\.yaml#0: ingress:default\/nginx record bad\.\.name\.example\.org A field=dnsName: /);
  });

  it('check: a Service whose manifest gives no address is a note, not a problem; other apiVersions stay ignored', async () => {
    const noStatus = NGINX_SERVICE.replace(/status:[\s\S]*$/, '');
    const knative = 'apiVersion: serving.knative.dev/v1\nkind: Service\nmetadata: {name: hello}\n';
    const r = await check({ 'svc.yaml': `${noStatus}---\n${knative}` });
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /^note: .*svc\.yaml#0: service:default\/nginx: no record for nginx\.example\.org\.: the manifest has no status\.loadBalancer\.ingress and no target annotation/m);
    assert.match(r.out, /^ignored: .*svc\.yaml#1 kind=Service \(apiVersion "serving\.knative\.dev\/v1"; crdns reads v1 Services\)$/m);
  });

  it('check: a Service conflicting with an older DNSEndpoint loses by the same rules (first owner by key order in files)', async () => {
    const cname = dnsEndpoint('nginx-alias', ['{dnsName: nginx.example.org, recordType: CNAME, targets: [elsewhere.example.net]}']);
    const r = await check({ 'a.yaml': cname, 'svc.yaml': NGINX_SERVICE });
    assert.equal(r.code, 1, r.out);
    assert.match(r.out, /service:default\/nginx record nginx\.example\.org\. A field=.*default\/nginx-alias/);
  });

  it('check --annotation-prefix reads only the prefix given, as serve does', async () => {
    const custom = NGINX_SERVICE.replace('  annotations:\n', '  annotations:\n    dns.example.com/ttl: soon\n');
    const plain = await check({ 'svc.yaml': custom });
    assert.equal(plain.code, 0, `the default prefixes do not read dns.example.com/: ${plain.out}`);
    const r = await crdns(['check', '--zone', 'example.org', '--annotation-prefix', 'dns.example.com/', dir]);
    assert.equal(r.code, 1, r.out + r.err);
    assert.match(r.out, /annotation dns\.example\.com\/ttl: "soon"/);
    const bad = await crdns(['check', '--annotation-prefix', 'dns.example.com', dir]);
    assert.equal(bad.code, 2, bad.out + bad.err);
  });

  it('check: the shipped examples/workloads are valid', async () => {
    const r = await crdns(['check', '--zone', '5gc.mnc001.mcc001.3gppnetwork.org', '--zone', 'ims.mnc001.mcc001.3gppnetwork.org', path.join(REPO, 'examples/workloads')]);
    assert.equal(r.code, 0, r.out + r.err);
    assert.match(r.out, /0 DNSEndpoint objects, 1 Service, 1 Ingress, \d+ RRsets served, 0 problems/);
  });

  describe('serve --manifests', () => {
    let proc: CrdnsProcess | undefined;
    afterEach(async () => {
      await proc?.stop();
      proc = undefined;
    });

    it('serves Services and Ingresses next to DNSEndpoints, says they have no readiness, and logs and counts a bad annotation while the rest serves', async () => {
      await writeFile(path.join(dir, 'svc.yaml'), NGINX_SERVICE.replace('  annotations:\n', '  annotations:\n    external-dns.kubernetes.io/ttl: soon\n'));
      await writeFile(path.join(dir, 'ing.yaml'), NGINX_INGRESS);
      await writeFile(path.join(dir, 'dep.yaml'), dnsEndpoint('www', ['{dnsName: www.example.org, recordType: A, targets: [192.0.2.1]}']));
      proc = await startCrdns({ zones: ['example.org'], manifests: dir, http: '127.0.0.1:0' });
      const client = queryClient(proc.addresses[0] as string, 5000);
      try {
        const ask = async (name: string) => (((await client.ask(name, 'A')).answers ?? []).map((a) => presentRecord(a)));
        const answers = async () => [await ask('nginx.example.org'), await ask('via-ingress.example.org'), await ask('www.example.org')];
        const got = await pollUntil(answers, (a) => a.every((x) => x.length === 1), 'all three served', 60_000, 100);
        assert.match(got[0]?.[0] ?? '', /IN A 192\.0\.2\.10$/);
        assert.match(got[1]?.[0] ?? '', /IN A 192\.0\.2\.20$/);
        assert.match(got[2]?.[0] ?? '', /IN A 192\.0\.2\.1$/);
        const logs = proc.logs();
        assert.match(logs, /"msg":"Services and Ingresses from manifest files are published without readiness/);
        assert.match(logs, /"msg":"manifest problem".*"kind":"annotation".*"object":"service:default\/nginx".*ttl/);
        const metrics = await fetch(`http://${proc.httpAddress()}/metrics`).then((r) => r.text());
        assert.match(metrics, /^crdns_manifest_problems 1$/m);

        // Fixing the annotation clears the problem; the change is picked up live.
        await writeFile(path.join(dir, 'svc.yaml'), NGINX_SERVICE.replace('192.0.2.10', '192.0.2.11'));
        await pollUntil(() => ask('nginx.example.org'), (a) => /192\.0\.2\.11$/.test(a[0] ?? ''), 'change served', 60_000, 100);
        await pollUntil(() => fetch(`http://${proc?.httpAddress()}/metrics`).then((r) => r.text()), (t) => /^crdns_manifest_problems 0$/m.test(t), 'problem cleared', 60_000, 200);
      } finally {
        client.close();
      }
    });
  });
});
