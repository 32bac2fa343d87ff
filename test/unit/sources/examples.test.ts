/**
 * The shipped examples must stay valid as the rules evolve: every file
 * parses, every endpoint passes validation for the zones the README serves,
 * and the records the README talks about are really there.
 */
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { parseName } from '../../../src/dns/name.js';
import type { RRsetInput } from '../../../src/dns/zone-input.js';
import { validateObject } from '../../../src/endpoint/validate-object.js';
import { formatManifestProblem } from '../../../src/sources/manifests/documents.js';
import { loadManifestFolder } from '../../../src/sources/manifests/read-files.js';

// dist/test/unit/sources/ -> repository root
const EXAMPLES = fileURLToPath(new URL('../../../../examples/manifests', import.meta.url));
const ZONES = ['5gc.mnc001.mcc001.3gppnetwork.org', 'ims.mnc001.mcc001.3gppnetwork.org', '0.10.in-addr.arpa', '1.0.0.0.0.0.0.0.0.0.d.f.ip6.arpa'];

describe('examples/manifests', () => {
  let rrsets: RRsetInput[];

  before(async () => {
    const r = await loadManifestFolder(EXAMPLES);
    assert.deepEqual(r.problems.map(formatManifestProblem), []);
    assert.ok(r.files.length >= 5, `expected several files, got ${r.files.join(', ')}`);
    assert.ok(r.objects.length >= 10, `expected several objects, got ${r.objects.length}`);
    const zones = ZONES.map((z) => {
      const n = parseName(z);
      assert.ok(n.ok);
      return n.name;
    });
    rrsets = [];
    for (const o of r.objects) {
      const v = validateObject(o, { zones, defaultTtl: 300 });
      assert.deepEqual(v.problems, [], `${o.origin.file}: ${JSON.stringify(v.problems)}`);
      rrsets.push(...v.rrsets);
    }
  });

  const find = (name: string, type: string): RRsetInput | undefined => rrsets.find((r) => r.name === name && r.type === type);
  const get = (name: string, type: string): RRsetInput => {
    const r = find(name, type);
    assert.ok(r, `${name} ${type} missing`);
    return r;
  };

  it('defines each name and type once, and no CNAME next to other data', () => {
    const seen = new Map<string, string[]>();
    for (const r of rrsets) {
      const types = seen.get(r.name) ?? [];
      assert.ok(!types.includes(r.type), `${r.name} ${r.type} defined twice`);
      types.push(r.type);
      seen.set(r.name, types);
    }
    for (const [name, types] of seen) if (types.includes('CNAME')) assert.deepEqual(types, ['CNAME'], name);
  });

  it('has the P-CSCF NAPTR -> SRV -> A chain complete', () => {
    const naptr = get('pcscf.ims.mnc001.mcc001.3gppnetwork.org', 'NAPTR').data as Array<{ services: string; replacement: string; flags: string }>;
    assert.deepEqual(naptr.map((n) => n.services).sort(), ['SIP+D2T', 'SIP+D2U']);
    for (const n of naptr) {
      assert.equal(n.flags, 'S');
      const srv = get(n.replacement, 'SRV').data as Array<{ target: string; port: number }>;
      assert.ok(srv.length >= 2);
      for (const s of srv) {
        assert.equal(s.port, 5060);
        get(s.target, 'A');
      }
    }
  });

  it('has S-NAPTR UPF selection pointing at names with addresses', () => {
    const naptr = get('internet.dnn.5gc.mnc001.mcc001.3gppnetwork.org', 'NAPTR').data as Array<{ services: string; flags: string; regexp: string; replacement: string }>;
    for (const n of naptr) {
      assert.deepEqual([n.flags, n.services, n.regexp], ['a', 'x-3gpp-upf:x-sxb', '']);
      get(n.replacement, 'A');
    }
  });

  it('has a TXT longer than one character-string, MX, CAA, a wildcard and PTRs in both reverse zones', () => {
    const txt = get('ims.mnc001.mcc001.3gppnetwork.org', 'TXT').data as Buffer[][];
    assert.ok(txt.some((strings) => strings.length > 1 && Buffer.concat(strings).length > 255));
    for (const mx of get('ims.mnc001.mcc001.3gppnetwork.org', 'MX').data as Array<{ exchange: string }>) get(mx.exchange, 'A');
    assert.ok((get('5gc.mnc001.mcc001.3gppnetwork.org', 'CAA').data as Array<{ tag: string; value: string }>).some((c) => c.tag === 'issue' && c.value === 'ca.example.net'));
    get('*.lab.5gc.mnc001.mcc001.3gppnetwork.org', 'A');
    assert.equal(get('11.2.0.10.in-addr.arpa', 'PTR').data[0], 'amf1.5gc.mnc001.mcc001.3gppnetwork.org');
    const v6 = rrsets.filter((r) => r.type === 'PTR' && r.name.endsWith('.ip6.arpa'));
    assert.ok(v6.length > 0);
    // Every PTR leads back to a name whose addresses include the reversed one.
    for (const p of rrsets.filter((r) => r.type === 'PTR')) {
      const host = p.data[0] as string;
      const addrs = [...((find(host, 'A')?.data ?? []) as string[]), ...((find(host, 'AAAA')?.data ?? []) as string[])];
      assert.ok(addrs.some((a) => reverseName(a) === p.name), `${p.name} -> ${host} but ${host} has ${addrs.join(', ')}`);
    }
  });
});

function reverseName(addr: string): string {
  if (!addr.includes(':')) return `${addr.split('.').reverse().join('.')}.in-addr.arpa`;
  const [head = '', tail = ''] = addr.split('::');
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = [...h, ...new Array<string>(8 - h.length - t.length).fill('0'), ...t];
  return `${groups.map((g) => g.padStart(4, '0')).join('').split('').reverse().join('.')}.ip6.arpa`;
}
