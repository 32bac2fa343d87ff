/**
 * Through stock CoreDNS with corefiles/single-cluster.Corefile, loaded as
 * committed: dig over UDP and over TCP gets, for every record type and
 * outcome, the same status, flags and sections as crdns gives over gRPC.
 * And a NAPTR/SRV set too big for 512 bytes is truncated by CoreDNS for a
 * UDP client without EDNS (crdns itself never truncates), and whole over TCP.
 */
import assert from 'node:assert/strict';
import { corefile, dig } from '../../harness/coredns.js';
import { askCrdns, BIG_NAPTR, BIG_SRV, differences, e2eEndpoints, e2eQuestions, fromDig, manifest, startStack, ZONE, type Stack } from './support.js';

describe('CoreDNS (single-cluster.Corefile) in front of crdns: answers', function () {
  this.timeout(120000);
  let stack: Stack;
  let startedAt = 0;

  before(async () => {
    startedAt = Date.now();
    stack = await startStack({ files: { 'e2e.json': manifest('e2e', e2eEndpoints()) }, coredns: { corefile: corefile('single-cluster') } });
  });
  after(async () => {
    await stack?.stop();
  });

  for (const tcp of [false, true]) {
    const transport = tcp ? 'TCP' : 'UDP';
    it(`answers every question over ${transport} exactly as crdns does over gRPC`, async () => {
      const problems: string[] = [];
      for (const [name, type, what] of e2eQuestions()) {
        const direct = await askCrdns(stack.crdns.addresses[0] as string, name, type);
        const through = await dig(name, type, { port: stack.coredns.port, tcp });
        // The Corefile caches: an answer can have been cached since the suite started, no longer.
        const diff = differences(direct, fromDig(through), Math.ceil((Date.now() - startedAt) / 1000) + 1);
        if (diff.length) problems.push(`${name} ${type} (${what}) over ${transport}:\n  ${diff.join('\n  ')}`);
        assert.ok(through.answer.length + through.authority.length > 0 || through.status === 'REFUSED', `${name} ${type}: empty reply`);
      }
      assert.deepEqual(problems, [], problems.join('\n'));
    });
  }

  it('answers what the manifests say (spot checks, independent of crdns)', async () => {
    const port = stack.coredns.port;
    const a = await dig(`www.${ZONE}`, 'A', { port });
    assert.equal(a.status, 'NOERROR');
    assert.ok(a.flags.includes('aa'));
    assert.deepEqual(a.answer.map((r) => r.rdata).sort(), ['192.0.2.10', '192.0.2.11']);
    const nx = await dig(`nothing.${ZONE}`, 'A', { port, tcp: true });
    assert.equal(nx.status, 'NXDOMAIN');
    assert.equal(nx.authority[0]?.type, 'SOA');
    const refused = await dig('www.example.net', 'A', { port });
    assert.equal(refused.status, 'REFUSED');
    const naptr = await dig(`pcscf.${ZONE}`, 'NAPTR', { port, tcp: true });
    assert.deepEqual(naptr.answer.map((r) => r.rdata), [`10 50 "s" "SIP+D2U" "" _sip._udp.pcscf.${ZONE}.`, `20 50 "s" "SIP+D2T" "" _sip._tcp.pcscf.${ZONE}.`]);
  });

  for (const [type, name, count] of [['NAPTR', `big.${ZONE}`, BIG_NAPTR.length], ['SRV', `_sip._udp.big.${ZONE}`, BIG_SRV.length]] as const) {
    it(`truncates a ${count}-record ${type} set for UDP without EDNS, and gives all of it over TCP and with a big EDNS buffer`, async () => {
      const port = stack.coredns.port;
      const udp = await dig(name, type, { port, edns: false, ignoreTruncation: true });
      assert.equal(udp.status, 'NOERROR');
      assert.ok(udp.flags.includes('tc'), `TC expected over UDP without EDNS, flags: ${udp.flags.join(' ')}\n${udp.output}`);
      assert.ok(udp.size <= 512, `UDP reply of ${udp.size} bytes exceeds 512`);
      assert.ok(udp.answer.length < count, `a truncated reply holds fewer than ${count} records, got ${udp.answer.length}`);

      const tcp = await dig(name, type, { port, tcp: true, edns: false });
      assert.ok(!tcp.flags.includes('tc'), `no TC over TCP: ${tcp.flags.join(' ')}`);
      assert.equal(tcp.answer.length, count);
      assert.ok(tcp.size > 512, `the full answer is ${tcp.size} bytes, more than 512 (else this test proves nothing)`);
      const direct = await askCrdns(stack.crdns.addresses[0] as string, name, type);
      assert.deepEqual(tcp.answer.map((r) => r.rdata), direct.answer.map((r) => r.rdata));

      const bigBuffer = await dig(name, type, { port, edns: 4096, ignoreTruncation: true });
      assert.ok(!bigBuffer.flags.includes('tc'), `no TC with a 4096-byte EDNS buffer (${bigBuffer.size} bytes)`);
      assert.equal(bigBuffer.answer.length, count);
    });
  }
});
