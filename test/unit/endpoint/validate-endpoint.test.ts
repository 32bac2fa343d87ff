import assert from 'node:assert/strict';
import type { EndpointObject } from '../../../src/endpoint/endpoint.js';
import { validateObject, validateRawEndpoint as validateEndpoint } from '../../../src/endpoint/validate-object.js';

const ctx = { zones: ['example.org', 'sub.example.org', 'example.net'], defaultTtl: 300 };
const ep = (over: Record<string, unknown>): Record<string, unknown> => ({ dnsName: 'www.example.org', recordType: 'A', targets: ['192.0.2.1'], ...over });

// One row per rule: the entry, the field at fault, the exact reason.
const rules: Array<[string, unknown, string, string]> = [
  ['entry not a map', 'www A 1.2.3.4', 'endpoint', 'must be a map of fields, got the string "www A 1.2.3.4"'],
  ['entry is a list', [], 'endpoint', 'must be a map of fields, got a list'],
  ['dnsName missing', { recordType: 'A', targets: ['192.0.2.1'] }, 'dnsName', 'is required'],
  ['dnsName not a string', ep({ dnsName: 42 }), 'dnsName', 'must be a string, got the number 42'],
  ['dnsName empty', ep({ dnsName: '' }), 'dnsName', 'must not be empty'],
  ['recordType missing', ep({ recordType: undefined }), 'recordType', 'is required'],
  ['recordType not a string', ep({ recordType: 1 }), 'recordType', 'must be a string, got the number 1'],
  ['recordType not served', ep({ recordType: 'HINFO' }), 'recordType',
    '"HINFO" is not a served record type (served: A, AAAA, CNAME, DNAME, MX, SRV, NAPTR, TXT, PTR, NS, CAA)'],
  ['recordType SOA', ep({ recordType: 'soa' }), 'recordType',
    'SOA is not accepted: crdns synthesizes the SOA record of each zone from its --soa-* flags'],
  ['targets missing', ep({ targets: undefined }), 'targets', 'is required'],
  ['targets not a list', ep({ targets: '192.0.2.1' }), 'targets', 'must be a list of strings, got the string "192.0.2.1"'],
  ['targets empty', ep({ targets: [] }), 'targets', 'must hold at least one target'],
  ['target not a string', ep({ targets: ['192.0.2.1', 7] }), 'targets[1]', 'must be a string, got the number 7'],
  ['recordTTL negative', ep({ recordTTL: -1 }), 'recordTTL',
    'must be an integer from 1 to 2147483647 seconds (or 0 for the default), got the number -1'],
  ['recordTTL too large', ep({ recordTTL: 2147483648 }), 'recordTTL',
    'must be an integer from 1 to 2147483647 seconds (or 0 for the default), got the number 2147483648'],
  ['recordTTL fractional', ep({ recordTTL: 1.5 }), 'recordTTL',
    'must be an integer from 1 to 2147483647 seconds (or 0 for the default), got the number 1.5'],
  ['recordTTL a string', ep({ recordTTL: '300' }), 'recordTTL',
    'must be an integer from 1 to 2147483647 seconds (or 0 for the default), got the string "300"'],
  ['setIdentifier not a string', ep({ setIdentifier: 1 }), 'setIdentifier', 'must be a string, got the number 1'],
  ['labels not a map', ep({ labels: ['a'] }), 'labels', 'must be a map of strings, got a list'],
  ['label value not a string', ep({ labels: { 'app.kubernetes.io/name': true } }), 'labels["app.kubernetes.io/name"]',
    'must be a string, got the boolean true'],
  ['dnsName bad label', ep({ dnsName: 'a_b c.example.org' }), 'dnsName',
    'label "a_b c" of "a_b c.example.org" may hold only letters, digits, "-" and "_"'],
  ['dnsName label too long', ep({ dnsName: `${'a'.repeat(64)}.example.org` }), 'dnsName',
    `label "${'a'.repeat(64)}" of "${'a'.repeat(64)}.example.org" is 64 octets, over the limit of 63`],
  ['dnsName too long', ep({ dnsName: `${'a'.repeat(63)}.`.repeat(4) + 'example.org' }), 'dnsName',
    `name "${`${'a'.repeat(63)}.`.repeat(4)}example.org" is 269 octets in wire form, over the limit of 255`],
  ['wildcard not leftmost', ep({ dnsName: 'a.*.example.org' }), 'dnsName',
    'name "a.*.example.org" has "*" in a label other than the leftmost'],
  ['outside every zone', ep({ dnsName: 'www.example.com' }), 'dnsName',
    '"www.example.com" is outside every served zone (example.org., sub.example.org., example.net.)'],
  ['CNAME at apex', ep({ dnsName: 'example.org.', recordType: 'CNAME', targets: ['x.example.net'] }), 'recordType',
    'CNAME is not allowed at the zone apex "example.org.", which must hold the zone\'s SOA and NS records'],
  ['DNAME at the apex of the most specific zone', ep({ dnsName: 'SUB.example.org', recordType: 'DNAME', targets: ['example.net'] }), 'recordType',
    'DNAME is not allowed at the zone apex "sub.example.org.", which must hold the zone\'s SOA and NS records'],
  ['NS at apex', ep({ dnsName: 'example.net', recordType: 'NS', targets: ['ns1.example.net'] }), 'recordType',
    'NS at the zone apex "example.net." is not accepted: crdns synthesizes the apex NS records from --ns'],
  ['NS at a wildcard', ep({ dnsName: '*.example.org', recordType: 'NS', targets: ['ns1.example.net'] }), 'recordType',
    'NS is not allowed at the wildcard name "*.example.org." (RFC 4592 section 4)'],
  ['bad target rejects the RRset', ep({ targets: ['192.0.2.1', '192.0.2.300'] }), 'targets[1]',
    '"192.0.2.300" is not an IPv4 address (expected a dotted quad such as 192.0.2.1, no leading zeros)'],
  ['CNAME with two targets', ep({ recordType: 'CNAME', targets: ['a.example.net', 'b.example.net'] }), 'targets',
    'CNAME takes exactly one target, got 2 distinct targets'],
  ['CNAME to itself', ep({ recordType: 'CNAME', targets: ['WWW.example.org.'] }), 'targets[0]', 'CNAME "www.example.org." points to itself'],
  ['DNAME below itself', ep({ dnsName: 'old.example.org', recordType: 'DNAME', targets: ['new.old.example.org'] }), 'targets[0]',
    'DNAME target "new.old.example.org." is at or below its own name "old.example.org.", which loops'],
  ['null MX not alone', ep({ recordType: 'MX', targets: ['0 .', '10 mail.example.org'] }), 'targets',
    'a null MX (exchange ".") must be the only MX target (RFC 7505)'],
];

describe('endpoint/validate-endpoint', () => {
  describe('rules', () => {
    for (const [rule, entry, field, reason] of rules) {
      it(rule, () => {
        assert.deepEqual(validateEndpoint(entry, 'ns/obj', 3, ctx), { object: 'ns/obj', index: 3, field, reason });
      });
    }
  });

  it('normalises name and type, defaults the TTL, keeps first appearance of duplicate targets', () => {
    const r = validateEndpoint(
      ep({ dnsName: 'WWW.Example.ORG.', recordType: 'aaaa', targets: ['2001:db8::2', '2001:DB8:0::1', '2001:db8::1', '2001:db8:0:0::2'] }),
      'ns/obj', 0, ctx);
    assert.deepEqual(r, {
      name: 'www.example.org', type: 'AAAA', ttl: 300, data: ['2001:db8::2', '2001:db8::1'], origin: { object: 'ns/obj', since: 0 }, index: 0,
    });
  });

  it('takes recordTTL, treats 0 and null as the default, ignores providerSpecific, labels and setIdentifier', () => {
    const ttl = (over: Record<string, unknown>): unknown => (validateEndpoint(ep(over), 'k', 0, ctx) as { ttl?: number }).ttl;
    assert.equal(ttl({ recordTTL: 60 }), 60);
    assert.equal(ttl({ recordTTL: 2147483647 }), 2147483647);
    assert.equal(ttl({ recordTTL: 0 }), 300);
    assert.equal(ttl({ recordTTL: null }), 300);
    assert.equal(ttl({ providerSpecific: [{ name: 'x', value: 'y' }], labels: { a: 'b' }, setIdentifier: 'eu' }), 300);
  });

  it('accepts a leftmost wildcard and an IDN owner, placed in the most specific zone', () => {
    const r = validateEndpoint(ep({ dnsName: '*.Bücher.sub.example.org', recordType: 'TXT', targets: ['x'] }), 'k', 0, ctx);
    assert.equal((r as { name: string }).name, '*.xn--bcher-kva.sub.example.org');
  });

  it('allows CNAME and NS below the apex (a delegation)', () => {
    for (const type of ['CNAME', 'NS']) {
      const r = validateEndpoint(ep({ dnsName: 'sub.example.net', recordType: type, targets: ['ns1.example.org'] }), 'k', 0, ctx);
      assert.equal((r as { type?: string }).type, type);
    }
  });

  it('validateObject keeps good endpoints and reports bad ones by index', () => {
    const obj: EndpointObject = {
      key: 'default/web',
      origin: { source: 'manifests', namespace: 'default', name: 'web' },
      endpoints: [ep({}), null, ep({ dnsName: 'mail.example.org', recordType: 'MX', targets: ['10 mx.example.org'] })],
    };
    const { rrsets, problems } = validateObject(obj, ctx);
    assert.deepEqual(rrsets.map((r) => [r.name, r.type, r.index]), [['www.example.org', 'A', 0], ['mail.example.org', 'MX', 2]]);
    // One origin for the object, not one per record.
    assert.equal(rrsets[0]?.origin, rrsets[1]?.origin);
    assert.deepEqual(problems, [{ object: 'default/web', index: 1, field: 'endpoint', reason: 'must be a map of fields, got null' }]);
  });

  describe('validateObject with an earlier validation of the object', () => {
    const obj = (endpoints: unknown[], origin: Partial<EndpointObject['origin']> = {}): EndpointObject => ({
      key: 'default/web',
      origin: { source: 'manifests', namespace: 'default', name: 'web', ...origin },
      endpoints,
    });
    const entries = [ep({}), ep({ dnsName: 'mx.example.org', recordType: 'MX', targets: ['10 mail.example.org'] }), ep({ targets: ['192.0.2.300'] }), ep({ dnsName: 'v6.example.org', recordType: 'AAAA', targets: ['2001:db8::1'] })];
    const first = validateObject(obj(entries), ctx, 5);
    const prior = { endpoints: entries, results: first.results, rank: first.rank };

    // Each row: how the next version differs; which indexes may keep their earlier result.
    const table: Array<[string, EndpointObject, number, number[]]> = [
      ['one entry edited', obj([entries[0], ep({ dnsName: 'mx.example.org', recordType: 'MX', targets: ['20 mail.example.org'] }), entries[2], entries[3]]), 5, [0, 2, 3]],
      ['an equal copy of every entry', obj(entries.map((e) => structuredClone(e))), 5, [0, 1, 2, 3]],
      ['the entries reordered: another index is another result', obj([entries[1], entries[0], entries[2], entries[3]]), 5, [2, 3]],
      ['an older rank (creation time)', obj(entries), 4, []],
      ['another cluster: another owner', obj(entries, { cluster: 'b' }), 5, []],
      ['one entry fewer', obj(entries.slice(0, 3)), 5, [0, 1, 2]],
      ['one entry more', obj([...entries, ep({ dnsName: 'new.example.org' })]), 5, [0, 1, 2, 3]],
    ];
    for (const [what, next, since, reused] of table) {
      it(`${what}: the same as validating afresh, reusing exactly indexes [${reused.join(', ')}]`, () => {
        const withPrior = validateObject(next, ctx, since, prior);
        assert.deepEqual(withPrior, validateObject(next, ctx, since));
        const same = withPrior.results.flatMap((r, i) => (r === first.results[i] ? [i] : []));
        assert.deepEqual(same, reused);
      });
    }
  });
});

