/**
 * Keeps --snapshot-file up to date without ever being in the way: told of
 * each rebuild, it writes about a second later (changes in that second ride
 * along), never more than once per interval, one write at a time, and always
 * the state at the moment of writing. A failed write is logged and counted
 * and tried again later; it never stops crdns.
 */
import { silentLogger, type Logger } from '../logger.js';
import { writeFileAtomic } from './atomic-write.js';

export interface SnapshotFileWriterOptions {
  path: string;
  /** The file's content now, or undefined when there is nothing that should be written (yet). */
  render: () => string | undefined;
  /** Delay after a change, and the least time between two writes. Default 1000 ms. */
  intervalMs?: number;
  /** After a failed write, the next attempt waits at least this long. Default 10 s. */
  retryMs?: number;
  logger?: Logger;
  onWritten?: (bytes: number, at: number) => void;
  onFailed?: (err: unknown) => void;
  clock?: () => number;
  /** Injectable for tests; returns a cancel function. */
  setTimer?: (fn: () => void, ms: number) => () => void;
  write?: (path: string, data: string) => Promise<void>;
}

export class SnapshotFileWriter {
  private readonly intervalMs: number;
  private readonly retryMs: number;
  private readonly logger: Logger;
  private readonly clock: () => number;
  private readonly setTimer: (fn: () => void, ms: number) => () => void;
  private readonly write: (path: string, data: string) => Promise<void>;
  private dirty = false;
  private cancelTimer: (() => void) | undefined;
  private writing: Promise<void> | undefined;
  /** When the last write started; the next may start intervalMs (retryMs after a failure) later. */
  private lastStart = -Infinity;
  private lastFailed = false;
  private lastFailure = '';
  private closed = false;

  constructor(private readonly options: SnapshotFileWriterOptions) {
    this.intervalMs = options.intervalMs ?? 1000;
    this.retryMs = options.retryMs ?? 10_000;
    this.logger = options.logger ?? silentLogger;
    this.clock = options.clock ?? Date.now;
    this.setTimer =
      options.setTimer ??
      ((fn, ms) => {
        const t = setTimeout(fn, ms);
        // A pending write must not keep a stopping process alive; close() writes what is pending.
        t.unref();
        return () => clearTimeout(t);
      });
    this.write = options.write ?? writeFileAtomic;
  }

  /** Something changed: write within about a second. */
  changed(): void {
    if (this.closed) return;
    this.dirty = true;
    this.arm();
  }

  /** Writes what is pending now (for shutdown), then accepts no more changes. */
  async close(): Promise<void> {
    this.closed = true;
    this.cancelTimer?.();
    this.cancelTimer = undefined;
    await this.writing;
    if (this.dirty) await this.run();
  }

  private arm(): void {
    if (this.cancelTimer || this.writing || !this.dirty || this.closed) return;
    const gap = this.lastFailed ? this.retryMs : this.intervalMs;
    const wait = Math.max(this.intervalMs, this.lastStart + gap - this.clock());
    this.cancelTimer = this.setTimer(() => {
      this.cancelTimer = undefined;
      void this.run();
    }, wait);
  }

  private run(): Promise<void> {
    if (!this.dirty) return Promise.resolve();
    this.dirty = false;
    let text: string | undefined;
    try {
      text = this.options.render();
    } catch (err) {
      this.lastStart = this.clock();
      this.failed(err);
      return Promise.resolve();
    }
    if (text === undefined) return Promise.resolve();
    this.lastStart = this.clock();
    const bytes = Buffer.byteLength(text, 'utf8');
    this.writing = this.write(this.options.path, text)
      .then(
        () => {
          if (this.lastFailed) this.logger.info('snapshot file written again', { file: this.options.path });
          this.lastFailed = false;
          this.lastFailure = '';
          this.logger.debug('snapshot file written', { file: this.options.path, bytes });
          this.options.onWritten?.(bytes, this.clock());
        },
        (err: unknown) => this.failed(err),
      )
      .finally(() => {
        this.writing = undefined;
        this.arm();
      });
    return this.writing;
  }

  private failed(err: unknown): void {
    this.lastFailed = true;
    // Tried again later with the state of that moment.
    this.dirty = true;
    const reason = err instanceof Error ? err.message : String(err);
    // A full disk fails every attempt the same way: one warning per distinct reason, not one per retry.
    if (reason !== this.lastFailure) this.logger.warn('snapshot file not written; serving is not affected, will retry', { file: this.options.path, error: reason, retrySeconds: this.retryMs / 1000 });
    else this.logger.debug('snapshot file still not written', { file: this.options.path, error: reason });
    this.lastFailure = reason;
    this.options.onFailed?.(err);
    if (!this.writing) this.arm();
  }
}
