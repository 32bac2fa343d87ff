import assert from 'node:assert/strict';
import { parseEventLine, parseEvents, windowsOf } from '../../../src/probe/events.js';
import type { Grade } from '../../../src/probe/grader.js';
import { Ledger } from '../../../src/probe/ledger.js';
import type { Propagation } from '../../../src/probe/propagation.js';
import { formatSummary, percentiles, summarize, type QueryRecord } from '../../../src/probe/summary.js';

const T0 = Date.parse('2026-03-06T10:00:00Z');

describe('probe events', () => {
  it('reads "ISO-TIME LABEL", start/end by the first word, and stamps lines without a time', () => {
    assert.deepEqual(parseEventLine('2026-03-06T10:00:05Z start kill crdns', 0), { at: T0 + 5000, kind: 'start', label: 'start kill crdns' });
    assert.deepEqual(parseEventLine('2026-03-06T11:00:06.5+01:00 END kill', 0), { at: T0 + 6500, kind: 'end', label: 'END kill' });
    assert.deepEqual(parseEventLine('scaled coredns', 42), { at: 42, kind: 'mark', label: 'scaled coredns' });
    assert.equal(parseEventLine('  # a comment', 0), undefined);
    assert.equal(parseEventLine('', 0), undefined);
    assert.throws(() => parseEventLine('2026-03-06T10:00:05 start', 0), /with a zone/);
    assert.throws(() => parseEventLine('2026-03-06T10:00:05Z', 0), /no label/);
    assert.throws(() => parseEvents('2026-03-06T10:00:05Z ok\n2026-13-06T10:00:05Z bad\n', 0), /^Error: line 2:/);
  });

  it('splits the run into before / during / after at the first start and the last end', () => {
    const events = parseEvents('2026-03-06T10:00:30Z end b\n2026-03-06T10:00:10Z start a\n2026-03-06T10:00:20Z start b\n2026-03-06T10:00:15Z note\n', 0);
    assert.deepEqual(
      windowsOf(events, T0, T0 + 60_000).map((w) => [w.name, (w.from - T0) / 1000, (w.to - T0) / 1000]),
      [
        ['run', 0, 60],
        ['before', 0, 10],
        ['during', 10, 30],
        ['after', 30, 60],
      ],
    );
  });

  it('chaos that never ended lasts to the end of the run; a run without start has one window', () => {
    const open = parseEvents('2026-03-06T10:00:10Z start a\n', 0);
    assert.deepEqual(windowsOf(open, T0, T0 + 60_000).map((w) => w.name), ['run', 'before', 'during']);
    assert.deepEqual(windowsOf(parseEvents('2026-03-06T10:00:10Z end a\n', 0), T0, T0 + 60_000).map((w) => w.name), ['run']);
    const startedBefore = parseEvents('2026-03-06T09:00:00Z start a\n2026-03-06T10:00:10Z end a\n', 0);
    assert.deepEqual(windowsOf(startedBefore, T0, T0 + 60_000).map((w) => w.name), ['run', 'during', 'after'], 'chaos begun before the run');
  });
});

describe('probe summary', () => {
  const q = (second: number, grade: Grade, latencyMs = 5, cluster = 'x'): QueryRecord => ({ server: 0, name: 'a', cluster, sentAt: T0 + second * 1000, receivedAt: T0 + second * 1000 + latencyMs, grade });

  it('counts grades, accuracy, gap, latency and propagation per window', () => {
    const queries: QueryRecord[] = [];
    for (let s = 0; s < 10; s++) queries.push(q(s, 'match', 2));
    for (let s = 10; s < 15; s++) queries.push(q(s, 'timeout', 1000));
    queries.push(q(15, 'servfail', 3), q(16, 'stale', 4), q(17, 'match', 8, 'y'));
    for (let s = 18; s < 30; s++) queries.push(q(s, 'match', 2));
    const l = new Ledger(['a']);
    const c = l.begin('a', 'x', 'update', 1, T0 + 16_000);
    l.ack(c, T0 + 16_100);
    const propagation: Propagation[] = [{ change: c, outcome: 'seen', seconds: 0.9, boundSeconds: 0.5, shownAt: T0 + 17_000 }];
    const events = parseEvents('2026-03-06T10:00:10Z start stop crdns\n2026-03-06T10:00:16Z end stop crdns\n', 0);
    const s = summarize({
      id: 'probe',
      runId: 'r1',
      startedAt: T0 - 5000,
      gradedFrom: T0,
      endedAt: T0 + 30_000,
      settled: true,
      settings: { qps: 1 },
      servers: [{ text: 'udp://127.0.0.1:53', clusters: ['x', 'y'] }],
      queries,
      propagation: [propagation],
      changes: l.changes(),
      events,
    });
    const [run, before, during, after] = s.servers[0]?.windows ?? [];
    assert.deepEqual([run?.window, before?.window, during?.window, after?.window], ['run', 'before', 'during', 'after']);
    assert.equal(run?.queries, 30);
    assert.equal(run?.qps, 1);
    assert.equal(during?.qps, 1);
    assert.equal(run?.grades.match, 23);
    assert.equal(run?.grades.timeout, 5);
    assert.equal(run?.accuracy, 23 / 30);
    assert.equal(during?.queries, 6, 'sent from 10 s to 16 s');
    assert.equal(during?.grades.match, 0);
    assert.equal(before?.accuracy, 1);
    assert.equal(after?.grades.stale, 1);
    assert.equal(run?.longestGapSeconds, 8.006, 'from the last match before the outage to the first after it');
    assert.equal(during?.longestGapSeconds, 6, 'no match at all in the window');
    assert.equal(run?.latencyMs?.n, 25, 'timeouts have no latency');
    assert.equal(run?.latencyMs?.max, 8);
    assert.equal(after?.propagation.seen, 1);
    assert.deepEqual(after?.propagation.seenByOp, { create: 0, update: 1, delete: 0 });
    assert.equal(during?.propagation.seen, 0);
    assert.deepEqual(after?.propagation.seconds, { n: 1, p50: 0.9, p99: 0.9, max: 0.9 });
    assert.equal(after?.propagation.maxBoundSeconds, 0.5);
    assert.deepEqual(run?.byCluster, { x: { queries: 29, match: 22, accuracy: 22 / 29 }, y: { queries: 1, match: 1, accuracy: 1 } });
    assert.deepEqual(s.writes, [{ cluster: 'x', op: 'update', acknowledged: 1, failed: 0, inFlight: 0 }]);
    const text = formatSummary(s);
    assert.match(text, /udp:\/\/127\.0\.0\.1:53\s+run\s+30\s+1\.0\s+76\.67%\s+23\s+1\s+0\s+0\s+0\s+1\s+5\s+0/);
    assert.match(text, /during\s+6\s+1\.0\s+0\.00%/);
    assert.match(text, /event 2026-03-06T10:00:10\.000Z start: start stop crdns/);
    assert.doesNotThrow(() => JSON.parse(JSON.stringify(s)));
  });

  it('names the changes never shown, per window, in the JSON and the text', () => {
    const l = new Ledger(['a', 'b']);
    const shown = l.begin('a', 'x', 'update', 1, T0 + 1000);
    l.ack(shown, T0 + 1100);
    const never = l.begin('b', 'y', 'delete', null, T0 + 12_000);
    l.ack(never, T0 + 12_050);
    const s = summarize({
      id: 'probe', runId: 'r2', startedAt: T0, gradedFrom: T0, endedAt: T0 + 30_000, settled: true, settings: {},
      servers: [{ text: 'udp://127.0.0.1:53', clusters: ['x', 'y'] }],
      queries: [q(1, 'match'), q(20, 'match')],
      propagation: [[{ change: shown, outcome: 'seen', seconds: 0.5, boundSeconds: 0.1, shownAt: T0 + 1600 }, { change: never, outcome: 'unseen' }]],
      changes: l.changes(),
      events: parseEvents('2026-03-06T10:00:10Z start chaos\n2026-03-06T10:00:15Z end chaos\n', 0),
    });
    const windows = Object.fromEntries((s.servers[0]?.windows ?? []).map((w) => [w.window, w.propagation]));
    assert.equal(windows.before?.unseenChanges, undefined, 'nothing unseen, no list');
    assert.deepEqual(windows.during?.unseenChanges, [{ name: 'b', cluster: 'y', op: 'delete', value: null, ackedAt: '2026-03-06T10:00:12.050Z' }]);
    assert.match(formatSummary(s), /^unseen on udp:\/\/127\.0\.0\.1:53 \(during\): delete b in y to absent, acknowledged 2026-03-06T10:00:12\.050Z$/m);
  });

  it('percentiles by nearest rank; none of nothing', () => {
    assert.deepEqual(percentiles([5, 1, 3]), { n: 3, p50: 3, p99: 5, max: 5 });
    assert.equal(percentiles([]), null);
  });
});
