/**
 * Feedback on DNSEndpoints: after a snapshot build, tell each touched object
 * what became of it (observedGeneration, the Accepted condition, Warning
 * Events). The contract and the reasons are in docs/architecture.md,
 * "Feedback contract".
 */

import { hostname } from 'node:os';
import type { KubeConfig } from '@kubernetes/client-node';
import { problemId, type EndpointProblem } from '../endpoint/endpoint.js';
import { Backoff, type BackoffOptions } from '../kubernetes/backoff.js';
import type { Condition, DirectoryEntry, DnsEndpointStatus, ObjectDirectory } from '../sources/dnsendpoints/resource.js';
import { describeProblem, problemEvent, truncate, type EventReporter } from './events.js';
import type { EventBody } from './status-api.js';
import { KubernetesStatusApi, type StatusApi } from './status-api.js';
import { describeError, httpStatusOf } from '../kubernetes/errors.js';
import { silentLogger, type Logger } from '../logger.js';
import { WriteQueue } from './write-queue.js';

export const ACCEPTED_CONDITION = 'Accepted';

export interface StatusReporterOptions {
  /** Where current object state comes from: the DnsEndpointSource. */
  directory: ObjectDirectory;
  /** Credentials for the writes (ignored when `api` is given). */
  kubeConfig?: KubeConfig;
  /** The write API; defaults to client-node with `kubeConfig`. */
  api?: StatusApi;
  logger?: Logger;
  /** Sustained API writes per second (status patches and events together). Default 5. */
  writesPerSecond?: number;
  /** Burst of writes after a quiet period. Default 20. */
  burst?: number;
  /** Write the Accepted condition (when the CRD allows it). Default true. */
  conditions?: boolean;
  /** Emit Warning Events. Default true. */
  events?: boolean;
  /** Event source / reportingComponent. Default "crdns". */
  component?: string;
  /** Event reportingInstance. Default the host name (the pod name in Kubernetes). */
  instance?: string;
  /** Per-request timeout. Default 15 s. */
  requestTimeoutMs?: number;
  /** Retry delays for failed writes. Default 1 s doubling to 5 min. */
  retry?: Partial<BackoffOptions>;
}

export interface StatusReporterStats {
  statusWrites: number;
  statusWriteFailures: number;
  eventsCreated: number;
  /** Event creations that found the event already there (another replica, or before a restart). */
  eventsAlreadyRecorded: number;
  /** Events given up on after repeated failures. */
  eventsDropped: number;
  /** Writes waiting in the queue or for a retry. */
  pending: number;
  /** Whether the CRD keeps status.conditions: undefined until the first write tells. */
  conditionsSupported: boolean | undefined;
}

interface AcceptedState {
  status: 'True' | 'False';
  reason: string;
  message: string;
}

interface Desired {
  generation: number;
  accepted: AcceptedState;
}

/** What the reporter remembers per object (for the current uid and generation only). */
interface Memory {
  uid: string;
  generation: number;
  /** Problems of this generation already queued or recorded as Events (problemId within the object). */
  emitted: Set<string>;
  /** Events queued for this object and not yet written, oldest first. */
  unwritten: Array<{ event: EventBody; attempt: number }>;
  desired?: Desired;
  /** The last status write for `desired`: resourceVersion before it and after it. */
  written?: { fingerprint: string; before: string; after?: string };
}

const MAX_CONDITION_MESSAGE = 1024;
const CONDITIONS_REPROBE_MS = 60 * 60_000;
const MAX_EVENT_ATTEMPTS = 5;
/** Reports looked at per turn of the event loop when many arrive at once. */
const REPORT_SLICE = 500;

export class StatusReporter {
  private readonly directory: ObjectDirectory;
  private readonly api: StatusApi;
  private readonly logger: Logger;
  private readonly queue: WriteQueue;
  private readonly reporter: EventReporter;
  private readonly wantConditions: boolean;
  private readonly wantEvents: boolean;
  private readonly requestTimeoutMs: number;
  private readonly retryOptions: Partial<BackoffOptions>;
  private readonly memory = new Map<string, Memory>();
  private readonly retryTimers = new Set<NodeJS.Timeout>();
  private readonly inflight = new Set<AbortController>();
  private conditionsSupport: 'unknown' | 'yes' | 'no' = 'unknown';
  private conditionsReprobeAt = 0;
  /** Reports handed over in bulk and not yet looked at; worked through in slices, off the query path. */
  private readonly backlog = new Map<string, { generation: number | undefined; problems: readonly EndpointProblem[] }>();
  private draining = false;
  private reportsSincePrune = 0;
  private stopped = false;
  private readonly counters = {
    statusWrites: 0,
    statusWriteFailures: 0,
    eventsCreated: 0,
    eventsAlreadyRecorded: 0,
    eventsDropped: 0,
  };

  constructor(options: StatusReporterOptions) {
    this.directory = options.directory;
    if (options.api) this.api = options.api;
    else if (options.kubeConfig) this.api = new KubernetesStatusApi(options.kubeConfig);
    else throw new Error('StatusReporter needs api or kubeConfig');
    this.logger = options.logger ?? silentLogger;
    this.queue = new WriteQueue({
      ratePerSecond: options.writesPerSecond ?? 5,
      burst: options.burst ?? 20,
      logger: this.logger,
    });
    this.reporter = {
      component: options.component ?? 'crdns',
      instance: truncate(options.instance ?? hostname(), 128),
    };
    this.wantConditions = options.conditions ?? true;
    this.wantEvents = options.events ?? true;
    this.requestTimeoutMs = options.requestTimeoutMs ?? 15_000;
    this.retryOptions = { initialMs: 1_000, maxMs: 5 * 60_000, factor: 2, jitter: 0.5, ...options.retry };
  }

  get stats(): StatusReporterStats {
    return {
      ...this.counters,
      pending: this.queue.size + this.retryTimers.size + this.backlog.size,
      conditionsSupported: this.conditionsSupport === 'unknown' ? undefined : this.conditionsSupport === 'yes',
    };
  }

  /**
   * Many reports at once (after a rebuild: the objects it touched). They are
   * worked through a slice per turn of the event loop, so a first sync of
   * 100k objects does not hold up queries; a newer report for a key still in
   * the backlog replaces the older one.
   */
  reportMany(reports: Iterable<{ key: string; generation: number | undefined; problems: readonly EndpointProblem[] }>): void {
    if (this.stopped) return;
    for (const r of reports) {
      this.backlog.delete(r.key);
      this.backlog.set(r.key, { generation: r.generation, problems: r.problems });
    }
    if (!this.draining && this.backlog.size > 0) {
      this.draining = true;
      setImmediate(() => this.drain());
    }
  }

  private drain(): void {
    let n = 0;
    for (const [key, r] of this.backlog) {
      if (this.stopped || n++ >= REPORT_SLICE) break;
      this.backlog.delete(key);
      this.report(key, r.generation, r.problems);
    }
    if (!this.stopped && this.backlog.size > 0) setImmediate(() => this.drain());
    else this.draining = false;
  }

  /** See the contract at the top of this file. */
  report(objectKey: string, generation: number | undefined, problems: readonly EndpointProblem[]): void {
    if (this.stopped) return;
    const entry = this.directory.lookup(objectKey);
    if (!entry) return;
    if (generation !== undefined && generation !== entry.generation) return;
    const gen = entry.generation;
    const own = problems.filter((p) => p.object === objectKey);

    let memory = this.memory.get(objectKey);
    if (!memory || memory.uid !== entry.uid || memory.generation !== gen) {
      memory = { uid: entry.uid, generation: gen, emitted: new Set(), unwritten: [] };
      this.memory.set(objectKey, memory);
    }
    if (this.wantEvents) this.queueEvents(entry, memory, own);
    this.queueStatus(entry, memory, { generation: gen, accepted: acceptedState(entry, own) });

    if (++this.reportsSincePrune >= 1000) this.prune();
  }

  /** Resolves when no write is waiting, running, or scheduled for retry. */
  async idle(): Promise<void> {
    while (!this.stopped && (this.queue.busy || this.retryTimers.size > 0 || this.backlog.size > 0)) {
      if (this.backlog.size > 0) await new Promise((resolve) => setImmediate(resolve));
      await this.queue.idle();
      if (this.retryTimers.size > 0) await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  /** Drops pending writes and aborts the running one. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.backlog.clear();
    for (const timer of this.retryTimers) clearTimeout(timer);
    this.retryTimers.clear();
    for (const abort of this.inflight) abort.abort();
    await this.queue.stop();
  }

  private queueEvents(entry: DirectoryEntry, memory: Memory, problems: readonly EndpointProblem[]): void {
    let added = false;
    for (const problem of problems) {
      const id = problemId(problem);
      if (memory.emitted.has(id)) continue;
      memory.emitted.add(id);
      memory.unwritten.push({ event: problemEvent(entry, memory.generation, problem, this.reporter, new Date()), attempt: 1 });
      added = true;
    }
    if (added) this.queueEventTask(entry.key, memory);
  }

  /** One task per object: it writes the oldest unwritten event and queues itself again while more wait. */
  private queueEventTask(key: string, memory: Memory): void {
    const taskId = `events:${key}`;
    this.queue.enqueue(taskId, () => this.writeEvent(taskId, key, memory));
  }

  private async writeEvent(taskId: string, key: string, memory: Memory): Promise<void> {
    const current = this.directory.lookup(key);
    // Superseded: the object is gone or was recreated; a newer generation has its own memory.
    if (!current || current.uid !== memory.uid || this.memory.get(key) !== memory) return;
    const next = memory.unwritten[0];
    if (!next) return;
    const { event } = next;
    try {
      await this.withTimeout((signal) => this.api.createEvent(current.namespace, event, signal));
      this.counters.eventsCreated++;
      memory.unwritten.shift();
      this.logger.debug('recorded event', { object: key, event: event.metadata?.name, message: event.message });
    } catch (err) {
      if (httpStatusOf(err) === 409) {
        this.counters.eventsAlreadyRecorded++;
        memory.unwritten.shift();
      } else if (next.attempt >= MAX_EVENT_ATTEMPTS || this.stopped) {
        this.counters.eventsDropped++;
        memory.unwritten.shift();
        this.logger.warn('giving up on event', { object: key, event: event.metadata?.name, error: describeError(err) });
      } else {
        this.logger.debug('event write failed; will retry', { object: key, error: describeError(err), attempt: next.attempt });
        this.retryLater(taskId, next.attempt++, () => this.writeEvent(taskId, key, memory));
        return;
      }
    }
    if (memory.unwritten.length > 0) this.queueEventTask(key, memory);
  }

  private queueStatus(entry: DirectoryEntry, memory: Memory, desired: Desired): void {
    memory.desired = desired;
    const withConditions = this.conditionsWanted();
    if (statusMatches(entry.status, desired, withConditions)) return;
    const fingerprint = desiredFingerprint(desired, withConditions);
    const written = memory.written;
    // Our write for this exact status has been made (or is on its way) and the
    // watch has not shown anything newer than it yet: nothing to do.
    if (written?.fingerprint === fingerprint && (entry.resourceVersion === written.before || entry.resourceVersion === written.after)) {
      return;
    }
    memory.written = { fingerprint, before: entry.resourceVersion };
    const taskId = `status:${entry.key}`;
    const run = (attempt: number): Promise<void> => this.writeStatus(taskId, entry.key, attempt, run);
    this.queue.enqueue(taskId, () => run(1));
  }

  private async writeStatus(taskId: string, key: string, attempt: number, again: (attempt: number) => Promise<void>): Promise<void> {
    const memory = this.memory.get(key);
    const entry = this.directory.lookup(key);
    const desired = memory?.desired;
    // Superseded: the object is gone, was recreated, or has a newer generation
    // whose own report will follow.
    if (!memory || !entry || !desired || entry.uid !== memory.uid || entry.generation !== desired.generation) return;
    const withConditions = this.conditionsWanted();
    if (statusMatches(entry.status, desired, withConditions)) return;

    const patch: DnsEndpointStatus = { observedGeneration: desired.generation };
    if (withConditions) patch.conditions = mergeAccepted(entry.status?.conditions, desired, new Date());
    try {
      const stored = await this.withTimeout((signal) => this.api.patchStatus(entry.namespace, entry.name, patch, signal));
      this.counters.statusWrites++;
      if (memory.written) memory.written.after = stored.metadata?.resourceVersion ?? '';
      if (withConditions) this.learnConditionsSupport(stored.status);
      this.logger.debug('wrote status', { object: key, generation: desired.generation, accepted: desired.accepted.status });
    } catch (err) {
      this.counters.statusWriteFailures++;
      const code = httpStatusOf(err);
      if (code === 422 && withConditions) {
        // Some schema refuses our condition; keep observedGeneration flowing.
        this.noConditions(`status with conditions refused: ${describeError(err)}`);
        this.retryLater(taskId, 0, () => again(attempt + 1));
        return;
      }
      if (code === 404 && !this.directory.lookup(key)) return;
      if (this.stopped) return;
      this.logger[attempt === 1 ? 'info' : 'warn']('status write failed; will retry', { object: key, error: describeError(err), attempt });
      this.retryLater(taskId, attempt, () => again(attempt + 1));
    }
  }

  private conditionsWanted(): boolean {
    if (!this.wantConditions) return false;
    if (this.conditionsSupport === 'no' && Date.now() >= this.conditionsReprobeAt) this.conditionsSupport = 'unknown';
    return this.conditionsSupport !== 'no';
  }

  private learnConditionsSupport(stored: DnsEndpointStatus | undefined): void {
    const kept = Array.isArray(stored?.conditions) && stored.conditions.some((c) => c.type === ACCEPTED_CONDITION);
    if (kept) {
      if (this.conditionsSupport !== 'yes') this.logger.debug('CRD keeps status.conditions');
      this.conditionsSupport = 'yes';
    } else {
      this.noConditions('the DNSEndpoint CRD has no status.conditions (the API server pruned them)');
    }
  }

  private noConditions(why: string): void {
    if (this.conditionsSupport !== 'no') {
      this.logger.info('writing status.observedGeneration only', { reason: why });
    }
    this.conditionsSupport = 'no';
    this.conditionsReprobeAt = Date.now() + CONDITIONS_REPROBE_MS;
  }

  private retryLater(taskId: string, attempt: number, task: () => Promise<void>): void {
    if (this.stopped) return;
    const delay = attempt <= 0 ? 0 : retryDelay(this.retryOptions, attempt);
    const timer = setTimeout(() => {
      this.retryTimers.delete(timer);
      // A newer task for the same id may be waiting already; it supersedes this retry.
      if (!this.queue.has(taskId)) this.queue.enqueue(taskId, task);
    }, delay);
    timer.unref();
    this.retryTimers.add(timer);
  }

  private async withTimeout<T>(call: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(new Error(`request timed out after ${this.requestTimeoutMs} ms`)), this.requestTimeoutMs);
    this.inflight.add(abort);
    try {
      // Also give up on a call that ignores its signal, so stop() and the timeout always end it.
      return await Promise.race([
        call(abort.signal),
        new Promise<never>((_, reject) => abort.signal.addEventListener('abort', () => reject(abort.signal.reason), { once: true })),
      ]);
    } finally {
      clearTimeout(timer);
      this.inflight.delete(abort);
    }
  }

  /** Forgets objects that are gone or were recreated. */
  private prune(): void {
    this.reportsSincePrune = 0;
    for (const [key, memory] of this.memory) {
      const entry = this.directory.lookup(key);
      if (!entry || entry.uid !== memory.uid) this.memory.delete(key);
    }
  }
}

function retryDelay(options: Partial<BackoffOptions>, attempt: number): number {
  const backoff = new Backoff(options);
  let delay = 0;
  for (let i = 0; i < attempt; i++) delay = backoff.next();
  return delay;
}

export function acceptedState(entry: DirectoryEntry, problems: readonly EndpointProblem[]): AcceptedState {
  const total = entry.endpoints.length;
  if (problems.length === 0) {
    return {
      status: 'True',
      reason: 'Accepted',
      message: total === 0 ? 'no endpoints' : total === 1 ? 'the endpoint is served' : `all ${total} endpoints are served`,
    };
  }
  const objectLevel = problems.some((p) => p.index < 0);
  // Every bad edit fell back to the endpoint's previous version: nothing stopped serving.
  const reason = problems.every((p) => p.servingPrevious) ? 'ServingPreviousVersion' : 'InvalidEndpoints';
  const bad = new Set(problems.filter((p) => p.index >= 0).map((p) => p.index)).size;
  const head = objectLevel
    ? 'object not served'
    : reason === 'ServingPreviousVersion'
      ? `${bad} of ${total} endpoints invalid, their previous versions still served`
      : `${bad} of ${total} endpoints not served`;
  const details = problems.map((p) => describeProblem(entry, p)).join('; ');
  return { status: 'False', reason, message: truncate(`${head}: ${details}`, MAX_CONDITION_MESSAGE) };
}

function desiredFingerprint(desired: Desired, withConditions: boolean): string {
  const { status, reason, message } = desired.accepted;
  return withConditions ? `${desired.generation}\u0000${status}\u0000${reason}\u0000${message}` : `${desired.generation}`;
}

export function statusMatches(status: DnsEndpointStatus | undefined, desired: Desired, withConditions: boolean): boolean {
  if (status?.observedGeneration !== desired.generation) return false;
  if (!withConditions) return true;
  const accepted = Array.isArray(status.conditions) ? status.conditions.find((c) => c.type === ACCEPTED_CONDITION) : undefined;
  return (
    accepted !== undefined &&
    accepted.status === desired.accepted.status &&
    accepted.reason === desired.accepted.reason &&
    accepted.message === desired.accepted.message &&
    accepted.observedGeneration === desired.generation
  );
}

/**
 * The full conditions list with Accepted set. A merge patch replaces lists
 * whole, so conditions of other writers are carried over from the watched
 * object. lastTransitionTime only moves when the status flips.
 */
export function mergeAccepted(existing: readonly Condition[] | undefined, desired: Desired, now: Date): Condition[] {
  const others = Array.isArray(existing) ? existing.filter((c) => c && c.type !== ACCEPTED_CONDITION) : [];
  const previous = Array.isArray(existing) ? existing.find((c) => c && c.type === ACCEPTED_CONDITION) : undefined;
  const lastTransitionTime =
    previous && previous.status === desired.accepted.status && previous.lastTransitionTime
      ? previous.lastTransitionTime
      : now.toISOString().replace(/\.\d{3}Z$/, 'Z');
  return [
    ...others,
    {
      type: ACCEPTED_CONDITION,
      status: desired.accepted.status,
      observedGeneration: desired.generation,
      lastTransitionTime,
      reason: desired.accepted.reason,
      message: desired.accepted.message,
    },
  ];
}
