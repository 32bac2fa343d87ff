/**
 * Anti-flap for health-gated records: an object that loses its last ready
 * endpoint keeps its records for a hold-down period, because a rolling
 * restart or a probe blip briefly leaves a Service with none, and withdrawing
 * then would make resolvers cache an NXDOMAIN past the recovery. Recovery is
 * never delayed: the first ready endpoint brings the records back at once.
 * An object never seen healthy is not held: there is nothing to keep.
 */

export interface Clock {
  now(): number;
  setTimer(fn: () => void, ms: number): unknown;
  clearTimer(handle: unknown): void;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimer: (fn, ms) => {
    const t = setTimeout(fn, ms);
    // A pending withdrawal must not keep a stopping process alive.
    t.unref();
    return t;
  },
  clearTimer: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

type State = { kind: 'up' } | { kind: 'down' } | { kind: 'holding'; since: number; timer: unknown };

export class HoldDown {
  private readonly states = new Map<string, State>();

  /**
   * @param onExpire called when a key's hold-down ran out: ask update() again
   *   (it now answers false) and withdraw.
   */
  constructor(
    private readonly holdMs: number,
    private readonly onExpire: (key: string) => void,
    private readonly clock: Clock = systemClock,
  ) {}

  /** Whether the key's records are published now, given whether it has a ready endpoint now. */
  update(key: string, healthy: boolean): boolean {
    const state = this.states.get(key);
    if (healthy) {
      if (state?.kind === 'holding') this.clock.clearTimer(state.timer);
      if (state?.kind !== 'up') this.states.set(key, { kind: 'up' });
      return true;
    }
    if (state === undefined || state.kind === 'down') {
      this.states.set(key, { kind: 'down' });
      return false;
    }
    if (state.kind === 'holding') return true;
    if (this.holdMs <= 0) {
      this.states.set(key, { kind: 'down' });
      return false;
    }
    const timer = this.clock.setTimer(() => {
      const current = this.states.get(key);
      if (current?.kind !== 'holding' || current.timer !== timer) return;
      this.states.set(key, { kind: 'down' });
      this.onExpire(key);
    }, this.holdMs);
    this.states.set(key, { kind: 'holding', since: this.clock.now(), timer });
    return true;
  }

  /** The object is gone (or no longer gated): drop its state and any timer. */
  forget(key: string): void {
    const state = this.states.get(key);
    if (state?.kind === 'holding') this.clock.clearTimer(state.timer);
    this.states.delete(key);
  }

  /** Keys currently inside their hold-down. */
  holding(): string[] {
    return [...this.states].filter(([, s]) => s.kind === 'holding').map(([k]) => k);
  }

  stop(): void {
    for (const key of [...this.states.keys()]) this.forget(key);
  }
}
