/**
 * The authoritative answer rules, table-driven: zone-file text in, expected
 * sections out (in the style of CoreDNS's plugin/file tests). Each case names
 * the rule it pins down.
 */
import assert from 'node:assert/strict';
import { ask, rrs, snapshotFromZoneText } from '../../support/zone-text.js';

const ZONE = `
example.test.            300 IN MX    10 mail.example.test.
example.test.            300 IN MX    20 mx.elsewhere.test.
www.example.test.        300 IN A     192.0.2.1
www.example.test.        300 IN A     192.0.2.2
www.example.test.        300 IN AAAA  2001:db8::1
mail.example.test.       300 IN A     192.0.2.25
mail.example.test.       300 IN AAAA  2001:db8::25
alias.example.test.      120 IN CNAME www.example.test.
alias2.example.test.     120 IN CNAME alias.example.test.
away.example.test.       120 IN CNAME host.elsewhere.test.
dangling.example.test.   120 IN CNAME nothing.example.test.
loop1.example.test.      120 IN CNAME loop2.example.test.
loop2.example.test.      120 IN CNAME loop1.example.test.
tootherzone.example.test. 120 IN CNAME host.other.test.
a.b.c.example.test.      300 IN TXT   "deep"
*.wild.example.test.     300 IN A     192.0.2.100
*.wild.example.test.     300 IN MX    10 mail.example.test.
exists.wild.example.test. 300 IN TXT  "explicit"
x.ent.wild.example.test. 300 IN A     192.0.2.101
*.cwild.example.test.    300 IN CNAME www.example.test.
_sip._udp.example.test.  300 IN SRV   10 60 5060 sip.example.test.
_sip._udp.example.test.  300 IN SRV   20 40 5060 sip.elsewhere.test.
sip.example.test.        300 IN A     192.0.2.50
pcscf.example.test.      300 IN NAPTR 10 50 "S" "SIP+D2U" "" _sip._udp.example.test.
child.example.test.      300 IN NS    ns1.child.example.test.
child.example.test.      300 IN NS    ns.elsewhere.test.
ns1.child.example.test.  300 IN A     192.0.2.53
dn.example.test.         300 IN DNAME other.test.
host.other.test.         300 IN A     198.51.100.1
`;

const snap = snapshotFromZoneText(ZONE, ['example.test', 'other.test']);
const SOA_NEG = 'example.test. 60 IN SOA ns1.example.test. hostmaster.example.test. 1 3600 600 604800 60';
const OTHER_SOA_NEG = 'other.test. 60 IN SOA ns1.other.test. hostmaster.other.test. 1 3600 600 604800 60';
const AA = 0x0400;

interface Case {
  rule: string;
  q: string;
  rcode?: string;
  aa?: boolean;
  answer?: string[];
  ns?: string[];
  extra?: string[];
}

const cases: Case[] = [
  { rule: 'positive answer, AA, no authority (minimal, as NSD/Knot)', q: 'www.example.test A', answer: ['www.example.test. 300 IN A 192.0.2.1', 'www.example.test. 300 IN A 192.0.2.2'] },
  { rule: 'names match case-insensitively', q: 'WwW.ExAmPlE.TeSt AAAA', answer: ['www.example.test. 300 IN AAAA 2001:db8::1'] },
  { rule: 'NODATA: NOERROR, SOA with TTL min(SOA TTL, minimum)', q: 'www.example.test TXT', ns: [SOA_NEG] },
  { rule: 'NXDOMAIN with SOA (RFC 2308)', q: 'nope.example.test A', rcode: 'NXDOMAIN', ns: [SOA_NEG] },
  { rule: 'empty non-terminal is NODATA, not NXDOMAIN', q: 'b.c.example.test A', ns: [SOA_NEG] },
  { rule: 'empty non-terminal one level up', q: 'c.example.test TXT', ns: [SOA_NEG] },
  { rule: 'below an existing leaf is NXDOMAIN', q: 'x.a.b.c.example.test TXT', rcode: 'NXDOMAIN', ns: [SOA_NEG] },
  { rule: 'apex SOA', q: 'example.test SOA', answer: ['example.test. 3600 IN SOA ns1.example.test. hostmaster.example.test. 1 3600 600 604800 60'] },
  { rule: 'apex NS is synthesized', q: 'example.test NS', answer: ['example.test. 3600 IN NS ns1.example.test.'] },
  {
    rule: 'MX: additional A/AAAA for in-zone exchanges only',
    q: 'example.test MX',
    answer: ['example.test. 300 IN MX 10 mail.example.test.', 'example.test. 300 IN MX 20 mx.elsewhere.test.'],
    extra: ['mail.example.test. 300 IN A 192.0.2.25', 'mail.example.test. 300 IN AAAA 2001:db8::25'],
  },
  {
    rule: 'SRV: additional for in-zone targets only',
    q: '_sip._udp.example.test SRV',
    answer: ['_sip._udp.example.test. 300 IN SRV 10 60 5060 sip.example.test.', '_sip._udp.example.test. 300 IN SRV 20 40 5060 sip.elsewhere.test.'],
    extra: ['sip.example.test. 300 IN A 192.0.2.50'],
  },
  { rule: 'NAPTR: no additional processing (as NSD and CoreDNS file)', q: 'pcscf.example.test NAPTR', answer: ['pcscf.example.test. 300 IN NAPTR 10 50 "S" "SIP+D2U" "" _sip._udp.example.test.'] },
  {
    rule: 'in-zone CNAME chain is followed',
    q: 'alias2.example.test A',
    answer: ['alias2.example.test. 120 IN CNAME alias.example.test.', 'alias.example.test. 120 IN CNAME www.example.test.', 'www.example.test. 300 IN A 192.0.2.1', 'www.example.test. 300 IN A 192.0.2.2'],
  },
  { rule: 'CNAME chain ending in NODATA carries the SOA', q: 'alias.example.test TXT', answer: ['alias.example.test. 120 IN CNAME www.example.test.'], ns: [SOA_NEG] },
  { rule: 'qtype CNAME returns the CNAME itself', q: 'alias.example.test CNAME', answer: ['alias.example.test. 120 IN CNAME www.example.test.'] },
  { rule: 'out-of-zone CNAME target is left to the resolver', q: 'away.example.test A', answer: ['away.example.test. 120 IN CNAME host.elsewhere.test.'] },
  { rule: 'dangling in-zone CNAME: NXDOMAIN (RFC 6604)', q: 'dangling.example.test A', rcode: 'NXDOMAIN', answer: ['dangling.example.test. 120 IN CNAME nothing.example.test.'], ns: [SOA_NEG] },
  { rule: 'CNAME loop is cut, not followed forever', q: 'loop1.example.test A', answer: ['loop1.example.test. 120 IN CNAME loop2.example.test.', 'loop2.example.test. 120 IN CNAME loop1.example.test.'] },
  { rule: 'CNAME into another served zone is followed', q: 'tootherzone.example.test A', answer: ['tootherzone.example.test. 120 IN CNAME host.other.test.', 'host.other.test. 300 IN A 198.51.100.1'] },
  { rule: 'wildcard synthesizes under the query name', q: 'anything.wild.example.test A', answer: ['anything.wild.example.test. 300 IN A 192.0.2.100'] },
  { rule: 'wildcard matches several labels deep', q: 'a.b.wild.example.test A', answer: ['a.b.wild.example.test. 300 IN A 192.0.2.100'] },
  {
    rule: 'wildcard MX gets additional processing',
    q: 'm.wild.example.test MX',
    answer: ['m.wild.example.test. 300 IN MX 10 mail.example.test.'],
    extra: ['mail.example.test. 300 IN A 192.0.2.25', 'mail.example.test. 300 IN AAAA 2001:db8::25'],
  },
  { rule: 'wildcard with no such type is NODATA', q: 'anything.wild.example.test TXT', ns: [SOA_NEG] },
  { rule: 'an existing name is not covered by the wildcard', q: 'exists.wild.example.test A', ns: [SOA_NEG] },
  { rule: 'an empty non-terminal blocks the wildcard (RFC 4592 §2.2.2)', q: 'ent.wild.example.test A', ns: [SOA_NEG] },
  { rule: 'below an ENT the closest encloser has no wildcard: NXDOMAIN', q: 'y.ent.wild.example.test A', rcode: 'NXDOMAIN', ns: [SOA_NEG] },
  { rule: 'the wildcard owner itself answers literally', q: '*.wild.example.test A', answer: ['*.wild.example.test. 300 IN A 192.0.2.100'] },
  {
    rule: 'wildcard CNAME is synthesized and chased',
    q: 'foo.cwild.example.test A',
    answer: ['foo.cwild.example.test. 300 IN CNAME www.example.test.', 'www.example.test. 300 IN A 192.0.2.1', 'www.example.test. 300 IN A 192.0.2.2'],
  },
  {
    rule: 'NS below the apex: referral, AA clear, glue',
    q: 'host.child.example.test A',
    aa: false,
    ns: ['child.example.test. 300 IN NS ns1.child.example.test.', 'child.example.test. 300 IN NS ns.elsewhere.test.'],
    extra: ['ns1.child.example.test. 300 IN A 192.0.2.53'],
  },
  {
    rule: 'referral at the cut itself',
    q: 'child.example.test NS',
    aa: false,
    ns: ['child.example.test. 300 IN NS ns1.child.example.test.', 'child.example.test. 300 IN NS ns.elsewhere.test.'],
    extra: ['ns1.child.example.test. 300 IN A 192.0.2.53'],
  },
  { rule: 'DS at the cut is answered by the parent side', q: 'child.example.test DS', ns: [SOA_NEG] },
  {
    rule: 'glue is occluded: it is only glue',
    q: 'ns1.child.example.test A',
    aa: false,
    ns: ['child.example.test. 300 IN NS ns1.child.example.test.', 'child.example.test. 300 IN NS ns.elsewhere.test.'],
    extra: ['ns1.child.example.test. 300 IN A 192.0.2.53'],
  },
  {
    rule: 'DNAME substitutes and synthesizes a CNAME',
    q: 'host.dn.example.test A',
    answer: ['dn.example.test. 300 IN DNAME other.test.', 'host.dn.example.test. 300 IN CNAME host.other.test.', 'host.other.test. 300 IN A 198.51.100.1'],
  },
  { rule: 'DNAME target missing: NXDOMAIN from the target zone', q: 'gone.dn.example.test A', rcode: 'NXDOMAIN', answer: ['dn.example.test. 300 IN DNAME other.test.', 'gone.dn.example.test. 300 IN CNAME gone.other.test.'], ns: [OTHER_SOA_NEG] },
  { rule: 'outside every served zone: REFUSED, no AA', q: 'www.example.org A', rcode: 'REFUSED', aa: false },
  { rule: 'AXFR is refused: the contract is unary', q: 'example.test AXFR', rcode: 'REFUSED', aa: false },
  { rule: 'IXFR is refused', q: 'example.test IXFR', rcode: 'REFUSED', aa: false },
  { rule: 'ANY is answered minimally with one RRset (RFC 8482)', q: 'www.example.test ANY', answer: ['www.example.test. 300 IN A 192.0.2.1', 'www.example.test. 300 IN A 192.0.2.2'] },
  { rule: 'ANY at an empty non-terminal is NODATA', q: 'c.example.test ANY', ns: [SOA_NEG] },
];

describe('resolver: authoritative answers from zone-file text', () => {
  for (const c of cases) {
    it(`${c.rule} [${c.q}]`, () => {
      const [name, type] = c.q.split(' ') as [string, string];
      const got = ask(snap, name, type);
      assert.equal(got.rcode, c.rcode ?? 'NOERROR', 'rcode');
      assert.equal((got.flags & AA) !== 0, c.aa ?? true, 'AA flag');
      assert.deepEqual(got.answer, rrs(...(c.answer ?? [])), 'answer section');
      assert.deepEqual(got.authority, rrs(...(c.ns ?? [])), 'authority section');
      assert.deepEqual(got.additional, rrs(...(c.extra ?? [])), 'additional section');
    });
  }
});
