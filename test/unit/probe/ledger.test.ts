import assert from 'node:assert/strict';
import { Ledger, type Value } from '../../../src/probe/ledger.js';

const set = (s: ReadonlySet<Value>) => [...s].sort((a, b) => (a ?? -1) - (b ?? -1));

describe('probe Ledger', () => {
  it('before any write a name must not exist, and nothing is earlier', () => {
    const l = new Ledger(['a']);
    const v = l.view('a', 10, 20);
    assert.deepEqual(set(v.acceptable), [null]);
    assert.deepEqual(set(v.earlier), []);
    assert.equal(v.existenceChange, undefined);
  });

  it('a write in flight makes both the old and the new value correct; after its ack only the new one, and the old is earlier', () => {
    const l = new Ledger(['a']);
    const c1 = l.begin('a', 'x', 'create', 1, 100);
    l.ack(c1, 110);
    const c2 = l.begin('a', 'x', 'update', 2, 200);
    assert.deepEqual(set(l.view('a', 205, 206).acceptable), [1, 2], 'in flight');
    assert.deepEqual(set(l.view('a', 150, 160).acceptable), [1], 'a query answered before the write was sent');
    l.ack(c2, 250);
    assert.deepEqual(set(l.view('a', 240, 245).acceptable), [1, 2], 'a query out before the ack');
    const after = l.view('a', 260, 270);
    assert.deepEqual(set(after.acceptable), [2]);
    assert.deepEqual(set(after.earlier), [null, 1]);
    assert.equal(after.existenceChange, c1, 'an update does not change existence');
  });

  it('a query out across an ack accepts the values on both sides of it', () => {
    const l = new Ledger(['a']);
    l.ack(l.begin('a', 'x', 'create', 1, 100), 110);
    assert.deepEqual(set(l.view('a', 105, 115).acceptable), [null, 1]);
  });

  it('a failed write stays possible next to the one before it, until a later write is acknowledged', () => {
    const l = new Ledger(['a']);
    l.ack(l.begin('a', 'x', 'create', 1, 100), 110);
    l.fail(l.begin('a', 'x', 'update', 2, 200), 300, 'timeout');
    assert.deepEqual(set(l.view('a', 400, 401).acceptable), [1, 2]);
    assert.equal(l.inFlight('a'), false);
    assert.equal(l.intended('a'), 2, 'what was asked for last, whatever came of it');
    l.ack(l.begin('a', 'x', 'update', 3, 500), 510);
    const v = l.view('a', 600, 601);
    assert.deepEqual(set(v.acceptable), [3]);
    assert.deepEqual(set(v.earlier), [null, 1, 2]);
  });

  it('refuses a second write to a name while one is in flight', () => {
    const l = new Ledger(['a']);
    l.begin('a', 'x', 'create', 1, 100);
    assert.equal(l.inFlight('a'), true);
    assert.throws(() => l.begin('a', 'x', 'update', 2, 101), /in flight/);
  });

  it('a delete makes absence the intent and the create before it the earlier existence', () => {
    const l = new Ledger(['a']);
    const c1 = l.begin('a', 'x', 'create', 1, 100);
    l.ack(c1, 110);
    const d = l.begin('a', 'x', 'delete', null, 200);
    l.ack(d, 210);
    const v = l.view('a', 300, 301);
    assert.deepEqual(set(v.acceptable), [null]);
    assert.deepEqual(set(v.earlier), [1], 'null is intended again, so it is not earlier');
    assert.equal(v.existenceChange, d);
    assert.equal(l.view('a', 205, 209).existenceChange, c1, 'the delete is not acknowledged by the reply');
  });

  it('lists every write in the order sent', () => {
    const l = new Ledger(['a', 'b']);
    l.begin('a', 'x', 'create', 1, 1);
    l.begin('b', 'y', 'create', 2, 2);
    assert.deepEqual(l.changes().map((c) => [c.seq, c.name, c.cluster]), [[1, 'a', 'x'], [2, 'b', 'y']]);
    assert.throws(() => l.view('c', 0, 0), /knows no name/);
  });
});
