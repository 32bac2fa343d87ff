/** Pre-encoded RRsets: the size the builder predicts is the size that goes on the wire. */
import assert from 'node:assert/strict';
import { makeRRset, rdataLength } from '../../../src/dns/rrset.js';
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
      const body = set.bodies[0] as Buffer;
      assert.equal(body.readUInt16BE(8), rdataLength(type, data));
      assert.equal(body.length, 10 + rdataLength(type, data));
    });
  }
});
