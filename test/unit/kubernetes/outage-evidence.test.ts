import assert from 'node:assert/strict';
import { OutageEvidence } from '../../../src/kubernetes/outage-evidence.js';

describe('OutageEvidence', () => {
  it('after no answer: the wait may end at any answer; the next answer of any kind is the return', () => {
    const e = new OutageEvidence();
    assert.deepEqual(e.failed('unreachable'), { plan: { seenDown: true, backWhen: 'answers' }, returned: false });
    assert.deepEqual(e.failed('unavailable'), { plan: { seenDown: false, backWhen: 'ready' }, returned: true });
    assert.deepEqual(e.failed('unavailable'), { plan: { seenDown: false, backWhen: 'ready' }, returned: false }, 'once');
    e.failed('unreachable');
    assert.deepEqual(e.failed('other'), { plan: undefined, returned: true });
  });

  it('from a server that was not away: 5xx may be shortened only by what the probe sees itself, 401/403 not at all', () => {
    const e = new OutageEvidence();
    assert.deepEqual(e.failed('unavailable'), { plan: { seenDown: false, backWhen: 'ready' }, returned: false });
    assert.deepEqual(e.failed('other'), { plan: undefined, returned: false });
  });

  it('a woken attempt that fails makes failures no proof until a success', () => {
    const e = new OutageEvidence();
    e.failed('unreachable');
    e.wokenEarly();
    assert.deepEqual(e.failed('unreachable'), { plan: { seenDown: false, backWhen: 'answers' }, returned: false });
    assert.deepEqual(e.failed('unreachable'), { plan: { seenDown: false, backWhen: 'answers' }, returned: false }, 'still, on the next failure');
    assert.deepEqual(e.failed('unavailable').returned, false, 'and an answer after it is no return');
    e.succeeded();
    assert.deepEqual(e.failed('unreachable'), { plan: { seenDown: true, backWhen: 'answers' }, returned: false });
  });

  it('an answer after a wake is not a second return', () => {
    const e = new OutageEvidence();
    e.failed('unreachable');
    e.wokenEarly();
    assert.equal(e.failed('unavailable').returned, false);
  });

  it('forgets an outage once a request succeeds', () => {
    const e = new OutageEvidence();
    e.failed('unreachable');
    e.succeeded();
    assert.deepEqual(e.failed('other'), { plan: undefined, returned: false });
  });
});
