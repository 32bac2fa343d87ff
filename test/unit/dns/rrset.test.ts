/** Pre-encoded RRsets: the size the builder predicts is the size that goes on the wire. */
import assert from 'node:assert/strict';
import { copyRRset, makeRRset, rdataLength, rrsetWire, wireLengthUnder, type RRset } from '../../../src/dns/rrset.js';
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
      const body = rrsetWire(set).subarray(set.ownerLength);
      assert.equal(body.readUInt16BE(8), rdataLength(type, data));
      assert.equal(body.length, 10 + rdataLength(type, data));
    });
  }
});

describe('rrset wire', () => {
  it('holds every record under its owner, and copies the bodies under another owner', () => {
    const data: RDataByType['SRV'][] = [
      { priority: 10, weight: 60, port: 5060, target: 'a.example.test' },
      { priority: 20, weight: 0, port: 5061, target: 'much-longer-target-name.example.test' },
      { priority: 30, weight: 1, port: 1, target: 'b.example.test' },
    ];
    const set = makeRRset('_sip._udp.example.test', 'SRV', 300, data);
    // Each record's body as a one-record RRset encodes it: the bytes after its owner name.
    const bodies = data.map((d) => {
      const one = makeRRset('_sip._udp.example.test', 'SRV', 300, [d]);
      return rrsetWire(one).subarray(one.ownerLength);
    });
    assert.equal(bodies.length, 3);
    assert.equal(set.data.length, 3);
    assert.equal(set.ownerLength, 24);
    const wire = rrsetWire(set);
    const ownerWire = wire.subarray(0, set.ownerLength);
    assert.deepEqual(wire, Buffer.concat(bodies.flatMap((b) => [ownerWire, b])));

    // Under another owner (wildcard synthesis): each body follows the new name, and the length says so beforehand.
    const other = Buffer.from('\x01x\x04test\x00', 'latin1');
    const out = Buffer.alloc(wireLengthUnder(set, other.length) + 2, 0xee);
    const end = copyRRset(set, out, 1, other);
    assert.equal(end, out.length - 1);
    assert.deepEqual(out.subarray(1, end), Buffer.concat(bodies.flatMap((b) => [other, b])));
    assert.equal(out[0], 0xee);
    assert.equal(out[end], 0xee);
    const own = Buffer.alloc(set.byteLength);
    assert.equal(copyRRset(set, own, 0), own.length);
    assert.deepEqual(own, wire);
  });

  it('packs RRsets side by side in shared slabs, and never lets one overwrite another', () => {
    const sets: RRset[] = [];
    const wires: Buffer[] = [];
    for (let i = 0; i < 2000; i++) {
      const set = makeRRset(`h${i}.example.test`, 'A', 60, [`192.0.2.${i % 250}`]);
      sets.push(set);
      wires.push(Buffer.from(rrsetWire(set)));
    }
    assert.ok(new Set(sets.map((s) => s.slab)).size < 20, 'small RRsets share slabs');
    const big = makeRRset('big.example.test', 'TXT', 60, [Array.from({ length: 40 }, () => Buffer.alloc(200, 'b'))]);
    assert.equal(big.offset, 0, 'a large RRset has a buffer of its own');
    sets.forEach((s, i) => assert.deepEqual(rrsetWire(s), wires[i]));
  });
});
