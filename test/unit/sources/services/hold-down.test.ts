/** The hold-down with a hand-driven clock: records outlive the last ready endpoint by exactly the hold-down, and come back at once. */
import assert from 'node:assert/strict';
import { HoldDown, type Clock } from '../../../../src/sources/services/hold-down.js';

class FakeClock implements Clock {
  time = 0;
  private timers = new Map<number, { at: number; fn: () => void }>();
  private next = 1;
  now(): number {
    return this.time;
  }
  setTimer(fn: () => void, ms: number): unknown {
    const id = this.next++;
    this.timers.set(id, { at: this.time + ms, fn });
    return id;
  }
  clearTimer(handle: unknown): void {
    this.timers.delete(handle as number);
  }
  get pending(): number {
    return this.timers.size;
  }
  advance(ms: number): void {
    this.time += ms;
    for (const [id, t] of [...this.timers].sort((a, b) => a[1].at - b[1].at)) {
      if (t.at > this.time) continue;
      this.timers.delete(id);
      t.fn();
    }
  }
}

describe('services: hold-down', () => {
  let clock: FakeClock;
  let expired: string[];
  let hold: HoldDown;
  beforeEach(() => {
    clock = new FakeClock();
    expired = [];
    hold = new HoldDown(5000, (k) => expired.push(k), clock);
  });

  it('never healthy → not published, nothing held', () => {
    assert.equal(hold.update('a', false), false);
    assert.equal(clock.pending, 0);
  });

  it('loses its last ready endpoint → still published until the hold-down ends, then withdrawn once', () => {
    assert.equal(hold.update('a', true), true);
    assert.equal(hold.update('a', false), true);
    clock.advance(4999);
    assert.deepEqual(expired, []);
    assert.equal(hold.update('a', false), true, 'a repeat inside the hold-down does not restart or end it');
    clock.advance(1);
    assert.deepEqual(expired, ['a']);
    assert.equal(hold.update('a', false), false);
    clock.advance(60_000);
    assert.deepEqual(expired, ['a']);
  });

  it('ready again inside the hold-down → published, the pending withdrawal cancelled', () => {
    hold.update('a', true);
    hold.update('a', false);
    clock.advance(3000);
    assert.equal(hold.update('a', true), true);
    assert.equal(clock.pending, 0);
    clock.advance(10_000);
    assert.deepEqual(expired, []);
    // A later loss gets a full hold-down of its own.
    hold.update('a', false);
    clock.advance(4999);
    assert.deepEqual(expired, []);
    clock.advance(1);
    assert.deepEqual(expired, ['a']);
  });

  it('ready again after the withdrawal → published at once', () => {
    hold.update('a', true);
    hold.update('a', false);
    clock.advance(5000);
    assert.equal(hold.update('a', true), true);
  });

  it('keys are independent; forget() and stop() cancel timers', () => {
    hold.update('a', true);
    hold.update('b', true);
    hold.update('a', false);
    clock.advance(2000);
    hold.update('b', false);
    assert.deepEqual(hold.holding().sort(), ['a', 'b']);
    clock.advance(3000);
    assert.deepEqual(expired, ['a']);
    hold.forget('b');
    clock.advance(5000);
    assert.deepEqual(expired, ['a']);
    hold.update('c', true);
    hold.update('c', false);
    hold.stop();
    assert.equal(clock.pending, 0);
  });

  it('a hold-down of 0 withdraws at once', () => {
    const h = new HoldDown(0, (k) => expired.push(k), clock);
    h.update('a', true);
    assert.equal(h.update('a', false), false);
    assert.equal(clock.pending, 0);
  });
});
