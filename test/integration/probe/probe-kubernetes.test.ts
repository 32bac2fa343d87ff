/**
 * `crdns probe` against two real control planes (etcd + kube-apiserver
 * each), a crdns per cluster watching its own API server and the other's as
 * a peer. The probe writes DNSEndpoints in both clusters and asks cluster b's
 * crdns only for cluster a's names: written in one cluster, read in another.
 * Checks leftovers of an earlier run go at start, propagation of creates,
 * updates and deletes is measured (across clusters too), and nothing the
 * probe owns is left at exit while other objects stay.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ControlPlane } from '../../harness/control-plane.js';
import { startCrdns, type CrdnsProcess } from '../../harness/crdns-process.js';
import { installPeerReader, writeReaderKubeconfig } from '../../harness/peer-reader.js';
import { DATA_ERRORS, readSummary, startProbe, windowOf } from './support.js';

const ZONE = 'probe.test';
const NS = 'probe';
const CLUSTERS = ['a', 'b'] as const;

const endpoint = (name: string, dnsName: string, labels: string) => `apiVersion: externaldns.k8s.io/v1alpha1
kind: DNSEndpoint
metadata: {name: ${name}, namespace: ${NS}, labels: {${labels}}}
spec:
  endpoints:
  - {dnsName: ${dnsName}, recordType: A, targets: [10.200.0.1]}
`;

describe('crdns probe against real kube-apiservers, writing in two clusters and reading across', function () {
  this.timeout(900_000);
  const planes = new Map<string, ControlPlane>();
  const servers = new Map<string, CrdnsProcess>();
  let dir: string;

  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'crdns-probe-k8s-'));
    for (const name of CLUSTERS) {
      const plane = await ControlPlane.start();
      planes.set(name, plane);
      await plane.grantCrdnsRbac();
      await plane.createNamespace(NS);
      await installPeerReader(plane);
    }
    for (const name of CLUSTERS) {
      const other = name === 'a' ? 'b' : 'a';
      const file = path.join(dir, `${name}-sees-${other}.yaml`);
      await writeReaderKubeconfig(planes.get(other) as ControlPlane, file);
      servers.set(
        name,
        await startCrdns({
          zones: [ZONE],
          listen: [`unix://${path.join(dir, `${name}.sock`)}`],
          args: ['--kubeconfig', (planes.get(name) as ControlPlane).kubeconfigPath('crdns'), '--cluster', name, '--peer', `${other}=${file}`],
        }),
      );
    }
    const a = planes.get('a') as ControlPlane;
    // An earlier run's leftover (its label), and an object that is nobody's business of the probe's.
    await a.apply(endpoint('probe-a-old', 'probe-old.a.probe.test', '"crdns.io/probe": probe'));
    await a.apply(endpoint('keep-me', 'keep-me.a.probe.test', 'team: dns'));
  });

  after(async () => {
    for (const s of servers.values()) await s.stop();
    for (const p of planes.values()) await p.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('measures propagation in and across clusters, and leaves nothing it owns behind', async () => {
    const json = path.join(dir, 'summary.json');
    const a = planes.get('a') as ControlPlane;
    const b = planes.get('b') as ControlPlane;
    const p = startProbe([
      '--zone', ZONE, '--namespace', NS,
      '--cluster', `a=${a.kubeconfigPath('admin')}`, '--cluster', `b=${b.kubeconfigPath('admin')}`,
      '--server', (servers.get('a') as CrdnsProcess).addresses[0] as string,
      '--server', `${(servers.get('b') as CrdnsProcess).addresses[0] as string}?clusters=a`,
      '--names', '8', '--churn-names', '2', '--absent-names', '2', '--qps', '30',
      '--update-every', '1', '--create-delete-every', '2', '--duration', '15', '--timeout', '5000',
      '--settle-timeout', '120', '--progress', '0', '--json', json,
    ]);
    assert.equal(await p.exited, 0, p.stderr());
    assert.match(p.stderr(), /probe: a: deleted 1 object left by an earlier run of probe probe/);
    const s = await readSummary(json);
    assert.ok(s.settled, p.stderr());
    assert.ok(s.writes.every((w) => w.failed === 0), JSON.stringify(s.writes));

    const local = windowOf(s, 0, 'run');
    for (const g of DATA_ERRORS) assert.equal(local.grades[g], 0, `${g}: ${JSON.stringify(local.grades)}`);
    for (const op of ['create', 'update', 'delete'] as const) assert.ok(local.propagation.seenByOp[op] > 0, `${op}: ${JSON.stringify(local.propagation)}`);
    assert.ok((local.byCluster?.a?.match ?? 0) > 0 && (local.byCluster?.b?.match ?? 0) > 0, `cluster a's crdns answers for a and b: ${JSON.stringify(local.byCluster)}`);

    // Cluster b's crdns, asked only cluster a's names: each of these was written in a and read in b.
    assert.deepEqual(s.servers[1]?.clusters, ['a']);
    const across = windowOf(s, 1, 'run');
    assert.deepEqual(Object.keys(across.byCluster ?? {}), ['a']);
    for (const g of DATA_ERRORS) assert.equal(across.grades[g], 0, `${g}: ${JSON.stringify(across.grades)}`);
    assert.ok(across.grades.match > 0);
    assert.ok(across.propagation.seen > 0, `cross-cluster propagation measured: ${JSON.stringify(across.propagation)}`);

    for (const plane of [a, b]) {
      const owned = await plane.getJson<{ items: unknown[] }>(['dnsendpoints', '-n', NS, '-l', 'crdns.io/probe=probe']);
      assert.deepEqual(owned.items, [], 'the probe deletes what it owns at exit');
    }
    const kept = await a.getJson<{ metadata: { name: string } }>(['dnsendpoint', 'keep-me', '-n', NS]);
    assert.equal(kept.metadata.name, 'keep-me');
  });
});
