/** Pre-encoded RRsets: the size the builder predicts is the size that goes on the wire. */
import assert from 'node:assert/strict';
import { makeRRset, rdataLength, recordBodies, wireUnderOwner } from '../../../src/dns/rrset.js';
import type { RDataByType, RecordType } from '../../../src/dns/records.js';

const samples: { [T in RecordType]: RDataByType[T] } = {
  A: '192.0.2.1',
  AAAA: '2001:db8::1',
  CNAME: 'www.example.test',
  DNAME: 'other.test',
  PTR: 'host.example.test',
  NS: 'ns1.example.test',
  MX: { preference: 10, exchange: 'mail.example.test' },
  SRV: { priority: 10, weight: 60, port: 5060, target: 'sip.example.test' },
  NAPTR: { order: 10, preference: 50, flags: 'S', services: 'SIP+D2U', regexp: '', replacement: '_sip._udp.example.test' },
  TXT: [Buffer.alloc(255, 'a'), Buffer.from('tail ü')],
  CAA: { flags: 0, tag: 'issue', value: 'ca.example.net' },
  SOA: { mname: 'ns1.example.test', rname: 'hostmaster.example.test', serial: 1, refresh: 2, retry: 3, expire: 4, minimum: 5 },
};

describe('rrset encoding', () => {
  for (const [type, data] of Object.entries(samples) as [RecordType, RDataByType[RecordType]][]) {
    it(`${type}: rdataLength matches the encoded rdata`, () => {
      const set = makeRRset('x.example.test', type, 60, [data]);
      const body = recordBodies(set)[0] as Buffer;
      assert.equal(body.readUInt16BE(8), rdataLength(type, data));
      assert.equal(body.length, 10 + rdataLength(type, data));
    });
  }
});

describe('rrset wire', () => {
  it('holds every record under its owner, and gives the bodies back under another owner', () => {
    const data: RDataByType['SRV'][] = [
      { priority: 10, weight: 60, port: 5060, target: 'a.example.test' },
      { priority: 20, weight: 0, port: 5061, target: 'much-longer-target-name.example.test' },
      { priority: 30, weight: 1, port: 1, target: 'b.example.test' },
    ];
    const set = makeRRset('_sip._udp.example.test', 'SRV', 300, data);
    const bodies = recordBodies(set);
    assert.equal(bodies.length, 3);
    assert.equal(set.ownerLength, 24);
    assert.deepEqual(set.wire, Buffer.concat(bodies.flatMap((b) => [set.wire.subarray(0, set.ownerLength), b])));
    const other = Buffer.from('\x01x\x04test\x00', 'latin1');
    const moved = wireUnderOwner(set, other);
    assert.equal(moved.length, set.wire.length - 3 * (set.ownerLength - other.length));
    assert.deepEqual(recordBodies({ ...set, ownerLength: other.length, wire: moved }), bodies);
  });
});
