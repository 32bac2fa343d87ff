/**
 * The queue status and Event writes wait in. Writes are feedback for humans,
 * not part of serving, so they run one at a time, behind a token bucket, off
 * the path that swaps zone snapshots. Tasks are keyed: enqueueing a key that
 * is already waiting replaces its task in place, so a burst of reports for one
 * object costs one write, made with the newest data. Callers key by object, so
 * the queue holds at most a few tasks per object and needs no cap of its own:
 * a cap would have to refuse some object's feedback, and that object would
 * then never hear back until it changed.
 */

import { describeError } from '../kubernetes/errors.js';
import { silentLogger, type Logger } from '../logger.js';

export interface WriteQueueOptions {
  /** Sustained writes per second. */
  ratePerSecond: number;
  /** Writes allowed back to back after a quiet period. */
  burst: number;
  logger: Logger;
}

export type WriteTask = () => Promise<void>;

export class WriteQueue {
  private readonly options: WriteQueueOptions;
  private readonly pending = new Map<string, WriteTask>();
  private tokens: number;
  private refilledAt = Date.now();
  private running: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private idleWaiters: Array<() => void> = [];

  constructor(options: Partial<WriteQueueOptions> = {}) {
    this.options = { ratePerSecond: 5, burst: 20, logger: silentLogger, ...options };
    if (!(this.options.ratePerSecond > 0) || !(this.options.burst >= 1)) {
      throw new RangeError('write queue needs ratePerSecond > 0 and burst >= 1');
    }
    this.tokens = this.options.burst;
  }

  /** Tasks waiting (not counting one that is running). */
  get size(): number {
    return this.pending.size;
  }

  get busy(): boolean {
    return this.running !== undefined || this.pending.size > 0;
  }

  /** Adds or replaces the task for `id`. Returns false once stopped. */
  enqueue(id: string, task: WriteTask): boolean {
    if (this.stopped) return false;
    this.pending.set(id, task);
    this.pump();
    return true;
  }

  has(id: string): boolean {
    return this.pending.has(id);
  }

  /** Resolves when nothing is waiting or running. */
  idle(): Promise<void> {
    if (!this.busy) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Drops waiting tasks and waits for the running one. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.pending.clear();
    await this.running;
    this.settleIdle();
  }

  private pump(): void {
    if (this.running || this.timer || this.stopped) return;
    const next = this.pending.entries().next();
    if (next.done) {
      this.settleIdle();
      return;
    }
    this.refill();
    if (this.tokens < 1) {
      const waitMs = Math.ceil(((1 - this.tokens) / this.options.ratePerSecond) * 1000);
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.pump();
      }, waitMs);
      this.timer.unref();
      return;
    }
    this.tokens -= 1;
    const [id, task] = next.value;
    this.pending.delete(id);
    this.running = task()
      .catch((err: unknown) => this.options.logger.error('status write task threw', { task: id, error: describeError(err) }))
      .finally(() => {
        this.running = undefined;
        this.pump();
      });
  }

  private refill(): void {
    const now = Date.now();
    this.tokens = Math.min(this.options.burst, this.tokens + ((now - this.refilledAt) / 1000) * this.options.ratePerSecond);
    this.refilledAt = now;
  }

  private settleIdle(): void {
    if (this.busy) return;
    for (const resolve of this.idleWaiters.splice(0)) resolve();
  }
}
