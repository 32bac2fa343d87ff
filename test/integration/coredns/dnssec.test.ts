/**
 * corefiles/dnssec.Corefile, loaded as committed: CoreDNS signs crdns's
 * answers on the fly with a key made by ldns-keygen (the command documented
 * in the Corefile), and BIND's delv validates them from a trust anchor that
 * is the zone's own key (+root=zone). A wrong anchor must fail validation.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { corefile, dig, run } from '../../harness/coredns.js';
import { requireTool } from '../../harness/peers.js';
import { askCrdns, differences, e2eEndpoints, fromDig, manifest, REVERSE_ZONE, startStack, ZONE, type Stack } from './support.js';

/** ldns-keygen -a ECDSAP256SHA256 -k ZONE; returns the key's base path (no .key/.private). */
async function makeKey(dir: string, zone: string): Promise<string> {
  const r = await run(requireTool('ldns-keygen'), ['-a', 'ECDSAP256SHA256', '-k', zone], { cwd: dir });
  const base = r.stdout.trim();
  if (r.code !== 0 || !/^K.+\+013\+\d+$/.test(base)) throw new Error(`ldns-keygen failed (${r.code}): ${r.stdout}${r.stderr}`);
  return path.join(dir, base);
}

/** A delv trust-anchors file holding the DNSKEY in KEYBASE.key as a static key. */
async function anchorFile(keyBase: string, out: string): Promise<void> {
  const line = (await readFile(`${keyBase}.key`, 'utf8')).split('\n').find((l) => /\sDNSKEY\s/.test(l));
  const m = line && /^(\S+)\s+(?:\d+\s+)?IN\s+DNSKEY\s+(\d+)\s+(\d+)\s+(\d+)\s+([A-Za-z0-9+/=]+)/.exec(line);
  if (!m) throw new Error(`no DNSKEY in ${keyBase}.key: ${line}`);
  await writeFile(out, `trust-anchors {\n  ${m[1]} static-key ${m[2]} ${m[3]} ${m[4]} "${m[5]}";\n};\n`);
}

async function delv(port: number, anchors: string, name: string, type: string, tcp = false): Promise<string> {
  const args = ['@127.0.0.1', '-p', String(port), '-a', anchors, `+root=${ZONE}`, ...(tcp ? ['+tcp'] : []), name, type];
  const r = await run(requireTool('delv'), args, { timeoutMs: 30000 });
  return r.stdout + r.stderr;
}

describe('CoreDNS (dnssec.Corefile) signs crdns answers; delv validates them', function () {
  this.timeout(180000);
  let stack: Stack;
  let keyDir: string;
  let anchors: string;
  let wrongAnchors: string;

  before(async () => {
    keyDir = await mkdtemp(path.join(tmpdir(), 'crdns-dnssec-'));
    const key = await makeKey(keyDir, ZONE);
    anchors = path.join(keyDir, 'anchors.conf');
    await anchorFile(key, anchors);
    const otherDir = await mkdtemp(path.join(keyDir, 'other-'));
    wrongAnchors = path.join(keyDir, 'wrong-anchors.conf');
    await anchorFile(await makeKey(otherDir, ZONE), wrongAnchors);
    stack = await startStack({
      files: { 'e2e.json': manifest('e2e', e2eEndpoints()) },
      coredns: { corefile: corefile('dnssec'), env: { COREDNS_DNSSEC_ZONE: ZONE, COREDNS_DNSSEC_KEY: key } },
    });
  });
  after(async () => {
    await stack?.stop();
    if (keyDir) await rm(keyDir, { recursive: true, force: true });
  });

  const positive: [string, string][] = [
    [`www.${ZONE}`, 'A'],
    [`www.${ZONE}`, 'AAAA'],
    [`alias.${ZONE}`, 'A'],
    [`mx.${ZONE}`, 'MX'],
    [`_sip._udp.pcscf.${ZONE}`, 'SRV'],
    [`pcscf.${ZONE}`, 'NAPTR'],
    [`txt.${ZONE}`, 'TXT'],
    [ZONE, 'CAA'],
    [ZONE, 'SOA'],
    [ZONE, 'NS'],
    [ZONE, 'DNSKEY'],
    [`x.wild.${ZONE}`, 'A'],
  ];
  it(`validates ${positive.length} positive answers (every signed type, CNAME chain, wildcard, DNSKEY)`, async () => {
    const failures: string[] = [];
    for (const [name, type] of positive) {
      const out = await delv(stack.coredns.port, anchors, name, type, type === 'TXT');
      if (!/^; fully validated$/m.test(out) || /negative response/.test(out)) failures.push(`${name} ${type}:\n${out}`);
    }
    assert.deepEqual(failures, [], failures.join('\n'));
  });

  it('validates NXDOMAIN and NODATA (NSEC black lies: NXDOMAIN becomes NOERROR + NSEC for DO clients)', async () => {
    for (const [name, type] of [[`nothing.${ZONE}`, 'A'], [`www.${ZONE}`, 'MX'], [`x.wild.${ZONE}`, 'MX']] as const) {
      const out = await delv(stack.coredns.port, anchors, name, type);
      assert.match(out, /^; negative response, fully validated$/m, `${name} ${type}:\n${out}`);
    }
    const signed = await dig(`nothing.${ZONE}`, 'A', { port: stack.coredns.port, dnssec: true });
    assert.equal(signed.status, 'NOERROR');
    assert.ok(signed.authority.some((r) => r.type === 'NSEC'), signed.output);
    const plain = await dig(`nothing.${ZONE}`, 'A', { port: stack.coredns.port });
    assert.equal(plain.status, 'NXDOMAIN', 'clients without DO still get the NXDOMAIN');
  });

  it('fails validation against a different key', async () => {
    const out = await delv(stack.coredns.port, wrongAnchors, `www.${ZONE}`, 'A');
    assert.doesNotMatch(out, /fully validated/, out);
    assert.match(out, /resolution failed|no valid signature|insecurity proof failed|broken trust chain/i, out);
  });

  it('leaves answers without DO, and zones it does not sign, exactly as crdns sent them', async () => {
    const startedAt = Date.now();
    for (const [name, type] of [[`www.${ZONE}`, 'A'], [`pcscf.${ZONE}`, 'NAPTR'], [`10.${REVERSE_ZONE}`, 'PTR']] as const) {
      const direct = await askCrdns(stack.crdns.addresses[0] as string, name, type);
      const through = await dig(name, type, { port: stack.coredns.port });
      const diff = differences(direct, fromDig(through), Math.ceil((Date.now() - startedAt) / 1000) + 1);
      assert.deepEqual(diff, [], `${name} ${type}: ${diff.join('\n')}`);
    }
    const ptr = await dig(`10.${REVERSE_ZONE}`, 'PTR', { port: stack.coredns.port, dnssec: true });
    assert.ok(!ptr.answer.some((r) => r.type === 'RRSIG'), `the reverse zone is not signed:\n${ptr.output}`);
    const a = await dig(`www.${ZONE}`, 'A', { port: stack.coredns.port, dnssec: true });
    const sig = a.answer.find((r) => r.type === 'RRSIG');
    assert.ok(sig, a.output);
    // RRSIG rdata: type-covered alg labels original-TTL expiration inception tag signer sig
    const [covered, alg, , originalTtl, , , , signer] = sig.rdata.split(/\s+/);
    assert.deepEqual([covered, alg, originalTtl, signer], ['A', '13', '3600', `${ZONE}.`], 'CoreDNS always writes original TTL 3600');
  });
});
