import { callbackLogger } from '../../support/logger.js';
import assert from 'node:assert/strict';
import { Backoff } from '../../../src/kubernetes/backoff.js';
import { WatchSupervisor, type ChangeType, type WatchSupervisorOptions } from '../../../src/kubernetes/watch-supervisor.js';
import { FakeListWatch, obj, tick, type FakeObject } from '../../support/fake-list-watch.js';
import { eventually } from '../../support/eventually.js';

class Recorder {
  lists: string[][] = [];
  changes: Array<[ChangeType, string, string]> = [];
  logs: string[] = [];
  listed = (items: FakeObject[]): void => {
    this.lists.push(items.map((o) => o.metadata.name));
  };
  changed = (type: ChangeType, o: FakeObject): void => {
    this.changes.push([type, o.metadata.name, o.metadata.resourceVersion]);
  };
}

const FAST: Partial<WatchSupervisorOptions> = {
  backoff: { initialMs: 1, maxMs: 5 },
  idleTimeoutMs: 60_000,
  connectTimeoutMs: 60_000,
  minHealthyMs: 0,
  listTimeoutMs: 60_000,
};

/** What Node's network stack throws when nothing listens. */
function refused(): Error {
  return Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:6443'), { code: 'ECONNREFUSED' });
}

/** An HTTP error as ApiRequestError and client-node's Watch shape it. */
function httpError(statusCode: number, retryAfterSeconds?: number): Error {
  return Object.assign(new Error(`HTTP ${statusCode}`), { statusCode, ...(retryAfterSeconds !== undefined ? { retryAfterSeconds } : {}) });
}

const OK = { items: [], resourceVersion: '10' };

function setup(options: Partial<WatchSupervisorOptions> = {}): { client: FakeListWatch; rec: Recorder; sup: WatchSupervisor<FakeObject> } {
  const client = new FakeListWatch();
  const rec = new Recorder();
  const sup = new WatchSupervisor<FakeObject>(client, rec, {
    ...FAST,
    logger: callbackLogger((level, message, fields) => rec.logs.push(`${level} ${message} ${JSON.stringify(fields ?? {})}`)),
    ...options,
  });
  return { client, rec, sup };
}

describe('Backoff', () => {
  it('doubles from the initial delay up to the cap, with jitter taking at most the configured share', () => {
    const nominal = new Backoff({ initialMs: 100, maxMs: 1000, factor: 2, jitter: 0.5 }, () => 0);
    assert.deepEqual([1, 2, 3, 4, 5, 6].map(() => nominal.next()), [100, 200, 400, 800, 1000, 1000]);
    const jittered = new Backoff({ initialMs: 100, maxMs: 1000, factor: 2, jitter: 0.5 }, () => 1);
    assert.deepEqual([1, 2, 3, 4, 5].map(() => jittered.next()), [50, 100, 200, 400, 500]);
  });

  it('starts over after reset() and stays finite after many failures', () => {
    const b = new Backoff({ initialMs: 10, maxMs: 30_000 }, () => 0);
    for (let i = 0; i < 2000; i++) b.next();
    assert.equal(b.next(), 30_000);
    b.reset();
    assert.equal(b.attempts, 0);
    assert.equal(b.next(), 10);
  });

  it('refuses nonsense options', () => {
    assert.throws(() => new Backoff({ initialMs: 0 }), RangeError);
    assert.throws(() => new Backoff({ initialMs: 10, maxMs: 5 }), RangeError);
    assert.throws(() => new Backoff({ jitter: 2 }), RangeError);
  });
});

describe('WatchSupervisor', () => {
  it('lists, then watches from the list resourceVersion and follows the resourceVersion of events', async () => {
    const { client, rec, sup } = setup();
    client.listResults = [{ items: [obj('a', '5')], resourceVersion: '10' }];
    sup.start();
    await eventually('first watch', () => client.watches.length === 1);
    assert.deepEqual(rec.lists, [['a']]);
    assert.equal(client.last.resourceVersion, '10');
    client.last.open();
    await eventually('connected', () => sup.state.connected);
    client.last.event('ADDED', obj('b', '11'));
    client.last.event('MODIFIED', obj('a', '12'));
    client.last.event('DELETED', obj('b', '13'));
    client.last.event('BOOKMARK', { metadata: { resourceVersion: '20' } });
    assert.deepEqual(rec.changes, [
      ['ADDED', 'b', '11'],
      ['MODIFIED', 'a', '12'],
      ['DELETED', 'b', '13'],
    ]);
    assert.equal(sup.lastResourceVersion, '20');
    await sup.stop();
    assert.equal(client.last.aborted, true, 'stop() aborts the open stream');
  });

  it('re-watches from the last resourceVersion after a clean close, without relisting', async () => {
    const { client, rec, sup } = setup();
    client.listResults = [{ items: [], resourceVersion: '10' }];
    sup.start();
    await eventually('watch', () => client.watches.length === 1);
    client.last.open();
    client.last.event('ADDED', obj('a', '15'));
    client.last.close(null);
    await eventually('second watch', () => client.watches.length === 2);
    assert.equal(client.last.resourceVersion, '15');
    assert.equal(client.lists.length, 1);
    assert.equal(rec.lists.length, 1);
    await sup.stop();
  });

  it('relists after 410 Gone, whether sent as an ERROR event or as the HTTP status', async () => {
    const { client, rec, sup } = setup();
    client.listResults = [
      { items: [obj('a', '5')], resourceVersion: '10' },
      { items: [obj('b', '25')], resourceVersion: '30' },
      { items: [obj('c', '35')], resourceVersion: '40' },
    ];
    sup.start();
    await eventually('watch', () => client.watches.length === 1);
    client.last.open();
    client.last.event('ERROR', { kind: 'Status', code: 410, reason: 'Expired', message: 'too old resource version' });
    client.last.close(null);
    await eventually('relist and new watch', () => client.watches.length === 2);
    assert.equal(client.last.resourceVersion, '30');
    client.last.failToOpen(Object.assign(new Error('Gone'), { statusCode: 410 }));
    await eventually('second relist', () => client.watches.length === 3);
    assert.equal(client.last.resourceVersion, '40');
    assert.deepEqual(rec.lists, [['a'], ['b'], ['c']]);
    assert.equal(sup.state.relists, 2);
    await sup.stop();
  });

  it('retries failed lists and watches with backoff and never reports an empty listing on errors', async () => {
    const { client, rec, sup } = setup();
    client.listResults = [new Error('connect ECONNREFUSED'), new Error('connect ECONNREFUSED'), { items: [obj('a', '5')], resourceVersion: '10' }];
    sup.start();
    await eventually('watch after two failed lists', () => client.watches.length === 1);
    assert.equal(client.lists.length, 3);
    assert.deepEqual(rec.lists, [['a']]);
    for (let i = 0; i < 3; i++) {
      client.last.failToOpen(Object.assign(new Error('Service Unavailable'), { statusCode: 503 }));
      await eventually(`watch retry ${i + 1}`, () => client.watches.length === i + 2);
      assert.equal(client.last.resourceVersion, '10', 'a failed watch resumes from the same resourceVersion');
    }
    client.last.open();
    client.last.event('ADDED', obj('b', '11'));
    client.last.close(new Error('read ECONNRESET'));
    await eventually('watch after reset', () => client.watches.length === 5);
    assert.equal(client.last.resourceVersion, '11');
    assert.equal(client.lists.length, 3, 'errors with a resourceVersion in hand do not relist');
    assert.deepEqual(rec.lists, [['a']], 'no listing other than the successful one');
    assert.equal(sup.state.failures, 6);
    assert.match(sup.state.lastError ?? '', /ECONNRESET/);
    assert.equal(sup.state.synced, true);
    await sup.stop();
  });

  it('treats an ERROR event other than 410 as a failure, not as a relist', async () => {
    const { client, rec, sup } = setup();
    client.listResults = [{ items: [], resourceVersion: '10' }];
    sup.start();
    await eventually('watch', () => client.watches.length === 1);
    client.last.open();
    client.last.event('ERROR', { kind: 'Status', code: 500, reason: 'InternalError', message: 'etcd leader changed' });
    client.last.close(null);
    await eventually('retry', () => client.watches.length === 2);
    assert.equal(client.lists.length, 1);
    assert.equal(rec.lists.length, 1);
    assert.match(sup.state.lastError ?? '', /etcd leader changed/);
    await sup.stop();
  });

  it('restarts a watch that stays silent past the idle timeout, and ignores the old stream afterwards', async () => {
    const { client, rec, sup } = setup({ idleTimeoutMs: 40 });
    client.listResults = [{ items: [], resourceVersion: '10' }];
    sup.start();
    await eventually('watch', () => client.watches.length === 1);
    const first = client.last;
    first.open();
    await eventually('watchdog restart', () => client.watches.length === 2);
    assert.equal(first.aborted, true, 'the silent stream is aborted');
    assert.equal(sup.state.idleRestarts, 1);
    assert.equal(client.last.resourceVersion, '10');
    // The aborted stream's late callbacks (client-node reports the abort as an error) change nothing.
    first.event('ADDED', obj('ghost', '99'));
    first.close(new Error('The user aborted a request.'));
    await tick();
    assert.equal(client.watches.length, 2);
    assert.deepEqual(rec.changes, []);
    assert.equal(sup.state.failures, 0);
    await sup.stop();
  });

  it('keeps a quiet watch alive as long as bookmarks arrive', async () => {
    const { client, sup } = setup({ idleTimeoutMs: 60 });
    client.listResults = [{ items: [], resourceVersion: '10' }];
    sup.start();
    await eventually('watch', () => client.watches.length === 1);
    client.last.open();
    for (let i = 0; i < 8; i++) {
      await tick(20);
      client.last.event('BOOKMARK', { metadata: { resourceVersion: String(20 + i) } });
    }
    assert.equal(client.watches.length, 1);
    assert.equal(sup.state.idleRestarts, 0);
    await sup.stop();
  });

  it('restarts a quiet stream at once when a fresh watch sees changes it did not deliver (a silent stall), from the same resourceVersion', async () => {
    const { client, rec, sup } = setup({ stallCheckMs: 30, stallGraceMs: 10 });
    client.listResults = [{ items: [], resourceVersion: '10' }];
    client.changedAnswer = false;
    sup.start();
    await eventually('watch', () => client.watches.length === 1);
    const first = client.last;
    first.open();
    await eventually('a stall check', () => client.stallChecks.length >= 2);
    assert.equal(client.watches.length, 1, 'nothing missed: the stream is kept');
    client.changedAnswer = true;
    await eventually('restart after the stall', () => client.watches.length === 2);
    assert.equal(first.aborted, true);
    assert.equal(sup.state.stallRestarts, 1);
    assert.equal(sup.state.idleRestarts, 0);
    assert.equal(client.last.resourceVersion, '10', 'no relist: the new watch resumes where the stalled one stopped');
    assert.equal(client.lists.length, 1);
    assert.ok(rec.logs.some((l) => l.startsWith('warn watch stalled')));
    await sup.stop();
  });

  it('keeps a stream that delivers what the stall check saw within the grace, and one the check cannot judge', async () => {
    const { client, sup } = setup({ stallCheckMs: 30, stallGraceMs: 80 });
    client.listResults = [{ items: [], resourceVersion: '10' }];
    client.changedAnswer = true;
    sup.start();
    await eventually('watch', () => client.watches.length === 1);
    client.last.open();
    await eventually('a stall check', () => client.stallChecks.length === 1);
    // The change the check saw arrives on the stream during the grace; later checks cannot judge.
    client.last.event('MODIFIED', obj('a', '11'));
    client.changedAnswer = 'unknown';
    await tick(120);
    assert.equal(client.watches.length, 1);
    await eventually('more checks', () => client.stallChecks.length >= 3);
    assert.equal(client.watches.length, 1);
    assert.equal(client.stallChecks.at(-1), '11', 'the check asks from the last resourceVersion seen');
    assert.equal(sup.state.stallRestarts, 0);
    await sup.stop();
  });

  it('does not check a stream while it is busy', async () => {
    const { client, sup } = setup({ stallCheckMs: 60 });
    client.listResults = [{ items: [], resourceVersion: '10' }];
    client.changedAnswer = true;
    sup.start();
    await eventually('watch', () => client.watches.length === 1);
    client.last.open();
    for (let i = 0; i < 10; i++) {
      await tick(20);
      client.last.event('BOOKMARK', { metadata: { resourceVersion: String(20 + i) } });
    }
    assert.deepEqual(client.stallChecks, []);
    await sup.stop();
  });

  it('gives up on a watch that never opens and aborts it if it opens later', async () => {
    const { client, sup } = setup({ connectTimeoutMs: 30 });
    client.listResults = [{ items: [], resourceVersion: '10' }];
    sup.start();
    await eventually('watch', () => client.watches.length === 1);
    const hung = client.last;
    await eventually('second attempt after connect timeout', () => client.watches.length === 2);
    hung.open();
    await tick();
    assert.equal(hung.aborted, true);
    assert.match(sup.state.lastError ?? '', /not open after 30 ms/);
    await sup.stop();
  });

  it('gives up on a list that hangs, then retries it', async () => {
    const { client, rec, sup } = setup({ listTimeoutMs: 30 });
    client.listResults = ['hang', { items: [obj('a', '1')], resourceVersion: '10' }];
    sup.start();
    await eventually('watch after the second list', () => client.watches.length === 1);
    assert.equal(client.lists.length, 2);
    assert.equal(client.lists[0]?.signal.aborted, true, 'the hung list was aborted');
    assert.deepEqual(rec.lists, [['a']]);
    await sup.stop();
  });

  it('backs off when the server keeps closing new watches at once, instead of reconnecting in a loop', async () => {
    // minHealthyMs of an hour: every close here is "too soon"; the second wait is >= 30 s nominal.
    const { client, sup } = setup({ minHealthyMs: 3_600_000, backoff: { initialMs: 60_000, maxMs: 60_000 } });
    client.listResults = [{ items: [], resourceVersion: '10' }];
    sup.start();
    await eventually('watch', () => client.watches.length === 1);
    client.last.open();
    client.last.close(null);
    await tick(200);
    assert.equal(client.watches.length, 1, 'no immediate reconnect after a close with no events');
    const stopped = sup.stop();
    await stopped; // stop() also cuts the backoff wait short
    assert.equal(client.watches.length, 1);
  });

  it('relists at once after 410 on a resourceVersion held for a while, but waits if a fresh list gets 410 again', async () => {
    const { client, sup } = setup({ minHealthyMs: 3_600_000, backoff: { initialMs: 60_000, maxMs: 60_000 } });
    client.listResults = [
      { items: [], resourceVersion: '10' },
      { items: [], resourceVersion: '50' },
    ];
    sup.start();
    await eventually('watch', () => client.watches.length === 1);
    client.last.open();
    client.last.event('ADDED', obj('a', '11'));
    client.last.close(null);
    await eventually('resumed watch', () => client.watches.length === 2);
    assert.equal(client.last.resourceVersion, '11');
    // As after an API server restart: the held resourceVersion is too old.
    client.last.failToOpen(Object.assign(new Error('Gone'), { statusCode: 410 }));
    await eventually('relist and watch without waiting', () => client.watches.length === 3);
    assert.equal(client.last.resourceVersion, '50');
    client.last.failToOpen(Object.assign(new Error('Gone'), { statusCode: 410 }));
    await tick(200);
    assert.equal(client.lists.length, 2, 'a 410 straight after a list waits the backoff before relisting');
    await sup.stop();
  });

  it('survives a consumer that throws', async () => {
    const client = new FakeListWatch();
    const seen: string[] = [];
    const sup = new WatchSupervisor<FakeObject>(
      client,
      {
        listed: () => {
          throw new Error('sink bug in listed');
        },
        changed: (_t, o) => {
          seen.push(o.metadata.name);
          throw new Error('sink bug in changed');
        },
      },
      FAST,
    );
    client.listResults = [{ items: [], resourceVersion: '10' }];
    sup.start();
    await eventually('watch', () => client.watches.length === 1);
    client.last.open();
    client.last.event('ADDED', obj('a', '11'));
    client.last.event('ADDED', obj('b', '12'));
    assert.deepEqual(seen, ['a', 'b']);
    assert.equal(client.watches.length, 1);
    assert.equal(sup.lastResourceVersion, '12');
    await sup.stop();
  });

  it('stop() during a pending list or backoff returns and starts nothing more', async () => {
    const { client, sup } = setup({ backoff: { initialMs: 60_000, maxMs: 60_000 } });
    client.listResults = [new Error('boom')];
    sup.start();
    await eventually('first list', () => client.lists.length === 1);
    await tick();
    await sup.stop();
    await tick(50);
    assert.equal(client.lists.length, 1);
    assert.equal(client.watches.length, 0);

    const second = setup();
    second.client.listResults = ['hang'];
    second.sup.start();
    await eventually('list', () => second.client.lists.length === 1);
    await second.sup.stop();
    assert.equal(second.client.lists[0]?.signal.aborted, true);
  });
});

describe('WatchSupervisor waiting for the API server to come back', () => {
  // Short probe timings stand in for the production 1 s; the backoffs are long, so only the probe can end a wait early.
  const PROBE = { intervalMs: 20, jitter: 0.25, timeoutMs: 40 };

  it('after many failures without an answer, retries within about one probe interval of the server answering, however long the backoff has grown', async () => {
    const { client, sup, rec } = setup({ backoff: { initialMs: 1, factor: 10, maxMs: 60_000 }, probe: PROBE });
    client.reachability = 'down';
    client.listResults = [refused()];
    sup.start();
    // Waits of 0.5-1, 5-10, 50-100, 500-1000 ms, then 5-10 s: the sixth list is due in seconds.
    await eventually('five failed lists', () => client.lists.length === 5, () => '', 5_000);
    await tick(100);
    assert.equal(client.lists.length, 5, 'the backoff, not the probe, paces attempts while the server is down');
    const probesWhileDown = client.probes.length;
    assert.ok(probesWhileDown >= 3, `the probe kept asking while the server was down (${probesWhileDown} probes)`);

    client.listResults = [OK];
    client.reachability = 'up';
    const back = Date.now();
    await eventually('a list once the server answers', () => client.lists.length === 6, () => '', 4_000);
    const after = Date.now() - back;
    assert.ok(after < 2_500, `retried ${after} ms after the server was back (probe interval 20 ms, backoff 5-10 s)`);
    await eventually('watching', () => client.watches.length === 1);
    assert.deepEqual(rec.lists, [[]]);
    assert.ok(rec.logs.some((l) => l.startsWith('info API server is back')), rec.logs.join('\n'));
    await sup.stop();
  });

  it('after failures without an answer, takes any answer as the server back, ready or not (a starting server answers 403 and 500 first)', async () => {
    const { client, sup } = setup({ backoff: { initialMs: 60_000, maxMs: 60_000 }, probe: PROBE });
    client.reachability = 'down';
    client.listResults = [refused()];
    sup.start();
    await eventually('first list', () => client.lists.length === 1);
    await tick(100);
    assert.equal(client.lists.length, 1);
    client.reachability = 'unready';
    const answering = Date.now();
    await eventually('list once the server answers at all', () => client.lists.length === 2, () => '', 5_000);
    assert.ok(Date.now() - answering < 3_000, 'woken, not at the end of a 30-60 s backoff');
    await sup.stop();
  });

  for (const [status, what] of [
    [503, 'a 503'],
    [403, 'a 403 (RBAC not loaded yet)'],
  ] as const) {
    it(`after an outage, takes the starting server's first answer, ${what}, as its return and starts the backoff over`, async () => {
      const { client, sup, rec } = setup({ backoff: { initialMs: 1, factor: 10, maxMs: 60_000 }, probe: PROBE });
      client.reachability = 'down';
      client.listResults = [refused()];
      sup.start();
      // Waits of 0.5-1, 5-10, 50-100 ms, then 0.5-1 s: the fifth list comes at the end of a backoff, not woken.
      await eventually('four failed lists', () => client.lists.length === 4, () => '', 5_000);
      client.listResults = [httpError(status)];
      // Generous: on a loaded machine the fifth list can come before the answer is set up, and the
      // answer then lands on the sixth, at the end of a 5-10 s wait; the rules below hold either way.
      await eventually('the fifth, answered by the starting server', () => client.lists.length >= 5, () => '', 20_000);
      // Not ready yet, so the probe cannot be what ends the wait; the next one would be 5-10 s.
      client.reachability = 'unready';
      await eventually('the sixth, after a backoff started over', () => client.lists.length >= 6, () => '', 3_000);
      await tick(300);
      assert.ok(client.lists.length <= 9, `the backoff grows again: ${client.lists.length} lists`);
      assert.ok(rec.logs.some((l) => l.startsWith('info API server is back') && l.includes('"seenBy":"request"')), rec.logs.join('\n'));
      await sup.stop();
    });
  }

  it('resets the backoff when the server comes back, so its first 429 costs a second and not the grown backoff', async () => {
    const { client, sup } = setup({ backoff: { initialMs: 1, factor: 10, maxMs: 60_000 }, probe: PROBE });
    client.reachability = 'down';
    client.listResults = [refused()];
    sup.start();
    await eventually('five failed lists; the next wait is 5-10 s', () => client.lists.length === 5, () => '', 5_000);
    client.listResults = [httpError(429, 1), OK];
    client.reachability = 'up';
    await eventually('list once the server answers', () => client.lists.length === 6, () => '', 4_000);
    const at429 = Date.now();
    await eventually('list after Retry-After', () => client.lists.length === 7, () => '', 5_000);
    const waited = Date.now() - at429;
    assert.ok(waited >= 950 && waited < 4_000, `waited ${waited} ms after a 429 with Retry-After: 1 (the backoff had grown to 5-10 s)`);
    await sup.stop();
  });

  it('honours Retry-After on a 429, even when the probe sees the server come back sooner, and assumes 1 s when the header is missing', async () => {
    const { client, sup } = setup({ backoff: { initialMs: 1, maxMs: 5 }, probe: PROBE });
    client.reachability = 'unready';
    client.listResults = [httpError(429, 2), OK];
    sup.start();
    await eventually('first list', () => client.lists.length === 1);
    const first = Date.now();
    await tick(100);
    client.reachability = 'up'; // not ready, then ready: the probe would end the wait, but the server asked for 2 s
    await eventually('second list', () => client.lists.length === 2, () => '', 6_000);
    const waited = Date.now() - first;
    assert.ok(waited >= 1_950, `retried ${waited} ms after a 429 with Retry-After: 2`);

    await eventually('watch', () => client.watches.length === 1);
    // client-node's Watch does not expose headers: a 429 there is taken as Retry-After: 1, what kube-apiserver sends.
    client.last.failToOpen(httpError(429));
    const failed = Date.now();
    await eventually('second watch', () => client.watches.length === 2, () => '', 5_000);
    const waitedWatch = Date.now() - failed;
    assert.ok(waitedWatch >= 950, `re-watched ${waitedWatch} ms after a 429 without Retry-After (backoff 1-5 ms)`);
    await sup.stop();
  });

  it('keeps the exponential backoff after a 5xx while the server says it is ready, asking it only once', async () => {
    const { client, sup } = setup({ backoff: { initialMs: 60_000, maxMs: 60_000 }, probe: PROBE });
    client.reachability = 'up';
    client.listResults = [OK];
    sup.start();
    await eventually('watch', () => client.watches.length === 1);
    client.last.failToOpen(httpError(503));
    await tick(400);
    assert.equal(client.watches.length, 1, 'an overloaded server that is ready gets the full backoff');
    assert.equal(client.probes.length, 1, 'one probe showed the server ready; no more were sent');
    await sup.stop();
  });

  it('after a 5xx while etcd is away (/readyz unanswered, then 500), retries once the server is ready again', async () => {
    const { client, sup } = setup({ backoff: { initialMs: 60_000, maxMs: 60_000 }, probe: PROBE });
    client.listResults = [OK];
    sup.start();
    await eventually('watch', () => client.watches.length === 1);
    client.reachability = 'hang';
    client.last.failToOpen(httpError(504));
    await eventually('several probes time out', () => client.probes.length >= 3);
    assert.ok(client.probes.slice(0, -1).every((p) => p.signal.aborted), 'a probe that hangs is given up on');
    client.reachability = 'unready';
    await tick(150);
    assert.equal(client.watches.length, 1, 'not ready is not back');
    client.reachability = 'up';
    const ready = Date.now();
    await eventually('watch once ready', () => client.watches.length === 2, () => '', 5_000);
    assert.ok(Date.now() - ready < 3_000, 'woken, not at the end of a 30-60 s backoff');
    await sup.stop();
  });

  it('keeps the plain backoff after 401/403 and other answers, without probing', async () => {
    const { client, sup } = setup({ backoff: { initialMs: 60_000, maxMs: 60_000 }, probe: PROBE });
    client.reachability = 'up';
    client.listResults = [httpError(403)];
    sup.start();
    await eventually('first list', () => client.lists.length === 1);
    await tick(300);
    assert.equal(client.lists.length, 1);
    assert.equal(client.probes.length, 0);
    await sup.stop();
  });

  it('does not loop when the probe says ready but every request fails without an answer', async () => {
    // random 0: nominal backoff 100, 200, 400, 800 ms; probe every 15 ms.
    const { client, sup } = setup({ backoff: { initialMs: 100, factor: 2, maxMs: 60_000 }, probe: PROBE, random: () => 0 });
    client.reachability = 'up';
    client.listResults = [refused()];
    sup.start();
    await tick(1_000);
    const lists = client.lists.length;
    // 0, ~15 (woken once: the first failure was proof of an outage), then +100, +200, +400 ms.
    assert.ok(lists >= 2 && lists <= 5, `${lists} lists in 1 s: ${client.attempts.map((a) => a.at - (client.attempts[0]?.at ?? 0)).join(', ')}`);
    await sup.stop();
  });

  it('wakes again for each outage the probe sees, but never more than once per down-to-up change', async () => {
    const { client, sup } = setup({ backoff: { initialMs: 2_000, maxMs: 2_000 }, probe: PROBE });
    client.reachability = 'down';
    client.listResults = [refused()];
    sup.start();
    await eventually('first list', () => client.lists.length === 1);
    client.reachability = 'up';
    await eventually('woken', () => client.lists.length === 2, () => '', 900);
    await tick(150);
    assert.equal(client.lists.length, 2, 'the woken attempt failed too: the probe saying up again proves nothing');
    client.reachability = 'down';
    await eventually('the backoff ends the wait', () => client.lists.length === 3, () => '', 4_000);
    await tick(60); // the probe sees the server down ...
    client.reachability = 'up'; // ... and back
    const back = Date.now();
    await eventually('woken by the next down-to-up change', () => client.lists.length === 4, () => '', 3_000);
    assert.ok(Date.now() - back < 900, 'woken, not at the end of a 1-2 s backoff');
    await sup.stop();
  });

  it('stop() during a probing wait returns at once and aborts the probe in flight', async () => {
    const { client, sup } = setup({ backoff: { initialMs: 60_000, maxMs: 60_000 }, probe: { intervalMs: 10, jitter: 0, timeoutMs: 60_000 } });
    client.reachability = 'hang';
    client.listResults = [refused()];
    sup.start();
    await eventually('a probe in flight', () => client.probes.length === 1);
    const stopping = Date.now();
    await sup.stop();
    assert.ok(Date.now() - stopping < 1_000);
    assert.equal(client.probes[0]?.signal.aborted, true);
    await tick(50);
    assert.equal(client.probes.length, 1);
    assert.equal(client.lists.length, 1);
  });

  it('without a probe, waits the backoff as before', async () => {
    const { client, sup } = setup({ backoff: { initialMs: 60_000, maxMs: 60_000 }, probe: PROBE });
    client.listResults = [refused()];
    sup.start();
    await eventually('first list', () => client.lists.length === 1);
    await tick(200);
    assert.equal(client.lists.length, 1);
    await sup.stop();
  });
});
