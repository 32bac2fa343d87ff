/**
 * The main thread's side of `crdns serve --workers N`: starts N serving
 * workers (serving-worker.ts), each on its own addresses, hands every build
 * step of the zone store to each of them, and restarts one that dies with a
 * full step of the current inputs. There is still one source and one store,
 * so one Kubernetes watch however many workers there are; each worker holds
 * a replica of the snapshot (memory grows by one snapshot per worker).
 */
import { Worker } from 'node:worker_threads';
import type { ZoneConfig } from '../../dns/zone-config.js';
import type { Logger, LogLevel } from '../../logger.js';
import type { BuildStep, RebuildEvent } from '../../store/zone-store.js';
import { ListenError } from '../grpc-server.js';
import type { FromWorker, QueryTally, ToWorker, WorkerInit } from './protocol.js';
import { encodeBuildStep } from './step-codec.js';

/** A worker that died is started again after this long, so a crash loop cannot spin a core. */
const RESTART_DELAY_MS = 1000;
const TALLY_INTERVAL_MS = 250;

export interface WorkerPoolOptions {
  zones: readonly ZoneConfig[];
  /** Per worker, its plain-text gRPC addresses (`{worker}` already replaced). */
  listen: readonly (readonly string[])[];
  logLevel: LogLevel;
  logger: Logger;
  /** The store's latest state as a full build step, for a worker that starts late or lost its replica. */
  currentBuild: () => BuildStep | undefined;
  /** Called before a worker is started again, e.g. to clear a dead unix socket it left. */
  beforeRestart?: (listen: readonly string[]) => Promise<void>;
  onTally?: (t: QueryTally) => void;
  onRestart?: () => void;
}

interface Slot {
  index: number;
  worker: Worker | undefined;
  listening: boolean;
  /** Generation of the last build step this worker applied. */
  applied: number;
  stopping: boolean;
}

export class WorkerPool {
  private readonly slots: Slot[];
  private serving = false;
  private stopped = false;

  constructor(private readonly opts: WorkerPoolOptions) {
    this.slots = opts.listen.map((_, index) => ({ index, worker: undefined, listening: false, applied: 0, stopping: false }));
  }

  /** Starts every worker; resolves to every bound address once all listen, or rejects with the first ListenError. */
  async start(): Promise<string[]> {
    const bound = await Promise.all(this.slots.map((s) => this.spawn(s)));
    return bound.flat();
  }

  /**
   * Some worker listens and serves a snapshot. Not every one: while a crashed
   * worker restarts (about a second), CoreDNS moves on to the others, and
   * the pod should keep its place behind the Service.
   */
  get ready(): boolean {
    return this.slots.some((s) => s.listening && s.applied > 0);
  }

  details(): Array<{ worker: number; listening: boolean; generation: number }> {
    return this.slots.map((s) => ({ worker: s.index, listening: s.listening, generation: s.applied }));
  }

  rebuilt(e: RebuildEvent): void {
    this.broadcast({ kind: 'build', step: encodeBuildStep(e.build) });
  }

  setServing(serving: boolean): void {
    // A worker started later is told at its start.
    if (serving === this.serving) return;
    this.serving = serving;
    this.broadcast({ kind: 'health', serving });
  }

  async stop(graceMs = 5000): Promise<void> {
    this.stopped = true;
    await Promise.all(
      this.slots.map(async (s) => {
        const w = s.worker;
        if (!w) return;
        s.stopping = true;
        const exited = new Promise<void>((resolve) => w.once('exit', () => resolve()));
        w.postMessage({ kind: 'stop', graceMs } satisfies ToWorker);
        const timer = setTimeout(() => void w.terminate(), graceMs + 1000);
        await exited;
        clearTimeout(timer);
      }),
    );
  }

  /** Ends one worker the way a crash would (it is started again): for tests and chaos runs. */
  async crash(index: number): Promise<void> {
    await this.slots[index]?.worker?.terminate();
  }

  private broadcast(m: ToWorker): void {
    for (const s of this.slots) s.worker?.postMessage(m);
  }

  private spawn(slot: Slot): Promise<string[]> {
    const init: WorkerInit = { index: slot.index, zones: this.opts.zones, listen: this.opts.listen[slot.index] as string[], logLevel: this.opts.logLevel, tallyIntervalMs: TALLY_INTERVAL_MS };
    const worker = new Worker(new URL('./serving-worker.js', import.meta.url), { workerData: init });
    slot.worker = worker;
    slot.listening = false;
    slot.applied = 0;
    // Queued until the worker reads its port: it starts from the store's state of now, and the steps after follow in order.
    const current = this.opts.currentBuild();
    if (current) worker.postMessage({ kind: 'build', step: encodeBuildStep(current) } satisfies ToWorker);
    worker.postMessage({ kind: 'health', serving: this.serving } satisfies ToWorker);
    return new Promise<string[]>((resolve, reject) => {
      let settled = false;
      worker.on('message', (m: FromWorker) => {
        switch (m.kind) {
          case 'listening':
            slot.listening = true;
            settled = true;
            resolve(m.addresses);
            return;
          case 'listen-failed':
            settled = true;
            reject(new ListenError(m.address, m.reason));
            return;
          case 'applied':
            slot.applied = m.generation;
            return;
          case 'build-failed': {
            this.opts.logger.warn('serving worker could not apply a build step; sending it the whole current state', { worker: slot.index, generation: m.generation, error: m.error });
            // Its replica is now behind: start it over from the whole current state.
            const step = this.opts.currentBuild();
            if (step) worker.postMessage({ kind: 'build', step: encodeBuildStep(step) } satisfies ToWorker);
            return;
          }
          case 'tally':
            this.opts.onTally?.(m.tally);
            return;
          case 'stopped':
            return;
        }
      });
      worker.on('error', (err) => {
        this.opts.logger.error('serving worker failed', { worker: slot.index, error: err });
        if (!settled) {
          settled = true;
          reject(err);
        }
      });
      worker.on('exit', (code) => {
        slot.worker = undefined;
        slot.listening = false;
        if (this.stopped || slot.stopping || !settled) return;
        this.opts.logger.error('serving worker exited; starting it again', { worker: slot.index, code, delayMs: RESTART_DELAY_MS });
        this.opts.onRestart?.();
        setTimeout(() => void this.restart(slot), RESTART_DELAY_MS);
      });
    });
  }

  private async restart(slot: Slot): Promise<void> {
    if (this.stopped) return;
    try {
      await this.opts.beforeRestart?.(this.opts.listen[slot.index] as string[]);
    } catch (err) {
      this.opts.logger.error('serving worker cannot start again yet; retrying', { worker: slot.index, error: err });
      setTimeout(() => void this.restart(slot), RESTART_DELAY_MS);
      return;
    }
    // A worker that fails to listen exits, and its exit schedules the next try.
    this.spawn(slot).then(
      () => this.opts.logger.info('serving worker listening again', { worker: slot.index }),
      (err: unknown) => this.opts.logger.error('serving worker could not start again; retrying', { worker: slot.index, error: err }),
    );
  }
}
