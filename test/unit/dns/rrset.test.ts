/** Pre-encoded RRsets: the size the builder predicts is the size that goes on the wire. */
import assert from 'node:assert/strict';
import dnsPacket from 'dns-packet';
import { canonicalIPv6 } from '../../../src/endpoint/parse-target.js';
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

describe('rrset direct writer', () => {
  // The oracle: dns-packet encoding each record on its own, owner name and all.
  const viaDnsPacket = (name: string, type: RecordType, ttl: number, data: readonly unknown[]): Buffer =>
    Buffer.concat(data.map((d) => dnsPacket.encode({ type: 'response', id: 0, flags: 0, answers: [{ name, type, class: 'IN', ttl, data: d } as unknown as dnsPacket.Answer] }).subarray(12)));

  const cases: { type: RecordType; data: unknown[] }[] = [
    { type: 'A', data: ['0.0.0.0', '255.255.255.255', '10.1.22.133', '192.0.2.1'] },
    { type: 'AAAA', data: ['::', '::1', '1::', 'fd00::1f', '2001:db8::1:0:0:1', '1:2:3:4:5:6:7:8', '2001:db8:0:1:1:1:1:1', 'fe80::1:2', '::ffff:192.0.2.1', '64:ff9b::c000:201', 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff'] },
    { type: 'CNAME', data: ['a.example.test'] },
    { type: 'DNAME', data: ['other.test'] },
    { type: 'PTR', data: ['host.example.test', ''] },
    { type: 'NS', data: ['ns1.example.test', `${'l'.repeat(63)}.example.test`] },
    { type: 'MX', data: [{ preference: 0, exchange: '' }, { preference: 65535, exchange: 'mail.example.test' }] },
    { type: 'SRV', data: [{ priority: 0, weight: 0, port: 0, target: '' }, { priority: 65535, weight: 60, port: 5060, target: 'sip.example.test' }] },
  ];
  for (const c of cases) {
    it(`${c.type}: writes what dns-packet writes, record for record`, () => {
      for (const owner of ['x.example.test', '*.example.test', '']) {
        const set = makeRRset(owner, c.type, 4294967295, c.data as RDataByType[RecordType][]);
        assert.deepEqual(rrsetWire(set), viaDnsPacket(owner, c.type, 4294967295, c.data));
        assert.equal(wireLengthUnder(set, set.ownerLength), set.byteLength);
      }
    });
  }

  it('AAAA: agrees with dns-packet on random addresses in their canonical form', () => {
    let seed = 7;
    const byte = (): number => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) & 0xff;
    for (let n = 0; n < 2000; n++) {
      // Zero groups are common in real addresses: make half the groups zero.
      const groups = Array.from({ length: 8 }, () => (byte() & 1 ? 0 : (byte() << 8) | byte()));
      if (n % 50 === 0) groups.splice(0, 6, 0, 0, 0, 0, 0, 0xffff);
      const text = canonicalIPv6(groups.map((g) => g.toString(16)).join(':'));
      assert.ok(text !== undefined);
      assert.deepEqual(rrsetWire(makeRRset('h.example.test', 'AAAA', 60, [text])), viaDnsPacket('h.example.test', 'AAAA', 60, [text]), text);
    }
  });

  it('an escaped owner name (a question\'s form) is encoded as its labels', () => {
    const set = makeRRset('a\\.b.example.test', 'A', 60, ['192.0.2.1']);
    assert.deepEqual(rrsetWire(set).subarray(0, set.ownerLength), Buffer.from([3, 97, 46, 98, 7, ...Buffer.from('example'), 4, ...Buffer.from('test'), 0]));
  });
});
