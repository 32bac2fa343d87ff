import assert from 'node:assert/strict';
import dnsPacket from 'dns-packet';
import { answerQuery } from '../../../src/dns/answer-query.js';
import { buildSnapshot } from '../../../src/dns/zone-builder.js';
import { zoneConfig, DEFAULT_ZONE_SETTINGS } from '../../../src/dns/zone-config.js';
import { presentRecord } from '../../../src/dns/presentation.js';

describe('smoke', () => {
  it('answers A', () => {
    const { snapshot } = buildSnapshot(
      [{ name: 'www.example.com', type: 'A', ttl: 60, data: ['10.0.0.1', '10.0.0.2'], origin: { object: 'a', index: 0 } },
       { name: '*.w.example.com', type: 'MX', ttl: 60, data: [{ preference: 10, exchange: 'www.example.com' }], origin: { object: 'a', index: 1 } }],
      [zoneConfig('example.com', DEFAULT_ZONE_SETTINGS)], 1, 1);
    for (const [n, t] of [['WWW.example.com', 'A'], ['x.w.example.com', 'MX'], ['nope.example.com', 'A'], ['w.example.com', 'A'], ['example.com', 'NS'], ['other.org', 'A']] as const) {
      const q = dnsPacket.encode({ type: 'query', id: 42, flags: dnsPacket.RECURSION_DESIRED, questions: [{ name: n, type: t, class: 'IN' }], additionals: [{ type: 'OPT', name: '.', udpPayloadSize: 4096, flags: dnsPacket.DNSSEC_OK } as never] });
      const out = answerQuery(snapshot, q);
      const d = dnsPacket.decode(out.reply);
      console.log(n, t, (d as unknown as {rcode: string}).rcode, d.flags, d.questions, [...(d.answers ?? []), ...(d.authorities ?? []), ...(d.additionals ?? [])].map((r) => r.type === 'OPT' ? 'OPT' : presentRecord(r)));
      assert.equal(d.id, 42);
    }
  });
});
