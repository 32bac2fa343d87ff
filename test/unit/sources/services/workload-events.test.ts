/** Warning Events on Services and Ingresses through a fake writer: one per distinct problem per generation, 409 is success, failures retried on the next report. */
import assert from 'node:assert/strict';
import type { EventBody } from '../../../../src/feedback/status-api.js';
import { WorkloadEventReporter, workloadEventName, type WorkloadRef } from '../../../../src/feedback/workload-events.js';

class FakeWriter {
  events: Array<{ namespace: string; event: EventBody }> = [];
  failNext: number[] = [];
  async createEvent(namespace: string, event: EventBody): Promise<void> {
    const code = this.failNext.shift();
    if (code !== undefined) throw Object.assign(new Error(`HTTP ${code}`), { code });
    this.events.push({ namespace, event });
  }
}

const ref = (generation = 1): WorkloadRef => ({ apiVersion: 'v1', kind: 'Service', namespace: 'web', name: 'nginx', uid: 'u-1', generation, resourceVersion: '7' });
const TTL = { reason: 'InvalidAnnotation' as const, message: 'annotation external-dns.kubernetes.io/ttl: "soon" is neither whole seconds nor a duration like 1m30s; ignored' };
const SRV = { reason: 'InvalidAnnotation' as const, message: 'annotation external-dns.kubernetes.io/srv: "maybe" is not "true" or "false"; ignored' };

describe('services: workload Events', () => {
  it('one Event per distinct problem; a repeat costs nothing; a new generation is a new Event', async () => {
    const w = new FakeWriter();
    const r = new WorkloadEventReporter({ writer: w });
    r.report(ref(), [TTL, SRV]);
    r.report(ref(), [TTL]);
    await r.idle();
    assert.equal(w.events.length, 2);
    const e = w.events[0]?.event;
    assert.equal(e?.type, 'Warning');
    assert.equal(e?.reason, 'InvalidAnnotation');
    assert.deepEqual(e?.involvedObject, { apiVersion: 'v1', kind: 'Service', namespace: 'web', name: 'nginx', uid: 'u-1', resourceVersion: '7' });
    assert.equal(e?.metadata?.name, workloadEventName(ref(), TTL));
    r.report(ref(2), [TTL]);
    await r.idle();
    assert.equal(w.events.length, 3);
    await r.stop();
  });

  it('409 AlreadyExists (another replica wrote it) is done; another failure is tried again on the next report', async () => {
    const w = new FakeWriter();
    const r = new WorkloadEventReporter({ writer: w });
    w.failNext = [409, 500];
    r.report(ref(), [TTL, SRV]);
    await r.idle();
    assert.equal(w.events.length, 0);
    assert.equal(r.failed, 1);
    r.report(ref(), [TTL, SRV]);
    await r.idle();
    assert.deepEqual(w.events.map((e) => e.event.metadata?.name), [workloadEventName(ref(), SRV)]);
    await r.stop();
  });

  it('an object without a uid (not from the API) gets no Event', async () => {
    const w = new FakeWriter();
    const r = new WorkloadEventReporter({ writer: w });
    r.report({ ...ref(), uid: '' }, [TTL]);
    await r.idle();
    assert.equal(w.events.length, 0);
    await r.stop();
  });
});
