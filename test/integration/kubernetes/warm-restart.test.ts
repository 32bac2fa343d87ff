/**
 * Warm restart with a real control plane and the real `crdns serve` process:
 * crdns keeps --snapshot-file current; restarted while kube-apiserver is
 * down, it answers from the file (saying so in /readyz and metrics) until
 * the API server is back and its first live listing replaces the file's data.
 * A corrupt file is ignored with a log line and nothing is served from it.
 *
 * No timing is asserted: every wait is a poll with a generous deadline.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ControlPlane } from '../../harness/control-plane.js';
import { startCrdns, type CrdnsProcess } from '../../harness/crdns-process.js';
import { queryClient, type QueryClient } from '../../../src/cli/query.js';
import { presentRecord } from '../../../src/dns/presentation.js';
import { decodeSnapshot } from '../../../src/store/snapshot-file.js';
import { eventually, pollUntil } from '../../support/eventually.js';

const NS = 'warm';
const WAIT_SECONDS = 2;

function endpointYaml(name: string, endpoints: string): string {
  return `apiVersion: externaldns.k8s.io/v1alpha1
kind: DNSEndpoint
metadata: {name: ${name}, namespace: ${NS}}
spec:
  endpoints:
${endpoints}`;
}

interface Readyz {
  ready: boolean;
  servingFrom?: string;
  snapshotAgeSeconds: number | null;
  connected?: boolean;
  snapshotFile?: { load: string; serving: boolean; partitions?: string[]; writtenAt?: string; dataAgeSeconds?: number };
}

describe('warm restart from --snapshot-file against a real kube-apiserver', function () {
  this.timeout(900_000);
  let plane: ControlPlane;
  let dir: string;
  let file: string;
  let crdns: CrdnsProcess | undefined;
  let client: QueryClient | undefined;

  const start = async (waitReady = true): Promise<CrdnsProcess> => {
    client?.close();
    crdns = await startCrdns({
      zones: ['warm.test'],
      http: '127.0.0.1:0',
      waitReady,
      timeoutMs: 180_000,
      args: ['--kubeconfig', plane.kubeconfigPath('crdns'), '--snapshot-file', file, '--snapshot-wait', String(WAIT_SECONDS)],
    });
    client = queryClient(crdns.addresses[0] as string, 3000);
    return crdns;
  };
  const stopCrdns = async (): Promise<void> => {
    client?.close();
    client = undefined;
    await crdns?.stop();
    crdns = undefined;
  };
  const answer = async (name: string, type = 'A'): Promise<{ rcode: number; answer: string[] } | { error: string }> => {
    try {
      const r = await (client as QueryClient).ask(name, type);
      return { rcode: (r.flags ?? 0) & 0xf, answer: (r.answers ?? []).map((a) => presentRecord(a).split(/\s+/).at(-1) as string).sort() };
    } catch (err) {
      return { error: (err as Error).message };
    }
  };
  const readyz = async (): Promise<{ status: number; body: Readyz }> => {
    const r = await fetch(`http://${crdns?.httpAddress()}/readyz`);
    return { status: r.status, body: (await r.json()) as Readyz };
  };
  const metrics = async (): Promise<(name: string) => number> => {
    const text = await fetch(`http://${crdns?.httpAddress()}/metrics`).then((r) => r.text());
    return (name) => {
      const escaped = name.replace(/[{}"]/g, (c) => `\\${c}`);
      return Number(new RegExp(`^${escaped} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);
    };
  };
  const fileObjects = async (): Promise<string[]> => {
    const decoded = decodeSnapshot(await readFile(file, 'utf8'));
    if (!decoded.ok) throw new Error(decoded.reason);
    return decoded.contents.partitions.flatMap((p) => p.objects.map((o) => `${p.name} ${o.key} ${JSON.stringify(o.endpoints)}`));
  };

  before(async () => {
    plane = await ControlPlane.start();
    await plane.grantCrdnsRbac();
    await plane.createNamespace(NS);
    dir = await mkdtemp(path.join(tmpdir(), 'crdns-warm-'));
    file = path.join(dir, 'snapshot.json');
  });

  after(async () => {
    await stopCrdns();
    await plane?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('writes the file once live DNSEndpoints are served', async () => {
    await start();
    await plane.apply(endpointYaml('web', '  - {dnsName: www.warm.test, recordType: A, targets: [10.7.0.1]}'));
    await plane.apply(endpointYaml('gone', '  - {dnsName: gone.warm.test, recordType: A, targets: [10.7.0.9]}'));
    await pollUntil(() => answer('gone.warm.test'), (r) => 'answer' in r && r.answer.length === 1, 'both served live', 60_000, 100);
    const objects = await pollUntil(fileObjects, (o) => o.some((l) => l.includes('warm/web') && l.includes('10.7.0.1')) && o.some((l) => l.includes('warm/gone')), 'the file holds both objects', 60_000, 200);
    assert.ok(objects.every((l) => l.startsWith('cluster:local ')), objects.join('\n'));
    const m = await metrics();
    assert.ok(m('crdns_snapshot_file_writes_total') >= 1);
    assert.equal(m('crdns_snapshot_file_write_failures_total'), 0);
    assert.equal(m('crdns_snapshot_file_load{result="absent"}'), 1);
    assert.equal(m('crdns_snapshot_serving'), 0);
    assert.equal((await readyz()).body.servingFrom, undefined);
  });

  it('restarted while the API server is down, answers from the file and says so in /readyz and metrics', async () => {
    await stopCrdns();
    // Deleted while crdns is away: the file still has it, which makes the file's data visible as such.
    await plane.kubectl(['delete', 'dnsendpoint', 'gone', '-n', NS]);
    await plane.stopApiserver();
    await start();
    assert.deepEqual(await answer('www.warm.test'), { rcode: 0, answer: ['10.7.0.1'] });
    assert.deepEqual(await answer('gone.warm.test'), { rcode: 0, answer: ['10.7.0.9'] }, 'the file\'s data, as it was');
    const { status, body } = await readyz();
    assert.equal(status, 200, 'ready: it answers, from the file');
    assert.equal(body.servingFrom, 'snapshot-file');
    assert.equal(body.connected, false);
    assert.equal(body.snapshotFile?.load, 'served');
    assert.deepEqual(body.snapshotFile?.partitions, ['cluster:local']);
    assert.ok(typeof body.snapshotFile?.writtenAt === 'string');
    assert.ok((body.snapshotAgeSeconds ?? 0) > 0, 'the age counts from when the data was built, before this crdns started');
    const m = await metrics();
    assert.equal(m('crdns_snapshot_serving'), 1);
    assert.equal(m('crdns_snapshot_file_load{result="served"}'), 1);
    assert.ok(m('crdns_snapshot_age_seconds') > 0);
    assert.equal(m('crdns_ready'), 1);
    assert.match(crdns?.logs() ?? '', /"msg":"sources not listed in time; serving the snapshot file until they do"/);
  });

  it('replaces the file\'s data with the live listing once the API server is back', async () => {
    await plane.startApiserver();
    await plane.apply(endpointYaml('web', '  - {dnsName: www.warm.test, recordType: A, targets: [10.7.0.2]}'));
    await pollUntil(() => answer('www.warm.test'), (r) => 'answer' in r && r.answer[0] === '10.7.0.2', 'the change made after the return', 180_000, 100);
    await pollUntil(() => answer('gone.warm.test'), (r) => 'rcode' in r && r.rcode === 3, 'the object deleted meanwhile is gone', 60_000, 100);
    const { status, body } = await readyz();
    assert.equal(status, 200);
    assert.equal(body.servingFrom, undefined);
    assert.equal(body.snapshotFile?.serving, false);
    assert.equal((await metrics())('crdns_snapshot_serving'), 0);
    assert.match(crdns?.logs() ?? '', /"msg":"live listing replaces the snapshot file's data"/);
    await pollUntil(fileObjects, (o) => o.length === 1 && (o[0] ?? '').includes('10.7.0.2'), 'the file follows the live data', 60_000, 200);
  });

  it('ignores a corrupt file with a log line and serves nothing from it', async () => {
    await stopCrdns();
    const text = await readFile(file, 'utf8');
    const at = text.indexOf('10.7.0.2');
    assert.ok(at > 0);
    await writeFile(file, `${text.slice(0, at)}10.6${text.slice(at + 4)}`);
    await plane.stopApiserver();
    await start(false);
    await eventually('the log line', () => (crdns?.logs() ?? '').includes('"msg":"snapshot file ignored: corrupt or truncated"'), () => crdns?.logs() ?? '', 60_000, 100);
    assert.match(crdns?.logs() ?? '', /"reason":"the file does not match its SHA-256 checksum"/);
    // Well past the wait: had the file been used, it would be serving by now.
    await new Promise((r) => setTimeout(r, (WAIT_SECONDS + 5) * 1000));
    const r = await answer('www.warm.test');
    assert.ok('error' in r && /UNAVAILABLE/.test(r.error), JSON.stringify(r));
    const { status, body } = await readyz();
    assert.equal(status, 503);
    assert.equal(body.snapshotFile?.load, 'corrupt');
    const m = await metrics();
    assert.equal(m('crdns_snapshot_file_load{result="corrupt"}'), 1);
    assert.equal(m('crdns_snapshot_serving'), 0);
    assert.doesNotMatch(crdns?.logs() ?? '', /serving the snapshot file/);

    await plane.startApiserver();
    await pollUntil(() => answer('www.warm.test'), (r) => 'answer' in r && r.answer[0] === '10.7.0.2', 'live data once the API server is back', 180_000, 100);
    await pollUntil(fileObjects, (o) => o.length === 1 && (o[0] ?? '').includes('10.7.0.2'), 'a good file written over the corrupt one', 60_000, 200);
  });
});
