/**
 * `crdns serve --workers 2` behind stock CoreDNS, the way the chart runs it:
 * one grpc line listing both workers' sockets with `policy round_robin`.
 * Checked: every question of the e2e zone gets the same answer through
 * CoreDNS as from crdns with one thread (the same data), CoreDNS spreads the
 * queries over both workers (its per-upstream counter), a change is served
 * on each worker's socket, crdns's /metrics counts what the workers answered,
 * and /readyz lists the workers at the main thread's generation.
 */
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { queryClient } from '../../../src/cli/query.js';
import { dig, startCoreDNS, type CorednsProcess, type DigRecord, type DigResult } from '../../harness/coredns.js';
import { startCrdns, type CrdnsProcess } from '../../harness/crdns-process.js';
import { answerHelpers } from '../../support/answers.js';
import { e2eEndpoints, e2eQuestions, manifest, REVERSE_ZONE, writeManifests, ZONE } from './support.js';

const COREFILE = `.:{$COREDNS_PORT} {
    bind {$COREDNS_BIND}
    errors
    prometheus {$COREDNS_METRICS}
    grpc . unix://{$W0} unix://{$W1} {
        policy round_robin
    }
}
`;

/** What dig shows of an answer, less what differs between two processes: the SOA serial follows each one's start time. */
function shape(r: DigResult): string {
  const records = (l: DigRecord[]) => l.map((x) => (x.type === 'SOA' ? { ...x, rdata: x.rdata.replace(/^(\S+ \S+ )\d+/, '$1SERIAL') } : x));
  return JSON.stringify({ status: r.status, flags: r.flags, answer: records(r.answer), authority: records(r.authority), additional: records(r.additional) });
}

describe('crdns --workers 2 behind stock CoreDNS (round_robin over the workers\' sockets)', function () {
  this.timeout(120_000);
  let manifests: string;
  let workers: CrdnsProcess;
  let single: CrdnsProcess;
  let viaWorkers: CorednsProcess;
  let viaSingle: CorednsProcess;
  let sockets: string[];

  before(async () => {
    manifests = await writeManifests({ 'e2e.yaml': manifest('e2e', e2eEndpoints()) });
    workers = await startCrdns({
      zones: [ZONE, REVERSE_ZONE],
      manifests,
      listen: [`unix://${path.join(manifests, '..', `${path.basename(manifests)}-w{worker}.sock`)}`],
      args: ['--workers', '2'],
      http: '127.0.0.1:0',
    });
    sockets = workers.addresses.map((a) => a.slice('unix://'.length));
    assert.equal(sockets.length, 2, `one socket per worker: ${workers.addresses.join(', ')}`);
    single = await startCrdns({ zones: [ZONE, REVERSE_ZONE], manifests });
    viaWorkers = await startCoreDNS({ corefileText: COREFILE, env: { W0: sockets[0] as string, W1: sockets[1] as string } });
    const one = single.addresses[0]?.slice('unix://'.length) as string;
    viaSingle = await startCoreDNS({ corefileText: COREFILE, env: { W0: one, W1: one } });
  });

  after(async () => {
    await viaWorkers?.stop();
    await viaSingle?.stop();
    await workers?.stop();
    await single?.stop();
  });

  it('answers every e2e question as a single-threaded crdns does', async () => {
    for (const [name, type, what] of e2eQuestions()) {
      const o = { host: viaWorkers.host, port: viaWorkers.port };
      const [a, b] = [await dig(name, type, o), await dig(name, type, { host: viaSingle.host, port: viaSingle.port })];
      assert.equal(shape(a), shape(b), `${name} ${type} (${what})`);
    }
  });

  it('spreads the queries over both workers, and crdns counts them all', async () => {
    const metricsUrl = `http://${workers.httpAddress()}/metrics`;
    const answered = async () => {
      const text = await (await fetch(metricsUrl)).text();
      return text.split('\n').filter((l) => l.startsWith('crdns_queries_total{')).reduce((n, l) => n + Number(l.split(' ').pop()), 0);
    };
    // Tallies reach the main thread every 250 ms.
    await new Promise((r) => setTimeout(r, 600));
    const before = await answered();
    for (let i = 0; i < 40; i++) await dig(`www.${ZONE}`, 'A', { host: viaWorkers.host, port: viaWorkers.port });
    const perWorker = (await viaWorkers.scrape()).split('\n').filter((l) => l.startsWith('coredns_grpc_requests_total{'));
    assert.equal(perWorker.length, 2, perWorker.join('\n'));
    for (const l of perWorker) assert.ok(Number(l.split(' ').pop()) >= 5, `each worker took a share: ${perWorker.join(' | ')}`);
    await new Promise((r) => setTimeout(r, 600));
    assert.ok((await answered()) - before >= 40, 'the workers\' answers are on the main thread\'s /metrics');
  });

  it('serves a change on each worker, and /readyz shows both at the main generation', async () => {
    await writeFile(path.join(manifests, 'late.yaml'), manifest('late', [{ dnsName: `late.${ZONE}`, recordType: 'A', targets: ['192.0.2.77'] }]));
    for (const s of workers.addresses) {
      const c = queryClient(s, 2000);
      try {
        await answerHelpers(() => c, 20_000).served(`late.${ZONE}`, ['192.0.2.77']);
      } finally {
        c.close();
      }
    }
    const ready = (await (await fetch(`http://${workers.httpAddress()}/readyz`)).json()) as { ready: boolean; generation: number; workers: Array<{ listening: boolean; generation: number }> };
    assert.equal(ready.ready, true);
    assert.deepEqual(ready.workers.map((w) => [w.listening, w.generation]), [[true, ready.generation], [true, ready.generation]]);
  });
});
