/**
 * The differential's own machinery, checked without servers: the zone-file
 * reader, the endpoint converter and the reply comparison must catch what
 * they are there to catch, or a green differential would mean nothing.
 */
import assert from 'node:assert/strict';
import dnsPacket from 'dns-packet';
import type { Answer } from 'dns-packet';
import { judge, viewOf } from './compare.js';
import type { QueryCase } from './corpus.js';
import { encodeName, encodeQuery, mixCase } from './wire.js';
import { endpointTarget, parseZoneFile, toDnsEndpoint } from './zone-file.js';

const reply = (answers: object[], authorities: object[] = [], flags = dnsPacket.AUTHORITATIVE_ANSWER, rcode = 'NOERROR') =>
  dnsPacket.encode({
    type: 'response',
    id: 7,
    flags,
    rcode,
    questions: [{ name: 'www.example.test', type: 'A', class: 'IN' }],
    answers: answers as Answer[],
    authorities: authorities as Answer[],
  } as dnsPacket.Packet);

const c: QueryCase = { id: 'www.example.test. A', qname: 'www.example.test', qtype: 'A', edns: false, dnssecOk: false, why: 'test' };
const opts = { referenceName: 'ref', subjectName: 'sub', allowList: [] };
const side = (b: Buffer, apexes?: string[]) => ({ view: viewOf(b, 7, apexes) });

describe('differential self-check', () => {
  it('a missing record, another TTL, another rcode or AA bit is a mismatch', () => {
    const base = reply([{ name: 'www.example.test', type: 'A', ttl: 300, data: '192.0.2.1' }, { name: 'www.example.test', type: 'A', ttl: 300, data: '192.0.2.2' }]);
    const variants = [
      reply([{ name: 'www.example.test', type: 'A', ttl: 300, data: '192.0.2.1' }]),
      reply([{ name: 'www.example.test', type: 'A', ttl: 301, data: '192.0.2.1' }, { name: 'www.example.test', type: 'A', ttl: 300, data: '192.0.2.2' }]),
      reply([{ name: 'www.example.test', type: 'A', ttl: 300, data: '192.0.2.1' }, { name: 'www.example.test', type: 'A', ttl: 300, data: '192.0.2.2' }], [], 0),
      reply([], [], dnsPacket.AUTHORITATIVE_ANSWER, 'NXDOMAIN'),
    ];
    for (const v of variants) assert.equal(judge(c, side(base), side(v), opts).verdict, 'mismatch');
  });

  it('record order, name case and the SOA serial do not count', () => {
    const soa = (serial: number, mname: string) => ({ name: 'example.test', type: 'SOA', ttl: 60, data: { mname, rname: 'h.example.test', serial, refresh: 1, retry: 2, expire: 3, minimum: 4 } });
    const a = reply([{ name: 'www.example.test', type: 'A', ttl: 300, data: '192.0.2.1' }, { name: 'www.example.test', type: 'A', ttl: 300, data: '192.0.2.2' }], [soa(1, 'ns1.example.test')]);
    const b = reply([{ name: 'WWW.example.TEST', type: 'A', ttl: 300, data: '192.0.2.2' }, { name: 'www.example.test', type: 'A', ttl: 300, data: '192.0.2.1' }], [soa(99, 'NS1.example.test')]);
    assert.equal(judge(c, side(a), side(b), opts).verdict, 'identical');
  });

  it('drops the reference\'s apex NS from the authority of a positive answer only', () => {
    const ns = [{ name: 'example.test', type: 'NS', ttl: 1800, data: 'ns1.example.test' }];
    const positive = viewOf(reply([{ name: 'www.example.test', type: 'A', ttl: 300, data: '192.0.2.1' }], ns), 7, ['example.test']);
    assert.deepEqual(positive.authority, []);
    const referral = viewOf(reply([], [{ name: 'deleg.example.test', type: 'NS', ttl: 1800, data: 'ns1.example.test' }], 0), 7, ['example.test']);
    assert.equal(referral.authority.length, 1);
    const other = viewOf(reply([{ name: 'www.example.test', type: 'A', ttl: 300, data: '192.0.2.1' }], ns), 7, ['other.test']);
    assert.equal(other.authority.length, 1);
  });

  it('an allow-list entry turns only its own case into "allowed"', () => {
    const a = reply([{ name: 'www.example.test', type: 'A', ttl: 300, data: '192.0.2.1' }]);
    const b = reply([{ name: 'www.example.test', type: 'A', ttl: 300, data: '192.0.2.9' }]);
    const entry = { id: /^www\.example\.test\. A$/, reason: 'test' };
    assert.equal(judge(c, side(a), side(b), { ...opts, allowList: [entry] }).verdict, 'allowed');
    assert.equal(judge({ ...c, id: 'www.example.test. A +edns' }, side(a), side(b), { ...opts, allowList: [entry] }).verdict, 'mismatch');
    // An entry limited to one kind of difference does not excuse another.
    const narrow = { ...entry, diff: /^rcode:/ };
    assert.equal(judge(c, side(a), side(b), { ...opts, allowList: [narrow] }).verdict, 'mismatch');
  });

  it('reads zone files: $ORIGIN, @, omitted owners, parentheses, comments and escapes', () => {
    const recs = parseZoneFile(
      ['$ORIGIN example.test.', '$TTL 60', '@ IN SOA ns1 host ( 1 2 3', ' 4 5 ) ; c', 'Www 30 IN A 192.0.2.1', '  IN TXT "a\\"b;c" "\\065\\\\"', 'x CAA 0 issue "ca.test"'].join('\n'),
      'example.test',
    );
    assert.deepEqual(recs.map((r) => [r.owner, r.ttl, r.type]), [['example.test', 60, 'SOA'], ['www.example.test', 30, 'A'], ['www.example.test', 60, 'TXT'], ['x.example.test', 60, 'CAA']]);
    const txt = recs[2]?.data as { strings: Buffer[] };
    assert.deepEqual(txt.strings.map((s) => s.toString('latin1')), ['a"b;c', 'A\\']);
  });

  it('converts to DNSEndpoint targets, and refuses TXT strings crdns would cut elsewhere', () => {
    const recs = parseZoneFile(['$ORIGIN z.test.', 'a 60 IN TXT "say \\"hi\\" \\\\"', 'b 60 IN TXT "ab" "cd"', 'c 60 NAPTR 1 2 "S" "SIP+D2U" "!^(.*)$!\\\\1!" .'].join('\n'), 'z.test');
    assert.equal(endpointTarget(recs[0] as never), '"say "hi" \\"');
    assert.throws(() => endpointTarget(recs[1] as never), /cannot be written as one DNSEndpoint target/);
    assert.equal(endpointTarget(recs[2] as never), '1 2 "S" "SIP+D2U" "!^(.*)$!\\\\1!" .');
    assert.throws(() => toDnsEndpoint('z.test', recs.slice(0, 1), 'x'), /no SOA/);
  });

  it('builds queries with escaped labels and mixed case', () => {
    assert.deepEqual([...encodeName('a\\.b.c')], [3, 97, 46, 98, 1, 99, 0]);
    assert.deepEqual([...encodeName('x\\000.')], [2, 120, 0, 0]);
    const q = encodeQuery({ name: 'Www.example.test', type: 'TYPE65', edns: { dnssecOk: true } });
    const d = dnsPacket.decode(q);
    assert.equal(d.questions?.[0]?.name, 'Www.example.test');
    assert.equal(d.additionals?.length, 1);
    assert.notEqual(mixCase('www.example.test', 3), 'www.example.test');
    assert.equal(mixCase('www.example.test', 3).toLowerCase(), 'www.example.test');
  });
});
