/**
 * crdns at scale with the Kubernetes source: initial sync time and resident
 * memory at 1k, 10k and 100k endpoints (100 endpoints per DNSEndpoint), and
 * Query qps at the largest size next to qps at 100 endpoints, same load
 * generator, same run.
 *
 *   node dist/bench/kubernetes-scale.js [--sizes 1000,10000,100000]
 */
import { cpus } from 'node:os';
import { parseArgs } from 'node:util';
import { CustomObjectsApi } from '@kubernetes/client-node';
import dnsPacket from 'dns-packet';
import { ControlPlane } from '../test/harness/control-plane.js';
import { startCrdns } from '../test/harness/crdns-process.js';
import { grpcLoad, type LoadResult } from './grpc-load.js';

const { values } = parseArgs({ options: { sizes: { type: 'string', default: '100,1000,10000,100000' }, seconds: { type: 'string', default: '8' } } });
const SIZES = (values.sizes as string).split(',').map(Number);
const PER_OBJECT = 100;
const GROUP = { group: 'externaldns.k8s.io', version: 'v1alpha1', plural: 'dnsendpoints' };

function object(ns: string, o: number, count: number) {
  const endpoints = Array.from({ length: count }, (_, k) => {
    const i = o * PER_OBJECT + k;
    return { dnsName: `h${i}.scale.test`, recordType: 'A', targets: [`10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`], recordTTL: 60 };
  });
  return { apiVersion: 'externaldns.k8s.io/v1alpha1', kind: 'DNSEndpoint', metadata: { name: `o${o}`, namespace: ns }, spec: { endpoints } };
}

async function rssOf(pid: number): Promise<number> {
  const { readFile } = await import('node:fs/promises');
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? NaN) / 1024;
}

async function main(): Promise<void> {
  const plane = await ControlPlane.start();
  const api = plane.kubeConfig('admin').makeApiClient(CustomObjectsApi);
  const rows: string[] = [];
  const qps: [number, LoadResult][] = [];
  try {
    for (const size of SIZES) {
      const ns = `scale-${size}`;
      await plane.createNamespace(ns);
      const objects = Math.ceil(size / PER_OBJECT);
      for (let o = 0; o < objects; o += 8) {
        await Promise.all(Array.from({ length: Math.min(8, objects - o) }, (_, k) => api.createNamespacedCustomObject({ ...GROUP, namespace: ns, body: object(ns, o + k, Math.min(PER_OBJECT, size - (o + k) * PER_OBJECT)) })));
      }
      const t0 = Date.now();
      const crdns = await startCrdns({ zones: ['scale.test'], listen: ['127.0.0.1:0'], args: ['--kubeconfig', plane.kubeconfigPath('admin'), '--namespace', ns], timeoutMs: 600_000 });
      const syncMs = Date.now() - t0;
      const rss = await rssOf(crdns.child.pid as number);
      rows.push(`| ${size} | ${objects} | ${(syncMs / 1000).toFixed(2)} | ${rss.toFixed(0)} |`);
      if (size === SIZES[0] || size === SIZES.at(-1)) {
        const messages = Array.from({ length: 2000 }, (_, k) => dnsPacket.encode({ type: 'query', id: k, questions: [{ name: `h${(k * 7919) % (size * 2)}.scale.test`, type: 'A' }] }));
        qps.push([size, await grpcLoad(crdns.addresses[0] as string, messages, { concurrency: 64, seconds: Number(values.seconds), warmupSeconds: 2 })]);
      }
      await crdns.stop();
    }
  } finally {
    await plane.stop();
  }
  console.log(`\nKubernetes source at scale, ${PER_OBJECT} endpoints per DNSEndpoint, ${cpus().length} × ${cpus()[0]?.model ?? '?'}, ${new Date().toISOString()}`);
  console.log('| endpoints | objects | process start → SERVING (s) | RSS after sync (MiB) |');
  console.log('|---|---|---|---|');
  for (const r of rows) console.log(r);
  console.log('\n| endpoints | qps | p50 ms | p99 ms | rcodes |');
  console.log('|---|---|---|---|---|');
  for (const [size, r] of qps) console.log(`| ${size} | ${Math.round(r.qps)} | ${r.p50Ms.toFixed(2)} | ${r.p99Ms.toFixed(2)} | ${JSON.stringify(r.rcodes)} |`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
