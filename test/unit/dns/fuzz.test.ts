/**
 * Bad input never crashes crdns: 100,000 random and mutated messages each
 * get a reply that decodes, copies the ID, and is either FORMERR or a
 * well-formed answer to exactly the question that was asked. The generator is
 * seeded, so a failure names a seed that reproduces it.
 */
import assert from 'node:assert/strict';
import dnsPacket from 'dns-packet';
import { answerQuery } from '../../../src/dns/answer-query.js';
import { parseQuery } from '../../../src/dns/query-parser.js';
import { snapshotFromZoneText } from '../../support/zone-text.js';
import { mutate, rng } from '../../support/fuzz-messages.js';

export const FUZZ_MESSAGES = 100_000;

const NAMES = ['www.example.test', 'example.test', 'x.wild.example.test', 'alias.example.test', 'nope.example.test', 'host.child.example.test', 'a.b.c.example.test', 'other.org', '.'];
const TYPES = ['A', 'AAAA', 'MX', 'TXT', 'SRV', 'NAPTR', 'CNAME', 'NS', 'SOA', 'ANY', 'CAA', 'PTR', 'DS', 'AXFR'];

function seedMessages(): Buffer[] {
  const out: Buffer[] = [];
  for (const name of NAMES) {
    for (const type of TYPES) {
      out.push(dnsPacket.encode({ type: 'query', id: out.length, questions: [{ name, type: type as never, class: 'IN' }] }));
      out.push(
        dnsPacket.encode({
          type: 'query',
          id: out.length,
          flags: dnsPacket.RECURSION_DESIRED,
          questions: [{ name, type: type as never, class: 'IN' }],
          additionals: [{ type: 'OPT', name: '.', udpPayloadSize: 4096, flags: dnsPacket.DNSSEC_OK, options: [{ code: 10, data: Buffer.alloc(8, 7) }] } as never],
        }),
      );
    }
  }
  return out;
}

describe('fuzz: random and mutated messages', () => {
  const snap = snapshotFromZoneText(
    `www.example.test. 300 IN A 192.0.2.1
alias.example.test. 300 IN CNAME www.example.test.
*.wild.example.test. 300 IN MX 10 www.example.test.
a.b.c.example.test. 300 IN TXT "t"
child.example.test. 300 IN NS ns.child.example.test.
ns.child.example.test. 300 IN A 192.0.2.53`,
    ['example.test'],
  );

  it(`${FUZZ_MESSAGES} messages: FORMERR or a valid answer, never an exception`, function () {
    this.timeout(300_000);
    const seed = Number(process.env.CRDNS_FUZZ_SEED ?? 20261125);
    const r = rng(seed);
    const seeds = seedMessages();
    const counts = { formerr: 0, answered: 0, other: 0 };
    for (let i = 0; i < FUZZ_MESSAGES; i++) {
      const msg = mutate(seeds[Math.floor(r() * seeds.length)] as Buffer, r);
      let reply: Buffer;
      try {
        reply = answerQuery(snap, msg).reply;
      } catch (err) {
        assert.fail(`seed ${seed} message ${i} (${msg.toString('hex')}) threw: ${(err as Error).stack}`);
      }
      assert.ok(reply.length >= 12 && reply.length <= 65535, `seed ${seed} message ${i}: reply length ${reply.length}`);
      if (msg.length >= 2) assert.equal(reply.readUInt16BE(0), msg.readUInt16BE(0), `seed ${seed} message ${i}: ID not copied`);
      const rcode = reply.readUInt16BE(2) & 0xf;
      const parsed = parseQuery(msg);
      if (!parsed.ok) {
        const flags = msg.length >= 4 ? msg.readUInt16BE(2) : 0;
        const notimp = msg.length >= 12 && (flags & 0x8000) === 0 && ((flags >>> 11) & 0xf) !== 0;
        assert.equal(rcode, notimp ? 4 : 1, `seed ${seed} message ${i}: unparseable (${parsed.reason}) but rcode ${rcode}`);
        counts.formerr++;
        continue;
      }
      // A parseable query: the reply must decode and carry exactly the question asked.
      let decoded;
      try {
        decoded = dnsPacket.decode(reply);
      } catch (err) {
        assert.fail(`seed ${seed} message ${i}: reply does not decode: ${(err as Error).message} (${reply.toString('hex')})`);
      }
      if (parsed.query.qtype !== 41 && rcode !== 1) {
        assert.equal(reply.readUInt16BE(4), 1, 'one question');
        assert.deepEqual(reply.subarray(12, 12 + parsed.query.qnameWire.length), parsed.query.qnameWire);
        assert.ok(decoded.flags !== undefined && (decoded.flags & 0x200) === 0, 'TC never set');
        counts.answered++;
      } else counts.other++;
    }
    // The mutations must actually reach both paths, or this test proves nothing.
    assert.ok(counts.formerr > FUZZ_MESSAGES / 10, `only ${counts.formerr} FORMERR`);
    assert.ok(counts.answered > FUZZ_MESSAGES / 10, `only ${counts.answered} answered`);
    console.log(`      fuzz seed ${seed}: ${counts.formerr} FORMERR, ${counts.answered} answered, ${counts.other} other`);
  });
});
