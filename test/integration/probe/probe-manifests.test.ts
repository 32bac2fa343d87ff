/**
 * `crdns probe` against the real `crdns serve` on a manifest folder, over
 * gRPC on a unix socket: a quiet run, then one where crdns is stopped
 * (SIGSTOP) for a few seconds. Only structural assertions: no wrong data,
 * counts above zero, recovery after the stop; nothing that depends on how
 * fast this machine is.
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startCoreDNS } from '../../harness/coredns.js';
import { startCrdns, type CrdnsProcess } from '../../harness/crdns-process.js';
import { DATA_ERRORS, readSummary, startProbe, windowOf } from './support.js';

const ZONE = 'probe.test';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('crdns probe against crdns serve on a manifest folder', function () {
  this.timeout(300_000);
  let dir: string;
  let manifests: string;
  let crdns: CrdnsProcess;

  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'crdns-probe-it-'));
    manifests = path.join(dir, 'manifests');
    await mkdir(manifests);
    crdns = await startCrdns({ zones: [ZONE], manifests, args: ['--log-level', 'info'] });
  });

  after(async () => {
    if (crdns && crdns.child.exitCode === null) crdns.child.kill('SIGCONT');
    await crdns?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const baseArgs = (json: string) => [
    '--zone', ZONE, '--manifests', manifests, '--server', crdns.addresses[0] as string,
    '--names', '20', '--churn-names', '4', '--absent-names', '4', '--qps', '40',
    '--progress', '0', '--json', json,
  ];

  it('a quiet run: only matches and briefly stale answers, propagation of creates, updates and deletes measured, nothing left behind', async () => {
    const json = path.join(dir, 'quiet.json');
    const plot = path.join(dir, 'quiet.svg');
    const p = startProbe([...baseArgs(json), '--update-every', '2', '--create-delete-every', '3', '--duration', '15', '--timeout', '5000', '--plot', plot, '--http', '127.0.0.1:0']);
    const [, address] = await p.waitFor(/metrics on http:\/\/(\S+)\/metrics/);
    await p.waitFor(/grading from/);
    await sleep(2000);
    const metrics = await (await fetch(`http://${address}/metrics`)).text();
    assert.match(metrics, new RegExp(`crdns_probe_queries_total\\{server="${crdns.addresses[0]}",grade="match"\\} [1-9]`));
    assert.equal((await fetch(`http://${address}/readyz`)).status, 200, 'ready once grading');
    assert.equal(await p.exited, 0, p.stderr());
    const s = await readSummary(json);
    const run = windowOf(s, 0, 'run');
    assert.ok(s.settled, 'every record shown before grading');
    assert.ok(run.queries > 100, `queries: ${run.queries}`);
    for (const g of [...DATA_ERRORS, 'servfail', 'error', 'timeout'] as const) assert.equal(run.grades[g], 0, `${g}: ${JSON.stringify(run.grades)}`);
    assert.ok(run.grades.match > run.grades.stale, `matches are the rule: ${JSON.stringify(run.grades)}`);
    for (const op of ['create', 'update', 'delete'] as const) assert.ok(run.propagation.seenByOp[op] > 0, `${op} propagation measured: ${JSON.stringify(run.propagation)}`);
    assert.ok((run.propagation.maxBoundSeconds ?? -1) >= 0);
    assert.ok(s.writes.every((w) => w.failed === 0));
    assert.match(p.stdout(), /accuracy = match \/ queries/);
    const svg = await readFile(plot, 'utf8');
    assert.ok(svg.startsWith('<?xml') && svg.trimEnd().endsWith('</svg>'));
    assert.deepEqual(await readdir(manifests), [], 'the probe deletes what it owns at exit');
  });

  it('without --duration it runs until SIGINT, then reports and cleans up as at the end of a duration', async () => {
    const json = path.join(dir, 'sigint.json');
    const p = startProbe([...baseArgs(json), '--update-every', '1', '--create-delete-every', '1']);
    await p.waitFor(/grading from/);
    await sleep(3000);
    p.child.kill('SIGINT');
    assert.equal(await p.exited, 0, p.stderr());
    const run = windowOf(await readSummary(json), 0, 'run');
    assert.ok(run.grades.match > 0, JSON.stringify(run.grades));
    assert.match(p.stdout(), /accuracy = match \/ queries/);
    assert.deepEqual(await readdir(manifests), []);
  });

  it('over UDP and TCP through stock CoreDNS (cache off): each server graded on its own, no wrong data', async () => {
    const socket = (crdns.addresses[0] as string).slice('unix://'.length);
    const coredns = await startCoreDNS({ corefileText: `.:{$COREDNS_PORT} {\n  bind {$COREDNS_BIND}\n  errors\n  grpc . unix://${socket}\n}\n` });
    try {
      const json = path.join(dir, 'coredns.json');
      const args = baseArgs(json).filter((a, i, all) => a !== '--server' && all[i - 1] !== '--server');
      const udp = `udp://${coredns.host}:${coredns.port}`;
      const tcp = `tcp://${coredns.host}:${coredns.port}`;
      const p = startProbe([...args, '--server', udp, '--server', tcp, '--update-every', '2', '--create-delete-every', '3', '--duration', '10', '--timeout', '5000']);
      assert.equal(await p.exited, 0, p.stderr());
      const s = await readSummary(json);
      assert.deepEqual(s.servers.map((x) => x.server), [udp, tcp]);
      for (const i of [0, 1]) {
        const run = windowOf(s, i, 'run');
        assert.ok(run.grades.match > 0, `${s.servers[i]?.server}: ${JSON.stringify(run.grades)}`);
        for (const g of [...DATA_ERRORS, 'servfail', 'error', 'timeout'] as const) assert.equal(run.grades[g], 0, `${s.servers[i]?.server} ${g}: ${JSON.stringify(run.grades)}`);
        assert.ok(run.propagation.seen > 0);
      }
    } finally {
      await coredns.stop();
    }
  });

  it('crdns stopped for 4 s: timeouts and a gap during the stop, correct answers again after it', async () => {
    const json = path.join(dir, 'stop.json');
    const p = startProbe([...baseArgs(json), '--update-every', '1', '--create-delete-every', '2', '--duration', '18', '--timeout', '500', '--events', '-']);
    await p.waitFor(/grading from/);
    await sleep(4000);
    p.event('start SIGSTOP crdns');
    await p.waitFor(/event \S+ start: start SIGSTOP crdns/);
    crdns.child.kill('SIGSTOP');
    await sleep(4000);
    crdns.child.kill('SIGCONT');
    p.event('end SIGSTOP crdns');
    assert.equal(await p.exited, 0, p.stderr());
    const s = await readSummary(json);
    assert.deepEqual(s.events.map((e) => e.kind), ['start', 'end']);
    const during = windowOf(s, 0, 'during');
    const after = windowOf(s, 0, 'after');
    const run = windowOf(s, 0, 'run');
    assert.ok(during.grades.timeout > 0, `timeouts while stopped: ${JSON.stringify(during.grades)}`);
    // No answer can come while crdns is stopped, and the window spans the whole stop.
    assert.ok(during.longestGapSeconds >= 3, `gap ${during.longestGapSeconds} s`);
    assert.ok(after.grades.match > 0, `recovery: ${JSON.stringify(after.grades)}`);
    for (const g of DATA_ERRORS) assert.equal(run.grades[g], 0, `${g}: ${JSON.stringify(run.grades)}`);
    // A change written while crdns was stopped is shown only after SIGCONT.
    assert.ok((run.propagation.seconds?.max ?? 0) >= 1, `propagation ${JSON.stringify(run.propagation)}`);
    assert.match(p.stdout(), /during\s+\d+/);
  });
});
