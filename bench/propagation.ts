/**
 * Propagation delay: time from a DNSEndpoint write to the Kubernetes API
 * until stock CoreDNS (cache off) in front of crdns answers with the new
 * data. 200 updates at 10 per second across 20 objects, each followed by a
 * tight UDP poll through CoreDNS. Prints p50/p99/max.
 *
 *   node dist/bench/propagation.js [--updates 200] [--rate 10]
 *
 * The peer figure is ExternalDNS's documented floor: with --events it waits
 * at least --min-event-sync-interval (default 5 s) after a change before its
 * reconcile even starts (1 min --interval without --events); not measured here.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { CustomObjectsApi, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import dnsPacket from 'dns-packet';
import { ControlPlane } from '../test/harness/control-plane.js';
import { startCoreDNS, udpExchange } from '../test/harness/coredns.js';
import { startCrdns } from '../test/harness/crdns-process.js';
import { percentiles } from './stats.js';

const { values } = parseArgs({ options: { updates: { type: 'string', default: '200' }, rate: { type: 'string', default: '10' }, objects: { type: 'string', default: '20' } } });
const UPDATES = Number(values.updates);
const RATE = Number(values.rate);
const OBJECTS = Number(values.objects);
const NS = 'bench';
const MERGE_PATCH = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
const GROUP = { group: 'externaldns.k8s.io', version: 'v1alpha1', plural: 'dnsendpoints' };

function body(i: number, ip: string) {
  return { apiVersion: 'externaldns.k8s.io/v1alpha1', kind: 'DNSEndpoint', metadata: { name: `obj${i}`, namespace: NS }, spec: { endpoints: [{ dnsName: `host${i}.bench.test`, recordType: 'A', targets: [ip], recordTTL: 5 }] } };
}

async function answerIs(port: number, name: string, ip: string): Promise<boolean> {
  const q = dnsPacket.encode({ type: 'query', id: Math.floor(Math.random() * 65535), questions: [{ name, type: 'A' }] });
  try {
    const r = dnsPacket.decode(await udpExchange(port, q, 1000));
    return (r.answers ?? []).some((a) => a.type === 'A' && a.data === ip);
  } catch {
    return false;
  }
}

async function main(): Promise<void> {
  const plane = await ControlPlane.start();
  const sockDir = await mkdtemp(path.join(tmpdir(), 'crdns-prop-'));
  const socket = path.join(sockDir, 'crdns.sock');
  await plane.createNamespace(NS);
  const api = plane.kubeConfig('admin').makeApiClient(CustomObjectsApi);
  for (let i = 0; i < OBJECTS; i++) await api.createNamespacedCustomObject({ ...GROUP, namespace: NS, body: body(i, '10.0.0.1') });
  const crdns = await startCrdns({ zones: ['bench.test'], listen: [`unix://${socket}`], args: ['--kubeconfig', plane.kubeconfigPath('admin'), '--log-level', 'info'] });
  const coredns = await startCoreDNS({ corefileText: `.:{$COREDNS_PORT} {\n  bind {$COREDNS_BIND}\n  grpc . unix://${socket}\n}\n` });
  const delays: number[] = [];
  let failures = 0;
  try {
    const pending: Promise<void>[] = [];
    const started = Date.now();
    for (let u = 0; u < UPDATES; u++) {
      const due = started + (u * 1000) / RATE;
      await new Promise((r) => setTimeout(r, Math.max(0, due - Date.now())));
      const i = u % OBJECTS;
      const ip = `10.${1 + Math.floor(u / 65536)}.${Math.floor(u / 256) % 256}.${u % 256}`;
      pending.push(
        // A failed write counts as a failure; it must not reject while the loop still schedules,
        // or the unhandled rejection ends the process before `finally` stops the peers.
        (async () => {
          const t0 = process.hrtime.bigint();
          // A merge patch, as `kubectl patch --type merge` sends: crdns writes status too, so a PUT would race it.
          await api.patchNamespacedCustomObject({ ...GROUP, namespace: NS, name: `obj${i}`, body: { spec: body(i, ip).spec } }, MERGE_PATCH);
          const deadline = Date.now() + 10_000;
          while (Date.now() < deadline) {
            if (await answerIs(coredns.port, `host${i}.bench.test`, ip)) {
              delays.push(Number(process.hrtime.bigint() - t0) / 1e6);
              return;
            }
          }
          failures++;
        })().catch((err: unknown) => {
          failures++;
          console.error(`update ${u} failed: ${String(err)}`);
        }),
      );
    }
    await Promise.all(pending);
  } finally {
    await coredns.stop();
    await crdns.stop();
    await plane.stop();
    await rm(sockDir, { recursive: true, force: true });
  }
  const p = percentiles(delays);
  console.log(`\nPropagation, API write → first correct answer through CoreDNS (cache off), ${UPDATES} updates at ${RATE}/s over ${OBJECTS} objects, ${cpus().length} × ${cpus()[0]?.model ?? '?'}, ${new Date().toISOString()}`);
  console.log('| system | p50 ms | p99 ms | max ms | not seen within 10 s |');
  console.log('|---|---|---|---|---|');
  console.log(`| crdns (watch) + CoreDNS grpc | ${p.p50.toFixed(1)} | ${p.p99.toFixed(1)} | ${p.max.toFixed(1)} | ${failures} |`);
  console.log('| ExternalDNS --events (documented floor, not measured) | ≥ 5000 | ≥ 5000 | — | — |');
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
