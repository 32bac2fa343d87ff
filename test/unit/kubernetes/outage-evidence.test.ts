import assert from 'node:assert/strict';
import { OutageEvidence } from '../../../src/kubernetes/outage-evidence.js';

describe('OutageEvidence', () => {
  it('after no answer: the wait may end at any answer; a later 5xx or 403 from the returning server at /readyz 200', () => {
    const e = new OutageEvidence();
    assert.deepEqual(e.failed('unreachable'), { seenDown: true, backWhen: 'answers' });
    assert.deepEqual(e.failed('unavailable'), { seenDown: true, backWhen: 'ready' });
    assert.deepEqual(e.failed('other'), { seenDown: true, backWhen: 'ready' });
  });

  it('from a server that was not away: 5xx may be shortened only by what the probe sees itself, 401/403 not at all', () => {
    const e = new OutageEvidence();
    assert.deepEqual(e.failed('unavailable'), { seenDown: false, backWhen: 'ready' });
    assert.equal(e.failed('other'), undefined);
  });

  it('a woken attempt that fails makes failures no proof until a success', () => {
    const e = new OutageEvidence();
    e.failed('unreachable');
    e.wokenEarly();
    assert.deepEqual(e.failed('unreachable'), { seenDown: false, backWhen: 'answers' });
    assert.deepEqual(e.failed('unreachable'), { seenDown: false, backWhen: 'answers' }, 'still, on the next failure');
    assert.equal(e.failed('other'), undefined);
    e.succeeded();
    assert.deepEqual(e.failed('unreachable'), { seenDown: true, backWhen: 'answers' });
  });

  it('forgets an outage once a request succeeds', () => {
    const e = new OutageEvidence();
    e.failed('unreachable');
    e.succeeded();
    assert.equal(e.failed('other'), undefined);
  });
});
