import assert from 'node:assert/strict';
import { grade } from '../../../src/probe/grader.js';
import { Ledger } from '../../../src/probe/ledger.js';
import { addressOf } from '../../../src/probe/records.js';
import type { Reply } from '../../../src/probe/transport.js';

const answer = (...versions: number[]): Reply => ({ kind: 'answer', rcode: 0, addresses: versions.map(addressOf) });
const nxdomain: Reply = { kind: 'answer', rcode: 3, addresses: [] };
const nodata: Reply = { kind: 'answer', rcode: 0, addresses: [] };

/** a: created (1), updated (2). gone: created (3), deleted. never: no writes. */
function ledger(): Ledger {
  const l = new Ledger(['a', 'gone', 'never']);
  l.ack(l.begin('a', 'x', 'create', 1, 100), 110);
  l.ack(l.begin('a', 'x', 'update', 2, 200), 210);
  l.ack(l.begin('gone', 'x', 'create', 3, 100), 110);
  l.ack(l.begin('gone', 'x', 'delete', null, 200), 210);
  return l;
}

describe('probe grade', () => {
  const l = ledger();
  const a = l.view('a', 300, 301);
  const gone = l.view('gone', 300, 301);
  const never = l.view('never', 300, 301);

  it('match: the intended address, or NXDOMAIN / NODATA for a name that must not exist', () => {
    assert.deepEqual(grade(answer(2), a, true), { grade: 'match', observed: 2 });
    assert.deepEqual(grade(nxdomain, gone, true), { grade: 'match', observed: null });
    assert.deepEqual(grade(nodata, never, true), { grade: 'match', observed: null });
  });

  it('stale: an earlier address; wrong: one nobody wrote for this name, or several', () => {
    assert.equal(grade(answer(1), a, true).grade, 'stale', 'even after the server showed the new one: replicas may lag');
    assert.equal(grade(answer(3), a, true).grade, 'wrong', "another name's address");
    assert.equal(grade({ kind: 'answer', rcode: 0, addresses: ['192.0.2.1'] }, a, true).grade, 'wrong');
    assert.equal(grade(answer(2, 1), a, true).grade, 'wrong');
  });

  it('missing: no record for a name that exists, once it was shown; stale before that', () => {
    assert.equal(grade(nxdomain, a, true).grade, 'missing');
    assert.equal(grade(nodata, a, true).grade, 'missing');
    assert.equal(grade(nxdomain, a, false).grade, 'stale', 'the create not yet shown: absence is the earlier state');
  });

  it('unexpected: an address for a name never created, or for a deleted name once the delete was shown', () => {
    assert.equal(grade(answer(9), never, true).grade, 'unexpected');
    assert.equal(grade(answer(3), gone, true).grade, 'unexpected');
    assert.equal(grade(answer(3), gone, false).grade, 'stale', 'before the delete propagated');
    assert.equal(grade(answer(7), gone, false).grade, 'unexpected', 'not an earlier value either');
  });

  it('servfail, timeout and error say nothing about the data', () => {
    assert.deepEqual(grade({ kind: 'answer', rcode: 2, addresses: [] }, a, true), { grade: 'servfail', observed: undefined });
    assert.deepEqual(grade({ kind: 'timeout' }, a, true), { grade: 'timeout', observed: undefined });
    assert.deepEqual(grade({ kind: 'error', reason: 'ECONNREFUSED' }, a, true), { grade: 'error', observed: undefined });
    assert.equal(grade({ kind: 'answer', rcode: 5, addresses: [] }, a, true).grade, 'error', 'REFUSED is no answer');
  });

  it('a create in flight accepts both NXDOMAIN and the new address', () => {
    const m = new Ledger(['n']);
    m.begin('n', 'x', 'create', 5, 100);
    const v = m.view('n', 120, 130);
    assert.equal(grade(nxdomain, v, true).grade, 'match');
    assert.equal(grade(answer(5), v, true).grade, 'match');
    assert.equal(grade(answer(6), v, true).grade, 'wrong', 'a create in flight: the name may exist, so a foreign address is wrong, not unexpected');
  });
});
