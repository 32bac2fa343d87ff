/**
 * Health-aware answers: time from an EndpointSlice change (the Service's last
 * ready endpoint goes, or one comes back) to the answer change through stock
 * CoreDNS (cache off) in front of `crdns serve --source service`, against a
 * real kube-apiserver. The test plays the EndpointSlice controller: it writes
 * the slice itself. Alternates withdraw and restore, one flip at a time, each
 * followed by a tight UDP poll through CoreDNS. Prints p50/p99/max for each
 * direction, with the hold-down subtracted from withdrawals (it is a chosen
 * delay, not latency) and also reported as measured.
 *
 *   node dist/bench/readiness-flips.js [--flips 200] [--hold-down 0]
 *
 * The peer figures are ExternalDNS's documented behaviour, not measured here:
 * it reconciles every --interval (1 min) or, with --events, at most every
 * --min-event-sync-interval (5 s); EndpointSlice changes trigger it only with
 * --listen-endpoint-events; a LoadBalancer Service's record is never withdrawn
 * for lack of ready endpoints.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { DiscoveryV1Api, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import dnsPacket from 'dns-packet';
import { ControlPlane } from '../test/harness/control-plane.js';
import { startCoreDNS, udpExchange } from '../test/harness/coredns.js';
import { startCrdns } from '../test/harness/crdns-process.js';
import { percentiles } from './stats.js';

const { values } = parseArgs({ options: { flips: { type: 'string', default: '200' }, 'hold-down': { type: 'string', default: '0' } } });
const FLIPS = Number(values.flips);
const HOLD_DOWN_S = Number(values['hold-down']);
const NS = 'bench';
const NAME = 'shop.bench.test';
const LB_IP = '192.0.2.10';
const MERGE_PATCH = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

/** What CoreDNS answers for the name right now: true when the LoadBalancer address is in it. */
async function served(port: number): Promise<boolean | undefined> {
  const q = dnsPacket.encode({ type: 'query', id: Math.floor(Math.random() * 65535), questions: [{ name: NAME, type: 'A' }] });
  try {
    const r = dnsPacket.decode(await udpExchange(port, q, 1000));
    if (((r.flags ?? 0) & 0xf) === 2) return undefined;
    return (r.answers ?? []).some((a) => a.type === 'A' && a.data === LB_IP);
  } catch {
    return undefined;
  }
}

async function main(): Promise<void> {
  const plane = await ControlPlane.start();
  const sockDir = await mkdtemp(path.join(tmpdir(), 'crdns-flips-'));
  const socket = path.join(sockDir, 'crdns.sock');
  await plane.createNamespace(NS);
  await plane.apply(`apiVersion: v1
kind: Service
metadata:
  name: shop
  namespace: ${NS}
  annotations: {external-dns.kubernetes.io/hostname: ${NAME}}
spec:
  type: LoadBalancer
  ports: [{port: 80, name: http}]
  selector: {app: shop}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: shop-1, namespace: ${NS}, labels: {kubernetes.io/service-name: shop}}
addressType: IPv4
ports: [{name: http, port: 80, protocol: TCP}]
endpoints: [{addresses: [10.0.0.1], conditions: {ready: true}}]
`);
  await plane.kubectl(['patch', 'service', 'shop', '-n', NS, '--subresource=status', '--type=merge', '-p', `{"status":{"loadBalancer":{"ingress":[{"ip":"${LB_IP}"}]}}}`]);
  const crdns = await startCrdns({
    zones: ['bench.test'],
    listen: [`unix://${socket}`],
    args: ['--kubeconfig', plane.kubeconfigPath('admin'), '--source', 'service', '--health-hold-down', String(HOLD_DOWN_S), '--log-level', 'info'],
  });
  const coredns = await startCoreDNS({ corefileText: `.:{$COREDNS_PORT} {\n  bind {$COREDNS_BIND}\n  grpc . unix://${socket}\n}\n` });
  const slices = plane.kubeConfig('admin').makeApiClient(DiscoveryV1Api);
  const withdraw: number[] = [];
  const restore: number[] = [];
  const acks: number[] = [];
  let missed = 0;
  try {
    const deadline = Date.now() + 30_000;
    while ((await served(coredns.port)) !== true) {
      if (Date.now() > deadline) throw new Error('the Service is not served at start');
    }
    let ready = true;
    for (let f = 0; f < FLIPS; f++) {
      ready = !ready;
      const t0 = process.hrtime.bigint();
      await slices.patchNamespacedEndpointSlice(
        { name: 'shop-1', namespace: NS, body: { endpoints: [{ addresses: ['10.0.0.1'], conditions: { ready } }] } },
        MERGE_PATCH,
      );
      acks.push(Number(process.hrtime.bigint() - t0) / 1e6);
      const until = Date.now() + 10_000 + HOLD_DOWN_S * 1000;
      let seen = false;
      while (Date.now() < until) {
        if ((await served(coredns.port)) === ready) {
          seen = true;
          break;
        }
      }
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      if (!seen) missed++;
      else (ready ? restore : withdraw).push(ms);
    }
  } finally {
    await coredns.stop();
    await crdns.stop();
    await plane.stop();
    await rm(sockDir, { recursive: true, force: true });
  }
  const w = percentiles(withdraw.map((ms) => ms - HOLD_DOWN_S * 1000));
  const wRaw = percentiles(withdraw);
  const r = percentiles(restore);
  const a = percentiles(acks);
  console.log(`\nReadiness flips, EndpointSlice write → answer change through CoreDNS (cache off), ${FLIPS} flips, hold-down ${HOLD_DOWN_S} s, ${cpus().length} × ${cpus()[0]?.model ?? '?'}, ${new Date().toISOString()}`);
  console.log(`API write acknowledged: p50 ${a.p50.toFixed(1)} ms, p99 ${a.p99.toFixed(1)} ms (included below)`);
  console.log('| system | change | flips | p50 ms | p99 ms | max ms | not seen in time |');
  console.log('|---|---|---|---|---|---|---|');
  console.log(`| crdns --source service + CoreDNS grpc | last ready endpoint gone → withdrawn (minus the hold-down) | ${withdraw.length} | ${w.p50.toFixed(1)} | ${w.p99.toFixed(1)} | ${w.max.toFixed(1)} | ${missed} |`);
  if (HOLD_DOWN_S > 0) console.log(`| | same, as measured | ${withdraw.length} | ${wRaw.p50.toFixed(1)} | ${wRaw.p99.toFixed(1)} | ${wRaw.max.toFixed(1)} | |`);
  console.log(`| crdns --source service + CoreDNS grpc | endpoint ready → served | ${restore.length} | ${r.p50.toFixed(1)} | ${r.p99.toFixed(1)} | ${r.max.toFixed(1)} | |`);
  console.log('| ExternalDNS --events --listen-endpoint-events (documented, not measured) | either | — | ≥ 5000 | — | — | LoadBalancer: never withdrawn |');
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
