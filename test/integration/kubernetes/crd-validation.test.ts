/**
 * The shipped CRD (helm/crdns/files/crd-dnsendpoints.yaml) against a real
 * kube-apiserver: what crdns would reject and the schema can tell is refused
 * at `kubectl apply`, with a message that says why; everything crdns accepts
 * (the examples, and the edge cases crdns documents) is accepted. The patterns
 * in the schema are also checked against crdns's own parsers, so the CRD can
 * never refuse what crdns would serve.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseAllDocuments, parse as parseYaml } from 'yaml';
import { parseName } from '../../../src/dns/name.js';
import { canonicalIPv6, parseA } from '../../../src/endpoint/parse-target.js';
import { ControlPlane, CRD_FILE } from '../../harness/control-plane.js';
import { repoRoot } from '../../harness/peers.js';
import { rng } from '../../support/fuzz-messages.js';

const NS = 'crd-test';

function endpointObject(name: string, endpoints: unknown[]): string {
  return JSON.stringify({ apiVersion: 'externaldns.k8s.io/v1alpha1', kind: 'DNSEndpoint', metadata: { name, namespace: NS }, spec: { endpoints } });
}

interface Schema {
  allOf?: Array<{ anyOf: Array<{ properties?: { targets?: { items?: { pattern?: string } } } }> }>;
  properties: { dnsName?: { 'x-kubernetes-validations'?: Array<{ rule: string }> } };
}

/** The endpoint item schema of the shipped CRD. */
function endpointSchema(): Schema {
  const crd = parseYaml(readFileSync(CRD_FILE(), 'utf8')) as {
    spec: { versions: Array<{ schema: { openAPIV3Schema: { properties: { spec: { properties: { endpoints: { items: Schema } } } } } } }> };
  };
  return (crd.spec.versions[0] as (typeof crd.spec.versions)[0]).schema.openAPIV3Schema.properties.spec.properties.endpoints.items;
}

describe('the shipped DNSEndpoint CRD', function () {
  this.timeout(300_000);

  describe('its patterns never refuse what crdns accepts', () => {
    // Read in before(), so a CRD without the rules fails these tests one by one instead of the whole file.
    let v4: RegExp | undefined;
    let v6: RegExp | undefined;
    let dnsName: RegExp;
    before(() => {
      const schema = endpointSchema();
      [v4, v6] = (schema.allOf ?? []).map((b) => new RegExp(b.anyOf[1]?.properties?.targets?.items?.pattern ?? '^missing$'));
      const rule = schema.properties.dnsName?.['x-kubernetes-validations']?.[0]?.rule ?? '';
      // The CEL string literal holds \x00, \x7F and \u3002 escapes, which a JS RegExp reads the same way.
      dnsName = new RegExp(/self\.matches\('(.*)'\)/.exec(rule)?.[1] ?? '^missing$');
    });

    it('A: exactly the addresses crdns accepts', () => {
      const r = rng(4242);
      const pick = (n: number) => Math.floor(r() * n);
      const octet = () => [String(pick(256)), String(pick(300)), `0${pick(10)}`, String(pick(10))][pick(4)] as string;
      for (let i = 0; i < 50_000; i++) {
        const s = Array.from({ length: 3 + pick(3) }, octet).join(['.', '.', '.', ':', '..'][pick(5)] as string);
        assert.equal(v4?.test(s), parseA(s).ok, s);
      }
    });

    it('AAAA: a superset of what crdns accepts, refusing IPv4, names and zone indexes', () => {
      const r = rng(6464);
      const pick = (n: number) => Math.floor(r() * n);
      const alphabet = '0123456789abcdefABCDEF::::..g%';
      let valid = 0;
      for (let i = 0; i < 200_000; i++) {
        let s: string;
        if (i % 2 === 0) {
          s = Array.from({ length: 1 + pick(40) }, () => alphabet[pick(alphabet.length)]).join('');
        } else {
          const groups = Array.from({ length: 8 }, () => pick(65536).toString(16).slice(0, 1 + pick(4)));
          const a = pick(9);
          s = pick(2) ? groups.join(':') : `${groups.slice(0, a).join(':')}::${groups.slice(a + 1 + pick(8 - a)).join(':')}`;
          if (pick(3) === 0) s = s.replace(/[^:]*:[^:]*$/, `${pick(256)}.${pick(256)}.${pick(256)}.${pick(256)}`);
        }
        if (canonicalIPv6(s) !== undefined) {
          valid++;
          assert.ok(v6?.test(s), `crdns accepts ${s}; the CRD must too`);
        }
      }
      assert.ok(valid > 50_000, `enough valid addresses tried (${valid})`);
      for (const s of ['192.0.2.1', 'not-an-ip', 'fe80::1%eth0', '2001:db8::g', '', 'www.example.org']) assert.equal(v6?.test(s), false, s);
    });

    it('dnsName: a superset of what crdns accepts', () => {
      const r = rng(5353);
      const pick = (n: number) => Math.floor(r() * n);
      const chars = ['a', 'Z', '0', '-', '_', '.', '.', '*', 'ü', '\u3002', ' ', '/', '\\'];
      let valid = 0;
      for (let i = 0; i < 100_000; i++) {
        const s = Array.from({ length: 1 + pick(20) }, () => (pick(10) === 0 ? 'x'.repeat(60 + pick(8)) : (chars[pick(chars.length)] as string))).join('');
        if (s.trim() === s && parseName(s, true).ok) {
          valid++;
          assert.ok(dnsName.test(s), `crdns accepts ${JSON.stringify(s)}; the CRD must too`);
        }
      }
      assert.ok(valid > 1000, `enough valid names tried (${valid})`);
    });
  });

  describe('against a real API server', () => {
    let plane: ControlPlane;
    let n = 0;

    before(async function () {
      this.timeout(600_000);
      plane = await ControlPlane.start();
      await plane.createNamespace(NS);
    });
    after(async () => plane?.stop());

    const apply = (manifest: string) => plane.kubectlResult(['apply', '--dry-run=server', '-f', '-'], { input: manifest });
    const one = (endpoint: Record<string, unknown>) => apply(endpointObject(`e${n++}`, [endpoint]));

    it('accepts every example in examples/manifests', async () => {
      const dir = path.join(repoRoot(), 'examples', 'manifests');
      const files = readdirSync(dir).filter((f) => /\.(ya?ml|json)$/.test(f));
      const namespaces = new Set<string>();
      for (const f of files) {
        for (const doc of parseAllDocuments(readFileSync(path.join(dir, f), 'utf8'))) {
          const ns = (doc.toJS() as { metadata?: { namespace?: string } } | null)?.metadata?.namespace;
          if (ns) namespaces.add(ns);
        }
      }
      for (const ns of namespaces) await plane.createNamespace(ns);
      assert.ok(files.length >= 6);
      for (const f of files) {
        const r = await plane.kubectlResult(['apply', '-f', path.join(dir, f)]);
        assert.equal(r.code, 0, `${f}: ${r.stderr}`);
      }
    });

    it('accepts what crdns documents as valid', async () => {
      const ok: Array<Record<string, unknown>> = [
        { dnsName: 'bücher.example.org', recordType: 'A', targets: ['192.0.2.1'] },
        { dnsName: '*.apps.example.org.', recordType: 'CNAME', targets: ['web.example.org'] },
        { dnsName: '_sip._udp.example.org', recordType: 'SRV', targets: ['10 60 5060 sip.example.org.'] },
        { dnsName: 'v6.example.org', recordType: 'AAAA', targets: ['2001:DB8::1', '::ffff:192.0.2.1', '::', '1:2:3:4:5:6:7:8', '64:ff9b::192.0.2.33'] },
        { dnsName: 'ttl.example.org', recordType: 'A', targets: ['0.0.0.0', '255.255.255.255'], recordTTL: 2147483647 },
        { dnsName: 'zero.example.org', recordType: 'A', targets: ['192.0.2.1'], recordTTL: 0 },
        { dnsName: 'long.example.org', recordType: 'TXT', targets: ['x'.repeat(60_000)] },
        { dnsName: 'many.example.org', recordType: 'A', targets: Array.from({ length: 1000 }, (_, i) => `10.0.${i >> 8}.${i & 255}`) },
        { dnsName: `${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(61)}`, recordType: 'TXT', targets: ['253 characters'] },
      ];
      for (const e of ok) {
        const r = await one(e);
        assert.equal(r.code, 0, `${JSON.stringify(e).slice(0, 200)}: ${r.stderr}`);
      }
    });

    const refused: Array<[string, Record<string, unknown>, RegExp]> = [
      ['a type crdns does not serve', { dnsName: 'a.example.org', recordType: 'SPF', targets: ['v=spf1 -all'] }, /recordType: Unsupported value: "SPF": supported values: "A", "AAAA", "CNAME"/],
      ['a lowercase type', { dnsName: 'a.example.org', recordType: 'a', targets: ['192.0.2.1'] }, /recordType: Unsupported value: "a"/],
      ['SOA', { dnsName: 'a.example.org', recordType: 'SOA', targets: ['x'] }, /recordType: Unsupported value: "SOA"/],
      ['a name with an empty label', { dnsName: 'a..example.org', recordType: 'A', targets: ['192.0.2.1'] }, /dnsName: Invalid value: "a\.\.example\.org": dnsName must be a DNS name/],
      ['a name starting with a dot', { dnsName: '.example.org', recordType: 'A', targets: ['192.0.2.1'] }, /dnsName must be a DNS name/],
      ['a wildcard not leftmost', { dnsName: 'a.*.example.org', recordType: 'A', targets: ['192.0.2.1'] }, /dnsName must be a DNS name/],
      ['a partial wildcard label', { dnsName: 'a*.example.org', recordType: 'A', targets: ['192.0.2.1'] }, /dnsName must be a DNS name/],
      ['a space in a name', { dnsName: 'a b.example.org', recordType: 'A', targets: ['192.0.2.1'] }, /dnsName must be a DNS name/],
      ['a label of 64 characters', { dnsName: `${'a'.repeat(64)}.example.org`, recordType: 'A', targets: ['192.0.2.1'] }, /dnsName must be a DNS name/],
      ['a name of 255 characters', { dnsName: `${'a.'.repeat(127)}a`, recordType: 'A', targets: ['192.0.2.1'] }, /dnsName: Too long: may not be (longer than|more than) 254/],
      ['an empty name', { dnsName: '', recordType: 'A', targets: ['192.0.2.1'] }, /dnsName: Invalid value: "": spec\.endpoints\[0\]\.dnsName in body should be at least 1 chars long/],
      ['an A target that is no address', { dnsName: 'a.example.org', recordType: 'A', targets: ['192.0.2.1', '300.1.2.3'] }, /targets\[1\]: Invalid value: "300\.1\.2\.3": .*should match/],
      ['an A target with a leading zero', { dnsName: 'a.example.org', recordType: 'A', targets: ['010.0.0.1'] }, /targets\[0\]: Invalid value: "010\.0\.0\.1"/],
      ['an A target that is IPv6', { dnsName: 'a.example.org', recordType: 'A', targets: ['2001:db8::1'] }, /targets\[0\]: Invalid value: "2001:db8::1"/],
      ['an A target that is a name', { dnsName: 'a.example.org', recordType: 'A', targets: ['not-an-ip'] }, /targets\[0\]: Invalid value: "not-an-ip"/],
      ['an AAAA target that is IPv4', { dnsName: 'a.example.org', recordType: 'AAAA', targets: ['192.0.2.1'] }, /targets\[0\]: Invalid value: "192\.0\.2\.1"/],
      ['an AAAA target with a zone index', { dnsName: 'a.example.org', recordType: 'AAAA', targets: ['fe80::1%eth0'] }, /targets\[0\]: Invalid value: "fe80::1%eth0"/],
      ['a TTL above 2^31-1', { dnsName: 'a.example.org', recordType: 'A', targets: ['192.0.2.1'], recordTTL: 2147483648 }, /recordTTL: Invalid value: 2147483648: .*less than or equal to 2147483647/],
      ['a negative TTL', { dnsName: 'a.example.org', recordType: 'A', targets: ['192.0.2.1'], recordTTL: -1 }, /recordTTL: Invalid value: -1: .*greater than or equal to 0/],
      ['no targets', { dnsName: 'a.example.org', recordType: 'A', targets: [] }, /targets: Invalid value: 0: .*at least 1 items/],
      ['a missing targets field', { dnsName: 'a.example.org', recordType: 'A' }, /targets: Required value/],
      ['a missing recordType', { dnsName: 'a.example.org', targets: ['x'] }, /recordType: Required value/],
      ['over 1000 targets', { dnsName: 'a.example.org', recordType: 'TXT', targets: Array.from({ length: 1001 }, (_, i) => `t${i}`) }, /targets: Too many: 1001: must have at most 1000 items/],
    ];
    for (const [title, endpoint, re] of refused) {
      it(`refuses ${title}`, async () => {
        const r = await one(endpoint);
        assert.notEqual(r.code, 0, `accepted: ${JSON.stringify(endpoint).slice(0, 200)}`);
        assert.match(r.stderr, re);
      });
    }

    it('refuses an object with over 1000 endpoints', async () => {
      const eps = Array.from({ length: 1001 }, (_, i) => ({ dnsName: `h${i}.example.org`, recordType: 'A', targets: ['192.0.2.1'] }));
      const r = await apply(endpointObject('too-many', eps));
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, /endpoints: Too many: 1001: must have at most 1000 items/);
    });
  });
});
