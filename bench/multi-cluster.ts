/**
 * Multi-cluster figures with real processes: three control planes, a crdns
 * per cluster watching all three (read-only peer tokens), stock CoreDNS
 * (cache off) in front of cluster a's crdns.
 *
 *  1. cross-cluster propagation: a merge patch in cluster b → first correct
 *     answer from a's CoreDNS; --updates at --rate over 20 objects;
 *  2. a peer's death → its targets withdrawn in a (grace + detection), --rounds times;
 *  3. scale: --endpoints per cluster (100 per object), RSS of a's crdns once
 *     all three are synced, and a one-object change in b at that size.
 *
 *   node dist/bench/multi-cluster.js [--updates 200] [--rate 10] [--rounds 3] [--endpoints 10000] [--grace 5]
 *
 * The peer figure: the talk's mesh needs an ExternalDNS sync in every cluster
 * to carry a change across (at least --min-event-sync-interval, 5 s, with
 * --events; the 1 min --interval without), and does not withdraw a dead
 * cluster's records at all. Documented figures, not measured here.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { CustomObjectsApi, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import dnsPacket from 'dns-packet';
import { ControlPlane } from '../test/harness/control-plane.js';
import { startCoreDNS, udpExchange, type CorednsProcess } from '../test/harness/coredns.js';
import { startCrdns, type CrdnsProcess } from '../test/harness/crdns-process.js';
import { installPeerReader, writeReaderKubeconfig } from '../test/harness/peer-reader.js';
import { percentiles } from './stats.js';

const { values } = parseArgs({
  options: {
    updates: { type: 'string', default: '200' },
    rate: { type: 'string', default: '10' },
    rounds: { type: 'string', default: '3' },
    endpoints: { type: 'string', default: '10000' },
    grace: { type: 'string', default: '5' },
  },
});
const UPDATES = Number(values.updates);
const RATE = Number(values.rate);
const ROUNDS = Number(values.rounds);
const ENDPOINTS = Number(values.endpoints);
const GRACE_S = Number(values.grace);
const NAMES = ['a', 'b', 'c'] as const;
const NS = 'bench';
const ZONE = 'mesh.test';
const MERGE_PATCH = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
const GROUP = { group: 'externaldns.k8s.io', version: 'v1alpha1', plural: 'dnsendpoints' };

function object(name: string, endpoints: { dnsName: string; recordType: string; targets: string[] }[]) {
  return { apiVersion: 'externaldns.k8s.io/v1alpha1', kind: 'DNSEndpoint', metadata: { name, namespace: NS }, spec: { endpoints } };
}

async function aAnswers(port: number, name: string): Promise<string[]> {
  const q = dnsPacket.encode({ type: 'query', id: Math.floor(Math.random() * 65535), questions: [{ name, type: 'A' }] });
  try {
    const r = dnsPacket.decode(await udpExchange(port, q, 1000));
    return (r.answers ?? []).filter((a) => a.type === 'A').map((a) => String((a as { data: unknown }).data));
  } catch {
    return [];
  }
}

async function rssMiB(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
}

async function until(what: string, check: () => Promise<boolean>, timeoutMs: number, stepMs = 5): Promise<number> {
  const t0 = Date.now();
  while (Date.now() - t0 < timeoutMs) {
    if (await check()) return Date.now() - t0;
    await new Promise((r) => setTimeout(r, stepMs));
  }
  throw new Error(`timed out waiting for ${what}`);
}

async function main(): Promise<void> {
  const dir = await mkdtemp(path.join(tmpdir(), 'crdns-bench-mesh-'));
  const planes = new Map<string, ControlPlane>();
  const crdns = new Map<string, CrdnsProcess>();
  let coredns: CorednsProcess | undefined;
  const rows: string[] = [];
  try {
    for (const n of NAMES) {
      const p = await ControlPlane.start();
      await p.createNamespace(NS);
      await installPeerReader(p);
      planes.set(n, p);
    }
    const api = (n: string) => (planes.get(n) as ControlPlane).kubeConfig('admin').makeApiClient(CustomObjectsApi);
    // Scale data first, so crdns starts on it: ENDPOINTS per cluster, 100 per object.
    for (const n of NAMES) {
      for (let o = 0; o < Math.ceil(ENDPOINTS / 100); o++) {
        const eps = Array.from({ length: Math.min(100, ENDPOINTS - o * 100) }, (_, k) => ({ dnsName: `h${o}-${k}.${n}.${ZONE}`, recordType: 'A', targets: [`10.${NAMES.indexOf(n)}.${o % 256}.${k}`] }));
        await api(n).createNamespacedCustomObject({ ...GROUP, namespace: NS, body: object(`scale${o}`, eps) });
      }
      for (let i = 0; i < 20; i++) await api(n).createNamespacedCustomObject({ ...GROUP, namespace: NS, body: object(`prop${i}`, [{ dnsName: `prop${i}.${n}.${ZONE}`, recordType: 'A', targets: ['10.250.0.1'] }]) });
      await api(n).createNamespacedCustomObject({ ...GROUP, namespace: NS, body: object('shared', [{ dnsName: `shared.${ZONE}`, recordType: 'A', targets: [`10.251.0.${NAMES.indexOf(n) + 1}`] }]) });
    }
    for (const n of NAMES) {
      const plane = planes.get(n) as ControlPlane;
      const peerArgs: string[] = [];
      for (const peer of NAMES.filter((x) => x !== n)) {
        const file = path.join(dir, `${n}-sees-${peer}.yaml`);
        await writeReaderKubeconfig(planes.get(peer) as ControlPlane, file);
        peerArgs.push('--peer', `${peer}=${file}`);
      }
      crdns.set(n, await startCrdns({
        zones: [ZONE],
        listen: [`unix://${path.join(dir, `${n}.sock`)}`],
        http: '127.0.0.1:0',
        args: ['--kubeconfig', plane.kubeconfigPath('admin'), '--cluster', n, ...peerArgs, '--peer-grace', String(GRACE_S)],
        timeoutMs: 120_000,
      }));
    }
    const a = crdns.get('a') as CrdnsProcess;
    coredns = await startCoreDNS({ corefileText: `.:{$COREDNS_PORT} {\n  bind {$COREDNS_BIND}\n  grpc . unix://${path.join(dir, 'a.sock')}\n}\n` });
    const port = coredns.port;
    // Wait until a serves all three clusters' data.
    await until('a serves every cluster', async () => (await aAnswers(port, `shared.${ZONE}`)).length === 3 && (await aAnswers(port, `h0-0.c.${ZONE}`)).length === 1, 180_000, 200);
    const rss = await rssMiB(a.child.pid as number);

    // 1. cross-cluster propagation, b → a
    const delays: number[] = [];
    let missed = 0;
    const pending: Promise<void>[] = [];
    const started = Date.now();
    for (let u = 0; u < UPDATES; u++) {
      await new Promise((r) => setTimeout(r, Math.max(0, started + (u * 1000) / RATE - Date.now())));
      const i = u % 20;
      const ip = `10.252.${Math.floor(u / 256) % 256}.${u % 256}`;
      pending.push(
        (async () => {
          const t0 = process.hrtime.bigint();
          await api('b').patchNamespacedCustomObject({ ...GROUP, namespace: NS, name: `prop${i}`, body: { spec: { endpoints: [{ dnsName: `prop${i}.b.${ZONE}`, recordType: 'A', targets: [ip] }] } } }, MERGE_PATCH);
          const deadline = Date.now() + 10_000;
          while (Date.now() < deadline) {
            if ((await aAnswers(port, `prop${i}.b.${ZONE}`)).includes(ip)) {
              delays.push(Number(process.hrtime.bigint() - t0) / 1e6);
              return;
            }
          }
          missed++;
        })().catch(() => void missed++),
      );
    }
    await Promise.all(pending);
    const p = percentiles(delays);

    // 2. b's death → withdrawal in a
    const withdrawals: number[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      const b = planes.get('b') as ControlPlane;
      await b.stopApiserver();
      // An answer is needed: a timed-out query says nothing about withdrawal.
      withdrawals.push(await until('b withdrawn in a', async () => {
        const got = await aAnswers(port, `shared.${ZONE}`);
        return got.length > 0 && !got.includes('10.251.0.2');
      }, 120_000));
      await b.startApiserver();
      await until('b restored in a', async () => (await aAnswers(port, `shared.${ZONE}`)).includes('10.251.0.2'), 120_000, 50);
    }

    // 3. one object changed in b at scale
    await api('b').patchNamespacedCustomObject({ ...GROUP, namespace: NS, name: 'scale0', body: { spec: { endpoints: [{ dnsName: `h0-0.b.${ZONE}`, recordType: 'A', targets: ['10.253.0.1'] }] } } }, MERGE_PATCH);
    const scaleChangeMs = await until('scale change', async () => (await aAnswers(port, `h0-0.b.${ZONE}`)).includes('10.253.0.1'), 60_000);
    const metrics = await fetch(`http://${a.httpAddress()}/metrics`).then((r) => r.text());
    const sum = Number(/crdns_snapshot_build_seconds_sum (\S+)/.exec(metrics)?.[1]);
    const count = Number(/crdns_snapshot_build_seconds_count (\S+)/.exec(metrics)?.[1]);

    rows.push(`\nMulti-cluster, 3 clusters × ${ENDPOINTS} endpoints, ${cpus().length} × ${cpus()[0]?.model ?? '?'}, ${new Date().toISOString()}`);
    rows.push('| figure | crdns | the talk\'s mesh (ExternalDNS → PowerDNS per cluster, documented) |');
    rows.push('|---|---|---|');
    rows.push(`| cross-cluster propagation b → a's CoreDNS, ${UPDATES} updates at ${RATE}/s: p50 / p99 / max | ${p.p50.toFixed(1)} / ${p.p99.toFixed(1)} / ${p.max.toFixed(1)} ms (${missed} not seen within 10 s) | ≥ 5 s (ExternalDNS --events floor), 1 min by default |`);
    rows.push(`| peer's API server stopped → its targets withdrawn in a (grace ${GRACE_S} s), ${ROUNDS} rounds | ${withdrawals.map((w) => `${(w / 1000).toFixed(2)} s`).join(', ')} (grace + ${((Math.max(...withdrawals) - GRACE_S * 1000) / 1000).toFixed(2)} s at most) | never withdrawn |`);
    rows.push(`| RSS of one crdns serving 3 × ${ENDPOINTS} endpoints | ${rss.toFixed(0)} MiB | (PowerDNS + MariaDB per cluster) |`);
    rows.push(`| one object changed in b at that size → answered by a | ${scaleChangeMs} ms; mean rebuild ${((sum / count) * 1000).toFixed(1)} ms over ${count} builds | — |`);
  } finally {
    await coredns?.stop();
    for (const c of crdns.values()) await c.stop();
    for (const p of planes.values()) await p.stop();
    await rm(dir, { recursive: true, force: true });
  }
  console.log(rows.join('\n'));
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
