/**
 * The cache block of corefiles/single-cluster.Corefile against a real crdns:
 *  - a negative answer is cached for the TTL crdns put on its SOA, which is
 *    min(SOA TTL, --soa-minimum); a record created meanwhile stays hidden
 *    until then, and is served right after;
 *  - serve_stale keeps answering from expired entries while crdns is dead.
 */
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { corefile, dig, type DigResult } from '../../harness/coredns.js';
import { startCrdns } from '../../harness/crdns-process.js';
import { askCrdns, pollUntil, manifest, sleep, startStack, ZONE, type Stack } from './support.js';

const SOA_MINIMUM = 3;

describe('CoreDNS (single-cluster.Corefile) cache: negative caching follows the SOA-derived TTL', function () {
  this.timeout(180000);
  let stack: Stack;

  before(async () => {
    stack = await startStack({
      files: { 'base.json': manifest('base', [{ dnsName: `www.${ZONE}`, recordType: 'A', targets: ['192.0.2.10'] }]) },
      crdnsArgs: ['--soa-minimum', String(SOA_MINIMUM)],
      coredns: { corefile: corefile('single-cluster') },
    });
  });
  after(async () => {
    await stack?.stop();
  });

  it(`puts min(SOA TTL, minimum) = ${SOA_MINIMUM} s on the SOA of NXDOMAIN and NODATA, and CoreDNS counts it down`, async () => {
    for (const [name, type, status] of [[`ttl-check.${ZONE}`, 'A', 'NXDOMAIN'], [`www.${ZONE}`, 'TXT', 'NOERROR']] as const) {
      const direct = await askCrdns(stack.crdns.addresses[0] as string, name, type);
      assert.equal(direct.status, status);
      assert.equal(direct.authority[0]?.ttl, SOA_MINIMUM, 'crdns: negative TTL = min(3600, minimum)');
      // First query: a cache miss, CoreDNS passes the TTL on.
      const first = await dig(name, type, { port: stack.coredns.port });
      assert.equal(first.status, status);
      assert.equal(first.authority[0]?.type, 'SOA');
      assert.equal(first.authority[0]?.ttl, SOA_MINIMUM);
      // Then from the cache: never above it, and lower once a second has passed.
      const seen: number[] = [];
      const until = Date.now() + SOA_MINIMUM * 1000 + 1500;
      while (Date.now() < until) {
        const r = await dig(name, type, { port: stack.coredns.port });
        assert.equal(r.status, status);
        seen.push(r.authority[0]?.ttl ?? -1);
        await sleep(200);
      }
      assert.ok(seen.every((t) => t >= 0 && t <= SOA_MINIMUM), `TTLs ${seen.join(' ')}`);
      assert.ok(seen.some((t) => t < SOA_MINIMUM), `the cached SOA TTL never counted down: ${seen.join(' ')}`);
    }
  });

  it('keeps a cached NXDOMAIN until its TTL runs out after the record appears, then serves the record', async () => {
    // A slow machine could let the cached entry expire before the record is in crdns;
    // then the sequence proves nothing and is tried again with a fresh name.
    for (let attempt = 1; ; attempt++) {
      const name = `late-${attempt}.${ZONE}`;
      const cachedAt = Date.now();
      const before = await dig(name, 'A', { port: stack.coredns.port });
      assert.equal(before.status, 'NXDOMAIN');
      assert.equal(before.authority[0]?.ttl, SOA_MINIMUM, 'first lookup of a fresh name is a cache miss');

      await writeFile(path.join(stack.manifests, `late-${attempt}.json`), manifest(`late-${attempt}`, [{ dnsName: name, recordType: 'A', targets: ['192.0.2.77'], recordTTL: 60 }]));
      await pollUntil(() => askCrdns(stack.crdns.addresses[0] as string, name, 'A'), (r) => r.status === 'NOERROR', `crdns serves ${name}`);
      const liveAt = Date.now();
      const stillCached = await dig(name, 'A', { port: stack.coredns.port });
      const askedAt = Date.now();
      if (askedAt - cachedAt >= (SOA_MINIMUM - 0.5) * 1000) {
        if (attempt >= 5) assert.fail(`the machine is too slow to observe a ${SOA_MINIMUM} s negative TTL (${askedAt - cachedAt} ms to add a record)`);
        continue;
      }
      assert.equal(stillCached.status, 'NXDOMAIN', 'the cached NXDOMAIN is served although crdns has the record now');
      assert.ok((stillCached.authority[0]?.ttl ?? 99) < SOA_MINIMUM || askedAt - cachedAt < 1000);

      // Poll until the record shows. Every NXDOMAIN must come from a query sent before
      // the cached entry's TTL ran out (+1 s: CoreDNS counts whole seconds).
      let served: DigResult | undefined;
      const lateNx: number[] = [];
      while (!served) {
        const sentAt = Date.now();
        const r = await dig(name, 'A', { port: stack.coredns.port });
        if (r.status === 'NOERROR') served = r;
        else if (sentAt - cachedAt > (SOA_MINIMUM + 1) * 1000) lateNx.push(sentAt - cachedAt);
        if (sentAt - cachedAt > 30000) assert.fail('the new record was not served within 30 s');
        await sleep(100);
      }
      assert.deepEqual(lateNx, [], `NXDOMAIN served ${lateNx.join(', ')} ms after it was cached with TTL ${SOA_MINIMUM} s`);
      assert.deepEqual(served.answer.map((r) => r.rdata), ['192.0.2.77']);
      assert.ok(served.answer[0]!.ttl <= 60 && served.answer[0]!.ttl > 50, `positive TTL ${served.answer[0]!.ttl}`);
      console.log(`      negative cache: record live in crdns ${liveAt - cachedAt} ms after the NXDOMAIN was cached, served by CoreDNS ${Date.now() - cachedAt} ms after (TTL ${SOA_MINIMUM} s)`);
      return;
    }
  });
});

describe('CoreDNS (single-cluster.Corefile) cache: serve_stale while crdns is down', function () {
  this.timeout(180000);
  let stack: Stack;

  before(async () => {
    stack = await startStack({
      files: {
        'stale.json': manifest('stale', [
          { dnsName: `short.${ZONE}`, recordType: 'A', targets: ['192.0.2.50'], recordTTL: 2 },
          { dnsName: `short.${ZONE}`, recordType: 'NAPTR', targets: [`10 10 "s" "SIP+D2U" "" _sip._udp.short.${ZONE}.`], recordTTL: 2 },
        ]),
      },
      crdnsArgs: ['--soa-minimum', '2'],
      coredns: { corefile: corefile('single-cluster') },
    });
  });
  after(async () => {
    await stack?.stop();
  });

  it('answers cached names from expired entries (TTL 30) after crdns is SIGKILLed, SERVFAIL for names never cached, fresh again once crdns is back', async () => {
    const port = stack.coredns.port;
    const a = await dig(`short.${ZONE}`, 'A', { port });
    const naptr = await dig(`short.${ZONE}`, 'NAPTR', { port, tcp: true });
    const nx = await dig(`gone.${ZONE}`, 'A', { port });
    assert.deepEqual([a.status, naptr.status, nx.status], ['NOERROR', 'NOERROR', 'NXDOMAIN']);
    assert.equal(a.answer[0]?.ttl, 2);

    await stack.crdns.kill('SIGKILL');
    const killedAt = Date.now();
    await sleep(3000); // every entry above has expired (TTL 2)

    for (const tcp of [false, true]) {
      const sa = await dig(`short.${ZONE}`, 'A', { port, tcp });
      assert.equal(sa.status, 'NOERROR', `stale A over ${tcp ? 'TCP' : 'UDP'}:\n${sa.output}`);
      assert.deepEqual(sa.answer.map((r) => [r.rdata, r.ttl]), [['192.0.2.50', 30]], 'stale answers carry the RESPONSE_TTL of 30 s');
      const sn = await dig(`short.${ZONE}`, 'NAPTR', { port, tcp });
      assert.deepEqual(sn.answer.map((r) => r.rdata), [`10 10 "s" "SIP+D2U" "" _sip._udp.short.${ZONE}.`]);
      const snx = await dig(`gone.${ZONE}`, 'A', { port, tcp });
      assert.equal(snx.status, 'NXDOMAIN', 'a stale NXDOMAIN is served too');
    }
    const never = await dig(`never-asked.${ZONE}`, 'A', { port });
    assert.equal(never.status, 'SERVFAIL', 'nothing cached for this name, and crdns is down');
    assert.match(stack.coredns.logs(), /never-asked\.e2e\.test\. A: rpc error: code = Unavailable/);
    const metrics = await stack.coredns.scrape();
    const stale = /^coredns_cache_served_stale_total\{[^}]*\} (\d+)/m.exec(metrics);
    assert.ok(stale && Number(stale[1]) >= 6, `coredns_cache_served_stale_total: ${stale?.[1]}`);
    console.log(`      serve_stale: ${stale?.[1]} stale answers served ${((Date.now() - killedAt) / 1000).toFixed(1)} s into a crdns outage`);

    // crdns comes back on the same socket with a changed record: after the 2 s failure recheck and the grpc reconnect, the fresh record wins.
    await writeFile(path.join(stack.manifests, 'stale.json'), manifest('stale', [{ dnsName: `short.${ZONE}`, recordType: 'A', targets: ['192.0.2.51'], recordTTL: 2 }]));
    const restarted = await startCrdns({ zones: [ZONE], manifests: stack.manifests, listen: stack.crdns.addresses });
    const back = Date.now();
    try {
      const fresh = await pollUntil(() => dig(`short.${ZONE}`, 'A', { port }), (r) => r.answer[0]?.rdata === '192.0.2.51', 'fresh answer after crdns restart', 60000, 250);
      assert.equal(fresh.answer[0]?.ttl, 2);
      console.log(`      serve_stale: fresh answer ${((Date.now() - back) / 1000).toFixed(1)} s after crdns was back (failure recheck 2 s)`);
    } finally {
      await restarted.stop();
    }
  });
});
