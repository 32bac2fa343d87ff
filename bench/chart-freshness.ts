/**
 * The chart's default install, measured with `crdns probe` through the
 * Corefile the chart renders: how soon a change is answered by the pod's
 * CoreDNS (its cache included), and what clients get while crdns is killed
 * and restarted. crdns serves a manifest folder the probe writes to (the
 * Kubernetes watch adds its own delay, measured in bench/propagation.ts).
 *
 *   node dist/bench/chart-freshness.js [--seconds 90] [--kill-at 30|0] [--down 10] [--ttl 300] [--set KEY=VALUE ...]
 *
 * --kill-at 0: no kill, freshness alone.
 *
 * --set passes chart values, e.g. --set coredns.cache.successTtl=3600
 * --set coredns.cache.denialTtl=1800 for the cache as it was before the
 * 1 s cap, to compare in the same run conditions.
 */
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { RunSummary } from '../src/probe/summary.js';
import { freePort } from '../test/harness/ports.js';
import { CRDNS_MAIN, startCrdns, type CrdnsProcess } from '../test/harness/crdns-process.js';
import { CI_VALUES, cleanupHelmHome, corefileOf, loopbackOnly, render, runCoredns } from '../test/integration/helm/support.js';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '90' },
    'kill-at': { type: 'string', default: '30' },
    down: { type: 'string', default: '10' },
    ttl: { type: 'string', default: '300' },
    set: { type: 'string', multiple: true, default: [] },
  },
});
const ZONE = 'example.org';

async function main(): Promise<void> {
  const dir = await mkdtemp(path.join(tmpdir(), 'crdns-freshness-'));
  const manifests = path.join(dir, 'manifests');
  const socketDir = path.join(dir, 'sock');
  await Promise.all([mkdir(manifests), mkdir(socketDir)]);
  const dnsPort = await freePort();
  const args = ['-f', CI_VALUES('minimal'), '--set', `coredns.ports.dns=${dnsPort}`, '--set', `crdns.socketDir=${socketDir}`, '--set', 'coredns.bind={127.0.0.1}'];
  for (const p of ['health', 'ready', 'metrics']) args.push('--set', `coredns.ports.${p}=${await freePort()}`);
  for (const kv of values.set ?? []) args.push('--set', kv);
  const corefile = loopbackOnly(corefileOf(await render(args)));
  const socket = `unix://${socketDir}/crdns.sock`;
  const startServe = () => startCrdns({ zones: [ZONE], manifests, listen: [socket] });
  let crdns: CrdnsProcess = await startServe();
  const coredns = await runCoredns(corefile, dnsPort);
  const json = path.join(dir, 'summary.json');
  const probe = spawn(
    process.execPath,
    [
      CRDNS_MAIN, 'probe', '--zone', ZONE, '--manifests', `local=${manifests}`, '--server', `udp://127.0.0.1:${dnsPort}`,
      '--names', '50', '--qps', '50', '--update-every', '1', '--create-delete-every', '5', '--ttl', values.ttl as string,
      '--duration', values.seconds as string, '--events', '-', '--json', json, '--progress', '0',
    ],
    { env: Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('CRDNS_'))), stdio: ['pipe', 'pipe', 'pipe'] },
  );
  let out = '';
  let err = '';
  probe.stdout.on('data', (d: Buffer) => (out += d.toString()));
  probe.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((resolve) => probe.once('exit', resolve));
  try {
    while (!/grading from/.test(err)) {
      if (probe.exitCode !== null) throw new Error(`probe exited: ${err}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    if (Number(values['kill-at']) > 0) {
      await new Promise((r) => setTimeout(r, Number(values['kill-at']) * 1000));
      probe.stdin.write('start crdns SIGKILLed\n');
      await crdns.kill();
      await new Promise((r) => setTimeout(r, Number(values.down) * 1000));
      crdns = await startServe();
      probe.stdin.write('end crdns restarted\n');
    }
    if ((await exited) !== 0) throw new Error(`probe failed:\n${err}`);
  } finally {
    if (probe.exitCode === null) probe.kill('SIGKILL');
    await crdns.stop();
    await coredns.stop();
    await cleanupHelmHome();
  }
  const summary = JSON.parse(await readFile(json, 'utf8')) as RunSummary;
  await rm(dir, { recursive: true, force: true });
  console.log(`\nThe chart's default Corefile, measured with crdns probe (manifest folder source), ${new Date().toISOString()}, ${cpus().length} × ${cpus()[0]?.model ?? '?'}, record TTL ${values.ttl} s${values.set?.length ? `, --set ${values.set.join(' ')}` : ''}`);
  console.log('| window | queries | accuracy | stale | SERVFAIL | timeout | missing/unexpected | propagation p50 / p99 / max s (bound) | unseen |');
  console.log('|---|---|---|---|---|---|---|---|---|');
  for (const w of summary.servers[0]?.windows ?? []) {
    const p = w.propagation.seconds;
    console.log(`| ${w.window} | ${w.queries} | ${w.accuracy === null ? '-' : (w.accuracy * 100).toFixed(2)} % | ${w.grades.stale} | ${w.grades.servfail} | ${w.grades.timeout} | ${w.grades.missing + w.grades.unexpected} | ${p ? `${p.p50.toFixed(2)} / ${p.p99.toFixed(2)} / ${p.max.toFixed(2)}` : '-'} (±${w.propagation.maxBoundSeconds?.toFixed(2) ?? '-'}) | ${w.propagation.unseen} |`);
  }
  console.log(out.trim().split('\n').slice(-3).join('\n'));
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
