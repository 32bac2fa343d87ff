/**
 * Warning Events on Services and Ingresses whose records crdns will not serve
 * as written: an annotation value it ignored (InvalidAnnotation), or an entry
 * the store's validation refused (InvalidEndpoint). The DNSEndpoint reporter
 * (status-reporter.ts) is not involved: these objects get no status, only
 * Events.
 *
 * One Event per distinct (uid, generation, problem): the name is derived from
 * them (events.ts's scheme), so a second replica or a restart gets 409
 * AlreadyExists rather than a duplicate. Writes go through the same kind of
 * rate-limited queue as the DNSEndpoint reporter's.
 */
import { createHash } from 'node:crypto';
import { hostname } from 'node:os';
import type { KubeConfig } from '@kubernetes/client-node';
import { describeError, httpStatusOf } from '../kubernetes/errors.js';
import { silentLogger, type Logger } from '../logger.js';
import { truncate } from './events.js';
import { KubernetesStatusApi, type EventBody } from './status-api.js';
import { WriteQueue } from './write-queue.js';

export interface WorkloadRef {
  apiVersion: string;
  kind: string;
  namespace: string;
  name: string;
  uid: string;
  generation: number;
  resourceVersion: string;
}

export interface WorkloadProblem {
  reason: 'InvalidAnnotation' | 'InvalidEndpoint';
  message: string;
}

export interface EventWriter {
  createEvent(namespace: string, event: EventBody, signal: AbortSignal): Promise<void>;
}

export interface WorkloadEventReporterOptions {
  kubeConfig?: KubeConfig;
  /** Takes precedence over kubeConfig; unit tests fake it. */
  writer?: EventWriter;
  logger?: Logger;
  component?: string;
  instance?: string;
  ratePerSecond?: number;
  burst?: number;
}

/** Past this many remembered Events the memory starts over: worst case a 409 per old problem. */
const MAX_REMEMBERED = 10_000;
const WRITE_TIMEOUT_MS = 10_000;

export class WorkloadEventReporter {
  private readonly writer: EventWriter;
  private readonly logger: Logger;
  private readonly queue: WriteQueue;
  private readonly component: string;
  private readonly instance: string;
  /** Event names written or waiting. */
  private readonly known = new Set<string>();
  created = 0;
  failed = 0;

  constructor(options: WorkloadEventReporterOptions) {
    if (!options.writer && !options.kubeConfig) throw new Error('workload event reporter needs a kubeConfig or a writer');
    this.writer = options.writer ?? new KubernetesStatusApi(options.kubeConfig as KubeConfig);
    this.logger = options.logger ?? silentLogger;
    this.queue = new WriteQueue({ ratePerSecond: options.ratePerSecond ?? 5, burst: options.burst ?? 20, logger: this.logger });
    this.component = options.component ?? 'crdns';
    this.instance = truncate(options.instance ?? hostname(), 128);
  }

  /** All current problems of one object (a repeat costs nothing). */
  report(ref: WorkloadRef, problems: readonly WorkloadProblem[]): void {
    if (!ref.uid) return;
    for (const problem of problems) {
      const name = workloadEventName(ref, problem);
      if (this.known.has(name)) continue;
      if (this.known.size >= MAX_REMEMBERED) this.known.clear();
      this.known.add(name);
      const event = this.event(ref, problem, name, new Date());
      this.queue.enqueue(name, async () => {
        const controller = new AbortController();
        const timer = setTimeout(() => controller.abort(), WRITE_TIMEOUT_MS);
        try {
          await this.writer.createEvent(ref.namespace, event, controller.signal);
          this.created++;
        } catch (err) {
          if (httpStatusOf(err) === 409) return;
          this.failed++;
          // Forgotten, so the next report of this problem tries again.
          this.known.delete(name);
          this.logger.warn('could not create event', { object: `${ref.kind} ${ref.namespace}/${ref.name}`, error: describeError(err) });
        } finally {
          clearTimeout(timer);
        }
      });
    }
  }

  idle(): Promise<void> {
    return this.queue.idle();
  }

  async stop(): Promise<void> {
    await this.queue.stop();
  }

  private event(ref: WorkloadRef, problem: WorkloadProblem, name: string, now: Date): EventBody {
    return {
      metadata: { name, namespace: ref.namespace },
      involvedObject: { apiVersion: ref.apiVersion, kind: ref.kind, namespace: ref.namespace, name: ref.name, uid: ref.uid, resourceVersion: ref.resourceVersion },
      type: 'Warning',
      reason: problem.reason,
      message: truncate(problem.message, 1024),
      source: { component: this.component, host: this.instance },
      reportingComponent: this.component,
      reportingInstance: this.instance,
      firstTimestamp: now,
      lastTimestamp: now,
      count: 1,
    };
  }
}

/** "<object>.<16 hex digits>" from (uid, generation, problem): the same problem is the same Event everywhere. */
export function workloadEventName(ref: WorkloadRef, problem: WorkloadProblem): string {
  const digest = createHash('sha256').update(`${ref.uid}\u0000${ref.generation}\u0000${problem.reason}\u0000${problem.message}`).digest('hex').slice(0, 16);
  return `${ref.name.slice(0, 253 - 17).replace(/[.-]+$/, '')}.${digest}`;
}
