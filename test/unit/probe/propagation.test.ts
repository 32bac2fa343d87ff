import assert from 'node:assert/strict';
import { Ledger } from '../../../src/probe/ledger.js';
import { PropagationTracker } from '../../../src/probe/propagation.js';

function acked(l: Ledger, name: string, value: number | null, sent: number, ack: number) {
  const c = l.begin(name, 'x', value === null ? 'delete' : 'update', value, sent);
  l.ack(c, ack);
  return c;
}

describe('probe PropagationTracker', () => {
  it('measures ack → the first query that showed the change, bounded by the last query that did not', () => {
    const l = new Ledger(['a']);
    const t = new PropagationTracker();
    const c = acked(l, 'a', 2, 1000, 1100);
    t.acked(c);
    assert.equal(t.observe('a', 1200, 1), undefined, 'old value');
    assert.equal(t.observe('a', 1700, undefined), undefined, 'an address no probe wrote: a miss too');
    const p = t.observe('a', 2300, 2);
    assert.equal(p?.outcome, 'seen');
    assert.equal(p?.seconds, 1.2);
    assert.equal(p?.boundSeconds, 0.6, 'between the miss at 1700 and the hit at 2300');
    assert.equal(t.pendingCount(), 0);
    assert.equal(t.observe('a', 2400, 2), undefined, 'measured once');
  });

  it('a first query after the ack that shows it: bounded by the ack; one sent before the ack: zero', () => {
    const l = new Ledger(['a', 'b']);
    const t = new PropagationTracker();
    t.acked(acked(l, 'a', 2, 1000, 1100));
    const p = t.observe('a', 1500, 2);
    assert.deepEqual([p?.seconds, p?.boundSeconds], [0.4, 0.4]);
    t.acked(acked(l, 'b', null, 1000, 1100));
    assert.equal(t.observe('b', 900, null), undefined, 'sent before the write: not evidence of it');
    const q = t.observe('b', 1050, null);
    assert.deepEqual([q?.seconds, q?.boundSeconds, q?.change.op], [0, 0, 'delete']);
  });

  it('a change replaced before it was shown is superseded; what is left at the end is unseen', () => {
    const l = new Ledger(['a']);
    const t = new PropagationTracker();
    const c1 = acked(l, 'a', 2, 1000, 1100);
    t.acked(c1);
    const c2 = acked(l, 'a', 3, 1200, 1300);
    t.acked(c2);
    t.observe('a', 1400, 2);
    t.finish();
    assert.deepEqual(
      t.results.map((r) => [r.change.value, r.outcome]),
      [
        [2, 'superseded'],
        [3, 'unseen'],
      ],
    );
  });
});
