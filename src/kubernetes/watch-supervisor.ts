/**
 * A list-then-watch loop that does not die: client-node 1.4.0's ListWatch
 * stops on the first error and its stop()/start() pair can let an old
 * request's abort tear down the new one (kubernetes-client/javascript#881).
 * The rules it follows (sessions, relist only on 410, backoff with an outage
 * probe, idle watchdog, no reconnect storm) and why are in
 * docs/architecture.md, "Watching". Nothing here ever clears what the
 * consumer holds: on errors it simply hears nothing until the next list or
 * event.
 */

import { setTimeout as delay } from 'node:timers/promises';
import { Backoff, type BackoffOptions } from './backoff.js';
import { silentLogger, type Logger } from '../logger.js';
import { describeError, httpStatusOf } from './errors.js';
import { failureKind, retryAfterMs, timeoutError } from './failure-kind.js';
import { OutageEvidence } from './outage-evidence.js';
import { DEFAULT_PROBE, serverReturned, type ProbeOptions, type Reachability } from './reachability.js';

export interface ListResult<T> {
  items: T[];
  resourceVersion: string;
}

export interface WatchStreamHandlers {
  /** One decoded watch event: ADDED, MODIFIED, DELETED, BOOKMARK or ERROR. */
  onEvent(type: string, object: unknown): void;
  /** The stream ended: null/undefined when the server closed it cleanly. */
  onDone(err: unknown): void;
}

export interface WatchStream {
  abort(): void;
}

/** The two API calls the supervisor needs; client-node in production, a fake in unit tests. */
export interface ListWatchClient<T> {
  /** What is being watched, for logs. */
  readonly description: string;
  /** A complete, consistent listing (all pages). Rejects on any failure; honours the signal. */
  list(signal: AbortSignal): Promise<ListResult<T>>;
  /**
   * Opens a watch from resourceVersion. Resolves once the stream is open;
   * failures, including failure to open, are reported through onDone (which
   * may run before this promise settles).
   */
  watch(resourceVersion: string, handlers: WatchStreamHandlers): Promise<WatchStream>;
  /**
   * Whether the server is back and ready (reachability.ts); never rejects.
   * Without it the loop only backs off.
   */
  probe?(signal: AbortSignal): Promise<Reachability>;
  /**
   * Whether a new watch from resourceVersion delivers a change (or a 410)
   * right away: true means the open stream missed what the server has, i.e.
   * it has stalled without an error; undefined when it cannot tell. Never
   * rejects. Without it only the idle timeout catches a stalled stream.
   */
  changedSince?(resourceVersion: string, signal: AbortSignal): Promise<boolean | undefined>;
}

export type ChangeType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface WatchCallbacks<T> {
  /** A full listing: the complete current set, replacing all earlier knowledge. */
  listed(items: T[]): void;
  /** One change seen on the watch. */
  changed(type: ChangeType, object: T): void;
  /** Connection or sync state changed (for metrics and readiness). */
  stateChanged?(state: Readonly<WatchState>): void;
}

export interface WatchState {
  /** At least one list succeeded. */
  synced: boolean;
  /** A watch stream is open right now. */
  connected: boolean;
  /** ms since epoch of the last successful list. */
  lastListTime?: number;
  /** ms since epoch of the last sign the watch is current: opened, an event, a bookmark. */
  lastActivityTime?: number;
  /** Watch attempts after the first one. */
  restarts: number;
  /** Successful lists after the first one (after 410 Gone). */
  relists: number;
  /** Failed lists and watches. */
  failures: number;
  /** Watches aborted by the watchdog for silence. */
  idleRestarts: number;
  /** Watches restarted because a fresh watch saw changes this one had not delivered. */
  stallRestarts: number;
  lastError?: string;
}

export interface WatchSupervisorOptions {
  /** Restart a watch that has delivered nothing (no event, no bookmark) for this long. */
  idleTimeoutMs: number;
  /**
   * After this long without anything on the stream, ask (changedSince)
   * whether the server has changes the stream has not delivered; 0: never.
   * Catches a silently stalled stream within about this long instead of the
   * idle timeout, which must stay above the server's bookmark interval.
   */
  stallCheckMs: number;
  /** How long a change seen by the check may still be on its way on the stream before the stream counts as stalled. */
  stallGraceMs: number;
  /** Abort a list that takes longer than this. */
  listTimeoutMs: number;
  /** Treat a watch that is not open after this long as failed. */
  connectTimeoutMs: number;
  /** A watch that ends sooner than this without delivering anything counts as a failure. */
  minHealthyMs: number;
  backoff: Partial<BackoffOptions>;
  /** The reachability probe's timing while waiting after a failure. */
  probe: ProbeOptions;
  logger: Logger;
  random: () => number;
}

export const DEFAULT_SUPERVISOR_OPTIONS: WatchSupervisorOptions = {
  idleTimeoutMs: 5 * 60_000,
  stallCheckMs: 15_000,
  stallGraceMs: 2_000,
  listTimeoutMs: 60_000,
  connectTimeoutMs: 30_000,
  minHealthyMs: 5_000,
  backoff: {},
  probe: DEFAULT_PROBE,
  logger: silentLogger,
  random: Math.random,
};

type SessionEnd = 'closed' | 'expired' | 'error' | 'idle' | 'stalled' | 'stopped';

interface SessionResult {
  end: SessionEnd;
  error?: unknown;
  opened: boolean;
  events: number;
  durationMs: number;
}

interface WatchEventStatus {
  code?: number;
  reason?: string;
  message?: string;
}

interface WithResourceVersion {
  metadata?: { resourceVersion?: string };
}

export class WatchSupervisor<T extends WithResourceVersion> {
  private readonly options: WatchSupervisorOptions;
  private readonly backoff: Backoff;
  private resourceVersion = '';
  private stopping = false;
  private loop: Promise<void> | undefined;
  private endSession: ((end: SessionEnd) => void) | undefined;
  private listAbort: AbortController | undefined;
  private wake: (() => void) | undefined;
  /** What the failures so far say about the server, for the probe (outage-evidence.ts). */
  private readonly evidence = new OutageEvidence();
  private lists = 0;
  /** The next watch starts from a list's resourceVersion, not from one held for a while. */
  private watchFromFreshList = false;
  private watches = 0;
  private readonly current: WatchState = {
    synced: false,
    connected: false,
    restarts: 0,
    relists: 0,
    failures: 0,
    idleRestarts: 0,
    stallRestarts: 0,
  };

  constructor(
    private readonly client: ListWatchClient<T>,
    private readonly callbacks: WatchCallbacks<T>,
    options: Partial<WatchSupervisorOptions> = {},
  ) {
    this.options = { ...DEFAULT_SUPERVISOR_OPTIONS, ...options, probe: { ...DEFAULT_PROBE, ...options.probe } };
    this.backoff = new Backoff(this.options.backoff, this.options.random);
  }

  get state(): Readonly<WatchState> {
    return { ...this.current };
  }

  /** The resourceVersion the next watch starts from ('' = relist first). */
  get lastResourceVersion(): string {
    return this.resourceVersion;
  }

  start(): void {
    if (this.loop) throw new Error(`watch of ${this.client.description} already started`);
    this.stopping = false;
    this.loop = this.run().catch((err: unknown) => {
      // run() catches everything it expects; this is a bug, but still must not crash the process.
      this.options.logger.error('watch loop failed', { watch: this.client.description, error: describeError(err) });
    });
  }

  /** Stops for good: aborts the current request, cancels any wait, and returns once the loop has exited. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.endSession?.('stopped');
    this.listAbort?.abort();
    this.wake?.();
    await this.loop;
    this.loop = undefined;
  }

  private async run(): Promise<void> {
    while (!this.stopping) {
      if (this.resourceVersion === '') {
        const failure = await this.relist();
        if (this.stopping) break;
        if (failure) {
          await this.waitAfterFailure(failure.error);
          continue;
        }
      }
      const fromFreshList = this.watchFromFreshList;
      this.watchFromFreshList = false;
      const result = await this.watchOnce(this.resourceVersion);
      if (this.stopping || result.end === 'stopped') break;
      const healthy = result.events > 0 || (result.opened && result.durationMs >= this.options.minHealthyMs);
      if (healthy) this.recovered();
      const log = this.options.logger;
      const fields = { watch: this.client.description, events: result.events, durationMs: result.durationMs };
      switch (result.end) {
        case 'expired':
          log.info('watch resourceVersion expired (410); relisting', fields);
          this.resourceVersion = '';
          break;
        case 'closed':
          log.debug('watch closed by server; resuming', fields);
          break;
        case 'idle':
          this.current.idleRestarts++;
          log.warn('watch silent for too long; restarting it', { ...fields, idleTimeoutMs: this.options.idleTimeoutMs });
          break;
        case 'stalled':
          this.current.stallRestarts++;
          log.warn('watch stalled: a fresh watch saw changes this one did not deliver; restarting it', fields);
          break;
        case 'error':
          this.fail(result.error, 'watch failed');
          break;
      }
      if (result.end === 'error') await this.waitAfterFailure(result.error);
      // A 410 on a resourceVersion we have held for a while (typical right
      // after an API server restart) means: relist now. Only a 410 right
      // after a fresh list suggests a server in trouble and waits.
      else if (!healthy && (result.end !== 'expired' || fromFreshList)) await this.sleep(this.backoff.next());
    }
  }

  /**
   * The wait after a failed list or watch: the backoff, or longer if the
   * server asked for more (Retry-After; 1 s for a 429 without one, which is
   * what kube-apiserver sends while its watch cache fills). When the failure
   * may be an outage, the reachability probe may end the wait early, but
   * never before what the server asked for.
   */
  private async waitAfterFailure(err: unknown): Promise<void> {
    const { plan, returned } = this.evidence.failed(failureKind(err));
    if (returned) {
      this.backoff.reset();
      this.options.logger.info('API server is back', { watch: this.client.description, seenBy: 'request', error: describeError(err) });
    }
    const floorMs = retryAfterMs(err);
    const waitMs = Math.max(floorMs, this.backoff.next());
    const probe = this.client.probe?.bind(this.client);
    if (!probe || !plan) {
      await this.sleep(waitMs);
      return;
    }
    const started = Date.now();
    const woken = await this.sleep(waitMs, async (signal) => {
      if (!(await serverReturned(probe, plan, this.options.probe, this.options.random, signal))) return false;
      return pause(floorMs - (Date.now() - started), signal);
    });
    if (!woken) return;
    this.evidence.wokenEarly();
    // A fresh start: had the backoff kept its growth, the first 429 of the restarted server would cost a full cap.
    this.backoff.reset();
    this.options.logger.info('API server is back', { watch: this.client.description, seenBy: 'probe', waitedMs: Date.now() - started, backoffMs: waitMs });
  }

  /** The server served a list or a healthy watch: forget past failures. */
  private recovered(): void {
    this.backoff.reset();
    this.evidence.succeeded();
  }

  /** One list. Returns its error if it failed, undefined if it succeeded or the loop stopped. */
  private async relist(): Promise<{ error: unknown } | undefined> {
    const abort = new AbortController();
    this.listAbort = abort;
    const timer = setTimeout(() => abort.abort(timeoutError(`list timed out after ${this.options.listTimeoutMs} ms`)), this.options.listTimeoutMs);
    try {
      const result = await Promise.race([
        this.client.list(abort.signal),
        // Also give up on a list that ignores its signal.
        new Promise<never>((_, reject) => abort.signal.addEventListener('abort', () => reject(abort.signal.reason), { once: true })),
      ]);
      if (this.stopping) return undefined;
      if (!result.resourceVersion) throw new Error('list returned no resourceVersion');
      this.resourceVersion = result.resourceVersion;
      this.watchFromFreshList = true;
      if (this.lists++ > 0) this.current.relists++;
      this.current.synced = true;
      this.current.lastListTime = Date.now();
      this.recovered();
      this.options.logger.debug('listed', { watch: this.client.description, items: result.items.length, resourceVersion: result.resourceVersion });
      this.deliver(() => this.callbacks.listed(result.items));
      this.notify();
      return undefined;
    } catch (err) {
      if (this.stopping) return undefined;
      this.fail(err, 'list failed');
      return { error: err };
    } finally {
      clearTimeout(timer);
      this.listAbort = undefined;
    }
  }

  private watchOnce(resourceVersion: string): Promise<SessionResult> {
    const startedAt = Date.now();
    if (this.watches++ > 0) this.current.restarts++;
    return new Promise<SessionResult>((resolve) => {
      let finished = false;
      let opened = false;
      let events = 0;
      let stream: WatchStream | undefined;
      let expired = false;
      let streamError: WatchEventStatus | undefined;
      let lastActivity = startedAt;
      let watchdog: NodeJS.Timeout | undefined;
      let stallTimer: NodeJS.Timeout | undefined;
      const stallAbort = new AbortController();
      const connectTimer = setTimeout(
        () => finish('error', timeoutError(`watch not open after ${this.options.connectTimeoutMs} ms`)),
        this.options.connectTimeoutMs,
      );

      const finish = (end: SessionEnd, error?: unknown): void => {
        if (finished) return;
        finished = true;
        clearTimeout(connectTimer);
        clearTimeout(watchdog);
        clearTimeout(stallTimer);
        stallAbort.abort();
        if (this.endSession === finishFromOutside) this.endSession = undefined;
        if (stream) abortQuietly(stream);
        if (this.current.connected) {
          this.current.connected = false;
          this.notify();
        }
        resolve({ end, error, opened, events, durationMs: Date.now() - startedAt });
      };
      const finishFromOutside = (end: SessionEnd): void => finish(end);
      this.endSession = finishFromOutside;

      const touch = (): void => {
        lastActivity = Date.now();
        this.current.lastActivityTime = lastActivity;
      };
      const checkIdle = (): void => {
        if (finished) return;
        const idleFor = Date.now() - lastActivity;
        if (idleFor >= this.options.idleTimeoutMs) finish('idle');
        else watchdog = setTimeout(checkIdle, this.options.idleTimeoutMs - idleFor);
      };
      const changedSince = this.client.changedSince?.bind(this.client);
      const stallEvery = this.options.stallCheckMs;
      const checkStall = async (): Promise<void> => {
        if (finished || !changedSince) return;
        const quietFor = Date.now() - lastActivity;
        if (quietFor < stallEvery) {
          stallTimer = setTimeout(() => void checkStall(), stallEvery - quietFor);
          return;
        }
        const before = lastActivity;
        const changed = await changedSince(this.resourceVersion, stallAbort.signal);
        if (finished) return;
        // What the check saw may still be on its way on this stream: give it a moment.
        if (changed === true) await pause(this.options.stallGraceMs, stallAbort.signal);
        if (finished) return;
        if (changed === true && lastActivity === before) finish('stalled');
        else stallTimer = setTimeout(() => void checkStall(), stallEvery);
      };

      const handlers: WatchStreamHandlers = {
        onEvent: (type, object) => {
          if (finished) return;
          touch();
          if (type === 'ERROR') {
            // A Status object; the server closes the stream right after it.
            const status = (object ?? {}) as WatchEventStatus;
            if (status.code === 410) expired = true;
            else streamError = status;
            return;
          }
          const rv = (object as WithResourceVersion | null)?.metadata?.resourceVersion;
          if (type === 'BOOKMARK') {
            if (rv) this.resourceVersion = rv;
            return;
          }
          if (type !== 'ADDED' && type !== 'MODIFIED' && type !== 'DELETED') return;
          if (!object || typeof object !== 'object') return;
          events++;
          this.deliver(() => this.callbacks.changed(type, object as T));
          if (rv) this.resourceVersion = rv;
        },
        onDone: (err) => {
          if (finished) return;
          if (expired || httpStatusOf(err) === 410) finish('expired');
          else if (err) finish('error', err);
          else if (streamError) finish('error', watchErrorEvent(streamError));
          else finish('closed');
        },
      };

      this.client.watch(resourceVersion, handlers).then(
        (s) => {
          if (finished) {
            // Too late (stopped, timed out, or already failed): do not leave it open.
            abortQuietly(s);
            return;
          }
          stream = s;
          opened = true;
          clearTimeout(connectTimer);
          touch();
          this.current.connected = true;
          this.notify();
          watchdog = setTimeout(checkIdle, this.options.idleTimeoutMs);
          if (stallEvery > 0 && changedSince) stallTimer = setTimeout(() => void checkStall(), stallEvery);
        },
        (err: unknown) => finish('error', err),
      );
    });
  }

  private fail(err: unknown, what: string): void {
    this.current.failures++;
    this.current.lastError = describeError(err);
    this.options.logger.warn(what, {
      watch: this.client.description,
      error: this.current.lastError,
      attempt: this.backoff.attempts + 1,
    });
    this.notify();
  }

  /** Consumer code runs here; its failures are logged, never allowed to break the loop. */
  private deliver(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.options.logger.error('consumer of watch events threw', { watch: this.client.description, error: describeError(err) });
    }
  }

  private notify(): void {
    if (this.callbacks.stateChanged) this.deliver(() => this.callbacks.stateChanged?.(this.state));
  }

  /**
   * Waits ms, or less if `early` resolves true first (it is handed a signal
   * that aborts when the wait ends either way). stop() cuts any wait short.
   * Returns whether `early` ended it.
   */
  private async sleep(ms: number, early?: (signal: AbortSignal) => Promise<boolean>): Promise<boolean> {
    if (this.stopping) return false;
    const done = new AbortController();
    this.wake = () => done.abort();
    try {
      const timer = pause(ms, done.signal).then(() => false);
      if (!early) return await timer;
      // A shortcut that fails is no shortcut: the loop must never die of it.
      const shortcut = early(done.signal).then(
        (back) => (back ? true : timer),
        () => timer,
      );
      return await Promise.race([timer, shortcut]);
    } finally {
      done.abort();
      this.wake = undefined;
    }
  }
}

/** Resolves true after ms, false at once if the signal aborts first. */
async function pause(ms: number, signal: AbortSignal): Promise<boolean> {
  if (ms <= 0) return !signal.aborted;
  try {
    await delay(ms, undefined, { signal });
    return true;
  } catch {
    return false;
  }
}

/** An in-stream ERROR event as an error with its HTTP code, so it is classified like the same status on a request. */
function watchErrorEvent(status: WatchEventStatus): Error {
  const error = new Error(`watch error event: ${status.code ?? '?'} ${status.reason ?? ''} ${status.message ?? ''}`.trim());
  return typeof status.code === 'number' ? Object.assign(error, { statusCode: status.code }) : error;
}

function abortQuietly(stream: WatchStream): void {
  try {
    stream.abort();
  } catch {
    // Aborting an already-finished request may throw; nothing is left to clean up.
  }
}
