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

  it('retries within about a second after 429 (watch cache still filling), however long the backoff has grown', async () => {
    const { client, sup } = setup({ backoff: { initialMs: 60_000, maxMs: 60_000 }, random: () => 0 });
    client.listResults = [{ items: [], resourceVersion: '10' }];
    sup.start();
    await eventually('watch', () => client.watches.length === 1);
    client.last.failToOpen(Object.assign(new Error('Too Many Requests'), { statusCode: 429 }));
    await eventually('retry after 429', () => client.watches.length === 2, () => '', 5_000);
    client.last.failToOpen(Object.assign(new Error('Service Unavailable'), { statusCode: 503 }));
    await tick(1_500);
    assert.equal(client.watches.length, 2, 'other errors wait the full backoff');
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
