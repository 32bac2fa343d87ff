/** The message around the answer: header bits, question echo, EDNS, and every error rcode. */
import assert from 'node:assert/strict';
import dnsPacket from 'dns-packet';
import { answerQuery } from '../../../src/dns/answer-query.js';
import { ask, sectionsOf, snapshotFromZoneText } from '../../support/zone-text.js';

const snap = snapshotFromZoneText(
  `www.example.test. 300 IN A 192.0.2.1
big.example.test. 300 IN TXT "${'x'.repeat(250)}"`,
  ['example.test'],
);

function query(name: string, type: string, flags = 0, extra: Partial<dnsPacket.Packet> = {}): Buffer {
  return dnsPacket.encode({ type: 'query', id: 0xbeef, flags, questions: [{ name, type: type as never, class: 'IN' }], ...extra });
}

function header(reply: Buffer) {
  const flags = reply.readUInt16BE(2);
  return { id: reply.readUInt16BE(0), qr: !!(flags & 0x8000), opcode: (flags >> 11) & 0xf, aa: !!(flags & 0x400), tc: !!(flags & 0x200), rd: !!(flags & 0x100), ra: !!(flags & 0x80), ad: !!(flags & 0x20), cd: !!(flags & 0x10), rcode: flags & 0xf, qd: reply.readUInt16BE(4), ar: reply.readUInt16BE(10) };
}

describe('answerQuery: the reply message', () => {
  it('copies the ID, sets QR, copies RD and CD, never sets RA, AD or TC', () => {
    const r = answerQuery(snap, query('www.example.test', 'A', dnsPacket.RECURSION_DESIRED | dnsPacket.CHECKING_DISABLED | dnsPacket.AUTHENTIC_DATA)).reply;
    assert.deepEqual(header(r), { id: 0xbeef, qr: true, opcode: 0, aa: true, tc: false, rd: true, ra: false, ad: false, cd: true, rcode: 0, qd: 1, ar: 0 });
  });

  it('echoes the question bytes exactly as asked, case included', () => {
    const q = query('wWw.EXAMPLE.test', 'A');
    const r = answerQuery(snap, q).reply;
    const qlen = 'wWw.EXAMPLE.test'.length + 2 + 4;
    assert.deepEqual(r.subarray(12, 12 + qlen), q.subarray(12, 12 + qlen));
  });

  it('adds an OPT record only when the query had one, and copies DO', () => {
    assert.equal(ask(snap, 'www.example.test', 'A').hasOpt, false);
    assert.equal(ask(snap, 'www.example.test', 'A', { edns: true }).hasOpt, true);
    const r = answerQuery(snap, query('www.example.test', 'A', 0, { additionals: [{ type: 'OPT', name: '.', udpPayloadSize: 4096, flags: dnsPacket.DNSSEC_OK } as never] })).reply;
    const opt = dnsPacket.decode(r).additionals?.find((a) => a.type === 'OPT') as { flags?: number; ednsVersion?: number };
    assert.equal(opt.ednsVersion, 0);
    assert.equal((opt.flags ?? 0) & dnsPacket.DNSSEC_OK, dnsPacket.DNSSEC_OK);
  });

  it('answers EDNS version 1 with BADVERS (RFC 6891 §6.1.3)', () => {
    const r = answerQuery(snap, query('www.example.test', 'A', 0, { additionals: [{ type: 'OPT', name: '.', udpPayloadSize: 1232, ednsVersion: 1 } as never] }));
    assert.equal(r.rcode, 16);
    const d = dnsPacket.decode(r.reply);
    assert.equal(d.answers?.length, 0);
    const opt = d.additionals?.find((a) => a.type === 'OPT') as { extendedRcode?: number };
    assert.equal(opt.extendedRcode, 1);
    assert.equal(header(r.reply).rcode, 0);
  });

  it('answers NOTIMP to opcodes other than QUERY, echoing the opcode', () => {
    for (const opcode of [1, 2, 4, 5]) {
      const q = query('www.example.test', 'A', opcode << 11);
      const h = header(answerQuery(snap, q).reply);
      assert.equal(h.rcode, 4, `opcode ${opcode}`);
      assert.equal(h.opcode, opcode);
      assert.equal(h.aa, false);
    }
  });

  it('answers NOTIMP to other opcodes even when their sections would not make a valid QUERY', () => {
    const update = Buffer.from([0x12, 0x34, 5 << 3, 0, 0, 1, 0, 0, 0, 2, 0, 0]); // UPDATE: 1 zone, 2 updates, no records behind them
    const r = answerQuery(snap, update);
    assert.equal(r.rcode, 4);
    assert.equal(header(r.reply).opcode, 5);
    const status = Buffer.from([0, 9, 2 << 3, 0, 0, 0, 0, 0, 0, 0, 0, 0]); // STATUS with no question
    assert.equal(answerQuery(snap, status).rcode, 4);
  });

  it('answers FORMERR to two questions', () => {
    const q = dnsPacket.encode({ type: 'query', id: 7, questions: [{ name: 'a.example.test', type: 'A' }, { name: 'b.example.test', type: 'A' }] });
    const r = answerQuery(snap, q);
    assert.equal(r.rcode, 1);
    assert.equal(header(r.reply).id, 7);
    assert.equal(header(r.reply).qd, 0);
  });

  it('answers FORMERR to no question, a response, a short header, trailing garbage and OPT as qtype', () => {
    const bad = [
      dnsPacket.encode({ type: 'query', id: 1, questions: [] }),
      dnsPacket.encode({ type: 'response', id: 2, questions: [{ name: 'www.example.test', type: 'A' }] }),
      Buffer.from([0, 3, 0]),
      Buffer.alloc(0),
      Buffer.concat([query('www.example.test', 'A'), Buffer.from([1, 2, 3])]),
      query('www.example.test', 'OPT'),
    ];
    for (const [i, q] of bad.entries()) assert.equal(answerQuery(snap, q).rcode, 1, `case ${i}`);
  });

  it('refuses classes other than IN', () => {
    const q = dnsPacket.encode({ type: 'query', id: 9, questions: [{ name: 'www.example.test', type: 'A', class: 'CH' }] });
    assert.equal(answerQuery(snap, q).rcode, 5);
  });

  it('never produces a reply over 65535 bytes: the additional section goes first', () => {
    // 200 MX exchanges in the zone, each with a 250-byte TXT... the A records of 200 long names fill the additional section.
    const lines: string[] = [];
    for (let i = 0; i < 240; i++) {
      const host = `${'h'.repeat(60)}.${'i'.repeat(60)}.${'j'.repeat(50)}${i}.example.test.`;
      lines.push(`example.test. 300 IN MX ${i} ${host}`);
      for (let k = 0; k < 2; k++) lines.push(`${host} 300 IN A 192.0.2.${k + 1}`);
    }
    const s = snapshotFromZoneText(lines.join('\n'), ['example.test']);
    const r = answerQuery(s, query('example.test', 'MX')).reply;
    assert.ok(r.length <= 65535, `reply is ${r.length} bytes`);
    const d = sectionsOf(r);
    assert.equal(d.answer.length, 240);
    assert.equal(header(r).tc, false);
  });
});
