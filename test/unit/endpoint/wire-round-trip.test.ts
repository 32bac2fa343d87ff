// Proves the rdata shapes the validator produces are what dns-packet encodes:
// each RRset goes through encode → decode and must come back unchanged.
import assert from 'node:assert/strict';
import dnsPacket from 'dns-packet';
import { canonicalIPv6 } from '../../../src/endpoint/parse-target.js';
import { isEndpointProblem, validateEndpoint } from '../../../src/endpoint/validate-endpoint.js';
import type { RRsetInput } from '../../../src/dns/zone-input.js';

const ctx = { zones: ['example.org', 'xn--bcher-kva.example'], defaultTtl: 300 };

function rrset(dnsName: string, recordType: string, targets: string[]): RRsetInput {
  const r = validateEndpoint({ dnsName, recordType, targets }, 'k', 0, ctx);
  if (isEndpointProblem(r)) assert.fail(`${r.field}: ${r.reason}`);
  return r;
}

/** Encodes the RRset as answers (on copies: dns-packet mutates its input), decodes, returns [name, data] pairs. */
function roundTrip(set: RRsetInput): Array<[string, unknown]> {
  const answers = set.data.map((d) => ({
    name: set.name, type: set.type, ttl: set.ttl, class: 'IN',
    data: Array.isArray(d) ? [...d] : typeof d === 'object' ? { ...d } : d,
  }));
  const wire = dnsPacket.encode({ type: 'response', id: 1, answers } as dnsPacket.Packet);
  const back = dnsPacket.decode(wire);
  return (back.answers ?? []).map((a) => {
    assert.equal(a.type, set.type);
    return [a.name, (a as { data: unknown }).data];
  });
}

describe('endpoint rdata survives dns-packet encode/decode', () => {
  it('A and AAAA (AAAA compared in canonical form)', () => {
    assert.deepEqual(roundTrip(rrset('a.example.org', 'A', ['192.0.2.1', '198.51.100.7'])),
      [['a.example.org', '192.0.2.1'], ['a.example.org', '198.51.100.7']]);
    const v6 = rrset('a.example.org', 'AAAA', ['2001:DB8::1', '::ffff:192.0.2.1', '2001:db8:0:0:1:0:0:1']);
    assert.deepEqual(roundTrip(v6).map(([, d]) => canonicalIPv6(d as string)), v6.data);
  });

  it('IDN owner and IDN CNAME target as A-labels', () => {
    assert.deepEqual(roundTrip(rrset('www.Bücher.example.', 'CNAME', ['straße.example.org.'])),
      [['www.xn--bcher-kva.example', 'xn--strae-oqa.example.org']]);
  });

  it('TXT over 255 bytes as several character-strings, and the empty TXT', () => {
    const long = `v=DKIM1; k=rsa; p=${'A'.repeat(400)}`;
    const out = roundTrip(rrset('k._domainkey.example.org', 'TXT', [long, '""']));
    const [first, second] = out.map(([, d]) => d as Buffer[]);
    assert.deepEqual(first?.map((b) => b.length), [255, long.length - 255]);
    assert.equal(Buffer.concat(first ?? []).toString(), long);
    assert.deepEqual(second, [Buffer.alloc(0)]);
  });

  it('MX, including a null MX', () => {
    assert.deepEqual(roundTrip(rrset('example.org', 'MX', ['10 mail.example.org.'])),
      [['example.org', { preference: 10, exchange: 'mail.example.org' }]]);
    assert.deepEqual(roundTrip(rrset('nomail.example.org', 'MX', ['0 .'])),
      [['nomail.example.org', { preference: 0, exchange: '.' }]]);
  });

  it('SRV, including target "."', () => {
    assert.deepEqual(roundTrip(rrset('_sip._udp.example.org', 'SRV', ['10 5 5060 sip.example.org.', '0 0 0 .'])), [
      ['_sip._udp.example.org', { priority: 10, weight: 5, port: 5060, target: 'sip.example.org' }],
      ['_sip._udp.example.org', { priority: 0, weight: 0, port: 0, target: '.' }],
    ]);
  });

  it('NAPTR with escaped quotes and backslashes, and with a replacement', () => {
    const out = roundTrip(rrset('4.3.2.1.e164.example.org', 'NAPTR', [
      String.raw`100 10 "u" "E2U+sip" "!^\+(.*)$!sip:\"\1\"@example.org\\x!" .`,
      '100 20 "S" "SIP+D2U" "" _sip._udp.example.org.',
    ]));
    assert.deepEqual(out.map(([, d]) => d), [
      { order: 100, preference: 10, flags: 'u', services: 'E2U+sip', regexp: String.raw`!^\+(.*)$!sip:"\1"@example.org\x!`, replacement: '.' },
      { order: 100, preference: 20, flags: 'S', services: 'SIP+D2U', regexp: '', replacement: '_sip._udp.example.org' },
    ]);
  });

  it('CAA, quoted and bare, critical flag', () => {
    const out = roundTrip(rrset('example.org', 'CAA', ['0 issue "letsencrypt.org"', '128 iodef mailto:sec@example.org']));
    assert.deepEqual(out.map(([, d]) => d), [
      { flags: 0, tag: 'issue', value: 'letsencrypt.org', issuerCritical: false },
      { flags: 128, tag: 'iodef', value: 'mailto:sec@example.org', issuerCritical: true },
    ]);
  });

  it('PTR, NS and DNAME', () => {
    assert.deepEqual(roundTrip(rrset('1.2.0.192.example.org', 'PTR', ['host.example.org'])), [['1.2.0.192.example.org', 'host.example.org']]);
    assert.deepEqual(roundTrip(rrset('child.example.org', 'NS', ['ns1.example.net.', 'ns2.example.net'])),
      [['child.example.org', 'ns1.example.net'], ['child.example.org', 'ns2.example.net']]);
    assert.deepEqual(roundTrip(rrset('old.example.org', 'DNAME', ['new.example.org'])), [['old.example.org', 'new.example.org']]);
  });
});
