/** The question `crdns query` sends carries the type number asked for, whatever dns-packet knows. */
import assert from 'node:assert/strict';
import dnsPacket from 'dns-packet';
import { encodeQuery } from '../../../src/cli/query-message.js';
import { question } from '../../../src/cli/query.js';
import { UsageError } from '../../../src/cli/options.js';

describe('crdns query: the question', () => {
  it('encodes name, QTYPE, class IN and an EDNS OPT record', () => {
    const msg = encodeQuery(0x1234, 'www.example.org', 65, true);
    const d = dnsPacket.decode(msg);
    assert.equal(d.id, 0x1234);
    assert.equal(d.questions?.[0]?.name, 'www.example.org');
    assert.equal(msg.readUInt16BE(12 + 17), 65, 'QTYPE 65 (HTTPS), which dns-packet would have sent as 0');
    assert.equal(msg.readUInt16BE(12 + 19), 1, 'class IN');
    const opt = d.additionals?.[0] as { type: string; udpPayloadSize?: number } | undefined;
    assert.equal(opt?.type, 'OPT');
    assert.equal(opt?.udpPayloadSize, 1232);
    assert.equal(encodeQuery(1, '', 2, false).length, 12 + 1 + 4, 'the root, without OPT');
  });

  it('turns what the operator typed into a name and a type number, or a usage error', () => {
    assert.deepEqual(question('BÜCHER.Example.org.', 'type33'), { name: 'xn--bcher-kva.example.org', qtype: 33 });
    assert.deepEqual(question('*.wild.example.org', 'https'), { name: '*.wild.example.org', qtype: 65 });
    assert.deepEqual(question('.', 'NS'), { name: '', qtype: 2 });
    assert.throws(() => question('a..b', 'A'), (e: Error) => e instanceof UsageError && /empty label/.test(e.message));
    assert.throws(() => question('a.b', 'BOGUS'), (e: Error) => e instanceof UsageError && /unknown type "BOGUS"/.test(e.message));
    assert.throws(() => question('a.b', 'TYPE65536'), UsageError);
  });
});
