/**
 * Corefiles rendered by the chart, loaded by the real CoreDNS in front of a
 * real crdns (manifest folder source here; the Kubernetes source is in
 * chart-apiserver.test.ts). Paths the pod mounts (/etc/coredns/dnssec,
 * /etc/crdns/peering-tls) are replaced by temp dirs, and listeners are moved
 * to loopback; everything else is the Corefile as rendered.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { queryClient } from '../../../src/cli/query.js';
import { dig } from '../../harness/coredns.js';
import { freePort } from '../../harness/ports.js';
import { startCrdns, type CrdnsProcess } from '../../harness/crdns-process.js';
import { dnsEndpointManifest, type EndpointSpec } from '../../support/dnsendpoint-manifests.js';
import { requireTool } from '../../harness/peers.js';
import { pollUntil } from '../../support/eventually.js';
import { CI_VALUES, cleanupHelmHome, corefileOf, loopbackOnly, makePeeringTls, render, run, runCoredns, type CorednsRun } from './support.js';

interface Cluster {
  dnsPort: number;
  corefile: string;
  crdns: CrdnsProcess;
  coredns: CorednsRun;
  /** The folder crdns serves, and the socket the Corefile dials (the first worker's with workers). */
  manifests: string;
  socket: string;
  /** host:port of CoreDNS's /metrics. */
  metrics: string;
}

describe('helm chart: rendered Corefile in the real CoreDNS', function () {
  this.timeout(180_000);
  const stops: Array<() => Promise<void>> = [];

  afterEach(async () => {
    for (const stop of stops.splice(0).reverse()) await stop();
  });

  after(cleanupHelmHome);

  async function tempDir(prefix: string): Promise<string> {
    const dir = await mkdtemp(path.join(tmpdir(), prefix));
    stops.push(() => rm(dir, { recursive: true, force: true }));
    return dir;
  }

  /**
   * One "cluster": crdns serving `records` from a folder on the chart's socket
   * path, and CoreDNS on the Corefile rendered from `args` (+ fresh ports).
   */
  async function startCluster(args: string[], records: EndpointSpec[], mounts: Record<string, string> = {}, workers = 1): Promise<Cluster> {
    const socketDir = await tempDir('crdns-helm-sock-');
    const manifests = await tempDir('crdns-helm-manifests-');
    await writeFile(path.join(manifests, 'records.yaml'), dnsEndpointManifest({ name: 'records', namespace: 'default', endpoints: records }));
    const dnsPort = await freePort();
    const ports = ['--set', `coredns.ports.dns=${dnsPort}`];
    const metricsPort = await freePort();
    ports.push('--set', `coredns.ports.metrics=${metricsPort}`);
    for (const p of ['health', 'ready']) ports.push('--set', `coredns.ports.${p}=${await freePort()}`);
    const m = await render([...args, ...ports, '--set', `crdns.socketDir=${socketDir}`, '--set', 'coredns.bind={127.0.0.1}', '--set', `crdns.workers=${workers}`]);
    let corefile = loopbackOnly(corefileOf(m));
    for (const [from, to] of Object.entries(mounts)) {
      assert.ok(corefile.includes(from), `rendered Corefile mentions ${from}`);
      corefile = corefile.split(from).join(to);
    }
    // What the chart's deployment gives crdns: one socket, or one per worker.
    const listen = workers > 1 ? `unix://${socketDir}/crdns-{worker}.sock` : `unix://${socketDir}/crdns.sock`;
    const crdns = await startCrdns({ zones: ['example.org'], manifests, listen: [listen], args: workers > 1 ? ['--workers', String(workers)] : [] });
    stops.push(() => crdns.stop());
    const coredns = await runCoredns(corefile, dnsPort);
    stops.push(() => coredns.stop());
    return { dnsPort, corefile, crdns, coredns, manifests, socket: crdns.addresses[0] as string, metrics: `127.0.0.1:${metricsPort}` };
  }

  const a = (name: string, ip: string, ttl = 60): EndpointSpec => ({ dnsName: name, recordType: 'A', targets: [ip], recordTTL: ttl });

  it('default Corefile: answers from crdns, and serve_stale keeps answering after crdns dies', async () => {
    const c = await startCluster(['-f', CI_VALUES('minimal')], [a('hello.example.org', '192.0.2.10', 1)]);
    const first = await dig('hello.example.org', 'A', { port: c.dnsPort });
    assert.equal(first.status, 'NOERROR', first.output);
    assert.ok(first.flags.includes('aa'));
    assert.deepEqual(first.answer.map((r) => r.rdata), ['192.0.2.10']);
    assert.equal((await dig('nope.example.org', 'A', { port: c.dnsPort })).status, 'NXDOMAIN');

    await c.crdns.kill();
    // Past the record's 1 s TTL (the chart's cache floor is 1 s) the entry is
    // expired; crdns is gone, so only serve_stale can answer.
    await new Promise((r) => setTimeout(r, 3_000));
    const stale = await dig('hello.example.org', 'A', { port: c.dnsPort });
    assert.equal(stale.status, 'NOERROR', `expected a stale answer:\n${stale.output}\n${c.coredns.logs()}`);
    assert.deepEqual(stale.answer.map((r) => r.rdata), ['192.0.2.10']);
    assert.equal(stale.answer[0]?.ttl, 30, 'a stale answer carries responseTtl');
    const uncached = await dig('other.example.org', 'A', { port: c.dnsPort });
    assert.equal(uncached.status, 'SERVFAIL', 'nothing cached, crdns down: SERVFAIL');
  });

  it('default Corefile: a changed record reaches the client within about a second though its TTL is 300 s (clients see the 1 s cap)', async () => {
    const c = await startCluster(['-f', CI_VALUES('minimal')], [a('fresh.example.org', '192.0.2.10', 300)]);
    const first = await dig('fresh.example.org', 'A', { port: c.dnsPort });
    assert.deepEqual(first.answer.map((r) => r.rdata), ['192.0.2.10'], first.output);
    assert.ok((first.answer[0]?.ttl ?? 99) <= 1, `CoreDNS lowers the TTL to the cache cap: ${first.output}`);
    // Cached now; the change is written and seen by crdns itself first.
    await dig('fresh.example.org', 'A', { port: c.dnsPort });
    await writeFile(path.join(c.manifests, 'records.yaml'), dnsEndpointManifest({ name: 'records', namespace: 'default', endpoints: [a('fresh.example.org', '192.0.2.11', 300)] }));
    const direct = queryClient(c.socket, 2000);
    try {
      await pollUntil(() => direct.ask('fresh.example.org', 'A'), (r) => (r.answers ?? []).some((x) => x.type === 'A' && x.data === '192.0.2.11'), 'crdns serving the change', 30_000, 20);
    } finally {
      direct.close();
    }
    const servedAt = Date.now();
    // With the old 3600 s cap the cached answer would stay for the record's 300 s.
    const seen = await pollUntil(() => dig('fresh.example.org', 'A', { port: c.dnsPort }), (r) => r.answer[0]?.rdata === '192.0.2.11', 'CoreDNS answering the change', 10_000, 50);
    assert.equal(seen.status, 'NOERROR');
    console.log(`      change answered through the default Corefile ${Date.now() - servedAt} ms after crdns served it`);
  });

  it('default Corefile: no SERVFAIL for a name answered before while crdns is hung (SIGSTOP), killed or restarting', async () => {
    const c = await startCluster(['-f', CI_VALUES('minimal')], [a('steady.example.org', '192.0.2.20', 300)]);
    const ask = () => dig('steady.example.org', 'A', { port: c.dnsPort, timeoutS: 3 });
    assert.deepEqual((await ask()).answer.map((r) => r.rdata), ['192.0.2.20']);
    const statuses: string[] = [];
    let asking = true;
    const asker = (async () => {
      while (asking) {
        const r = await ask();
        statuses.push(r.answer[0]?.rdata === '192.0.2.20' ? r.status : `${r.status} ${r.answer.map((x) => x.rdata).join(',')}`);
        await new Promise((res) => setTimeout(res, 50));
      }
    })();
    const wait = (ms: number) => new Promise((res) => setTimeout(res, ms));
    try {
      await wait(1_500);
      c.crdns.child.kill('SIGSTOP');
      await wait(3_000);
      c.crdns.child.kill('SIGCONT');
      await wait(1_000);
      await c.crdns.kill();
      await wait(3_000);
      const again = await startCrdns({ zones: ['example.org'], manifests: c.manifests, listen: [c.socket] });
      stops.push(() => again.stop());
      await wait(1_500);
    } finally {
      asking = false;
      await asker;
    }
    const bad = statuses.filter((s) => s !== 'NOERROR');
    assert.ok(statuses.length > 20, `only ${statuses.length} queries made`);
    assert.deepEqual(bad, [], `${bad.length} of ${statuses.length} answers were not the record: ${[...new Set(bad)].join('; ')}`);
  });

  it('DNSSEC from the chart values: CoreDNS signs crdns answers with the mounted key', async () => {
    const keyDir = await tempDir('crdns-helm-keys-');
    const gen = await run(requireTool('ldns-keygen'), ['-a', 'ECDSAP256SHA256', 'example.org'], { cwd: keyDir });
    assert.equal(gen.code, 0, gen.stderr);
    const basename = gen.stdout.trim();
    const files = await readdir(keyDir);
    assert.ok(files.includes(`${basename}.key`) && files.includes(`${basename}.private`), `ldns-keygen wrote ${files.join(', ')}`);
    const c = await startCluster(
      [
        '-f', CI_VALUES('minimal'), '--set', 'coredns.dnssec.enabled=true', '--set', 'coredns.dnssec.secretName=keys',
        '--set-string', `coredns.dnssec.keys[0].basename=${basename}`,
        '--set', 'coredns.dnssec.keys[0].publicKey=k.key', '--set', 'coredns.dnssec.keys[0].privateKey=k.private',
      ],
      [a('hello.example.org', '192.0.2.10')],
      { '/etc/coredns/dnssec': keyDir },
    );
    const dnskey = await dig('example.org', 'DNSKEY', { port: c.dnsPort, dnssec: true });
    assert.equal(dnskey.status, 'NOERROR', dnskey.output);
    assert.deepEqual(dnskey.answer.map((r) => r.type).sort(), ['DNSKEY', 'RRSIG']);
    const signed = await dig('hello.example.org', 'A', { port: c.dnsPort, dnssec: true });
    assert.deepEqual(signed.answer.map((r) => r.type).sort(), ['A', 'RRSIG'], signed.output);
    assert.match(signed.answer.find((r) => r.type === 'RRSIG')?.rdata ?? '', /^A 13 /);
  });

  for (const tls of [true, false]) {
    it(`peer fallback ${tls ? 'over mutual TLS (forward tiers)' : 'in plaintext (one grpc line)'}: cluster A answers from cluster B once its own crdns is gone`, async () => {
      const certDir = await tempDir('crdns-helm-tls-');
      await makePeeringTls(certDir, 'crdns-peer.test');
      const tlsArgs = tls ? ['--set', 'peering.tls.enabled=true', '--set', 'peering.tls.secretName=peering-tls', '--set', 'peering.tls.serverName=crdns-peer.test'] : ['--set', 'peering.tls.enabled=false'];
      const mounts: Record<string, string> = tls ? { '/etc/crdns/peering-tls': certDir } : {};

      const peeringPort = await freePort();
      const b = await startCluster(
        ['-f', CI_VALUES('minimal'), '--set', 'peering.serve=true', '--set', `peering.port=${peeringPort}`, ...tlsArgs],
        [a('both.example.org', '192.0.2.2'), a('only-b.example.org', '192.0.2.22')],
        mounts,
      );
      assert.match(b.corefile, new RegExp(`^grpc://example\\.org:${peeringPort} \\{`, 'm'));
      assert.equal(b.corefile.includes('client_auth require_and_verify'), tls);

      const aArgs = ['-f', CI_VALUES('minimal'), '--set', `peering.fallbackTo={127.0.0.1:${peeringPort}}`, '--set', 'coredns.cache.enabled=false', ...tlsArgs];
      if (tls) aArgs.push('--set', `peering.fallbackPorts.local=${await freePort()}`, '--set', `peering.fallbackPorts.peers=${await freePort()}`);
      const clusterA = await startCluster(aArgs, [a('both.example.org', '192.0.2.1')], mounts);
      assert.equal(/forward \. 127\.0\.0\.1:\d+ 127\.0\.0\.1:\d+/.test(clusterA.corefile), tls, clusterA.corefile);

      // Local crdns up: its answer wins, NXDOMAIN included (an answer is never failed over).
      // CoreDNS answers (SERVFAIL) before its loopback forward tiers are listening; wait for a real answer first.
      const first = await pollUntil(() => dig('both.example.org', 'A', { port: clusterA.dnsPort }), (r) => r.status === 'NOERROR', 'cluster A answering', 30000, 100);
      assert.deepEqual(first.answer.map((r) => r.rdata), ['192.0.2.1']);
      assert.equal((await dig('only-b.example.org', 'A', { port: clusterA.dnsPort })).status, 'NXDOMAIN');

      await clusterA.crdns.kill();
      for (const tcp of [false, true]) {
        const r = await dig('both.example.org', 'A', { port: clusterA.dnsPort, tcp });
        assert.equal(r.status, 'NOERROR', `${tcp ? 'TCP' : 'UDP'} after local crdns died:\n${r.output}\n--- CoreDNS A ---\n${clusterA.coredns.logs()}\n--- CoreDNS B ---\n${b.coredns.logs()}`);
        assert.deepEqual(r.answer.map((x) => x.rdata), ['192.0.2.2'], 'answered by cluster B');
      }
      assert.deepEqual((await dig('only-b.example.org', 'A', { port: clusterA.dnsPort })).answer.map((r) => r.rdata), ['192.0.2.22']);

      // B down too: A has nobody left.
      await b.crdns.kill();
      assert.equal((await dig('both.example.org', 'A', { port: clusterA.dnsPort })).status, 'SERVFAIL');
    });
  }

  it('workers: 2 with peer fallback in plaintext: CoreDNS takes turns over both workers\' sockets, and falls back to the peer only when crdns is gone', async () => {
    const peeringPort = await freePort();
    const peer = await startCluster(['-f', CI_VALUES('minimal'), '--set', 'peering.serve=true', '--set', `peering.port=${peeringPort}`, '--set', 'peering.tls.enabled=false'], [a('both.example.org', '192.0.2.2')]);
    const aArgs = [
      '-f', CI_VALUES('minimal'), '--set', `peering.fallbackTo={127.0.0.1:${peeringPort}}`, '--set', 'coredns.cache.enabled=false', '--set', 'peering.tls.enabled=false',
      '--set', `peering.fallbackPorts.local=${await freePort()}`, '--set', `peering.fallbackPorts.peers=${await freePort()}`,
    ];
    const clusterA = await startCluster(aArgs, [a('both.example.org', '192.0.2.1')], {}, 2);
    assert.match(clusterA.corefile, /forward \. 127\.0\.0\.1:\d+ 127\.0\.0\.1:\d+/, 'several workers use the forward tiers');
    assert.match(clusterA.corefile, /grpc \. unix:\/\/\S+\/crdns-0\.sock unix:\/\/\S+\/crdns-1\.sock \{\n\s+policy round_robin\n\s+\}/);
    assert.doesNotMatch(clusterA.corefile, /tls /, 'no TLS in a plaintext install');

    await pollUntil(() => dig('both.example.org', 'A', { port: clusterA.dnsPort }), (r) => r.status === 'NOERROR', 'cluster A answering', 30000, 100);
    for (let i = 0; i < 30; i++) {
      const r = await dig('both.example.org', 'A', { port: clusterA.dnsPort });
      assert.deepEqual(r.answer.map((x) => x.rdata), ['192.0.2.1'], 'answered by the local workers');
    }
    const perWorker = (await (await fetch(`http://${clusterA.metrics}/metrics`)).text()).split('\n').filter((l) => /^coredns_grpc_requests_total\{.*crdns-\d\.sock/.test(l));
    assert.equal(perWorker.length, 2, perWorker.join('\n'));
    for (const l of perWorker) assert.ok(Number(l.split(' ').pop()) >= 5, `each worker took a share: ${perWorker.join(' | ')}`);

    await clusterA.crdns.kill();
    const r = await dig('both.example.org', 'A', { port: clusterA.dnsPort });
    assert.deepEqual(r.answer.map((x) => x.rdata), ['192.0.2.2'], `answered by cluster B once every worker is gone:\n${r.output}\n--- CoreDNS A ---\n${clusterA.coredns.logs()}\n--- CoreDNS B ---\n${peer.coredns.logs()}`);
  });

  it('the full-featured Corefile loads (all plugins, peering listener with mTLS, DNSSEC, extra blocks)', async () => {
    const certDir = await tempDir('crdns-helm-tls-');
    await makePeeringTls(certDir, 'crdns-peer.example.org');
    const keyDir = await tempDir('crdns-helm-keys-');
    const gen = await run(requireTool('ldns-keygen'), ['-a', 'ECDSAP256SHA256', 'example.org'], { cwd: keyDir });
    assert.equal(gen.code, 0, gen.stderr);
    // ci/full-values.yaml names its key Kexample.org.+013+45330; give the generated one that name.
    const basename = gen.stdout.trim();
    for (const ext of ['key', 'private']) {
      const r = await run('/bin/cp', [path.join(keyDir, `${basename}.${ext}`), path.join(keyDir, `Kexample.org.+013+45330.${ext}`)]);
      assert.equal(r.code, 0, r.stderr);
    }
    const extra = ['--set', `peering.port=${await freePort()}`, '--set', `peering.fallbackPorts.local=${await freePort()}`, '--set', `peering.fallbackPorts.peers=${await freePort()}`];
    // whoami.invalid:1053 in ci/full-values.yaml is fixed; use a free port instead.
    const whoamiPort = await freePort();
    const override = path.join(certDir, 'override-values.yaml');
    await writeFile(override, `coredns:\n  extraServerBlocks: |\n    whoami.invalid:${whoamiPort} {\n        bind 127.0.0.1\n        whoami\n    }\n`);
    const c = await startCluster(
      ['-f', CI_VALUES('full'), '-f', override, ...extra],
      [a('hello.example.org', '192.0.2.10')],
      { '/etc/crdns/peering-tls': certDir, '/etc/coredns/dnssec': keyDir },
    );
    const r = await dig('hello.example.org', 'A', { port: c.dnsPort });
    assert.equal(r.status, 'NOERROR', r.output);
    assert.deepEqual(r.answer.map((x) => x.rdata), ['192.0.2.10']);
    assert.ok(r.flags.includes('ra'), 'the extraPlugins header snippet ran');
    assert.equal((await dig('whoami.invalid', 'A', { port: whoamiPort })).status, 'NOERROR');
  });
});
