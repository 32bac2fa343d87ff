/**
 * One probe run, start to finish:
 *
 * 1. delete what this probe's label owns (an earlier run's leftovers);
 * 2. create the steady names and half of the churn names;
 * 3. query every server at --qps, ungraded, until each has shown each of its
 *    names once (or the settle timeout passes): the run measures a working
 *    system under chaos, not the first sync;
 * 4. graded: per cluster, an update every --update-every and a create or
 *    delete every --create-delete-every, while every server is asked at
 *    --qps and each reply is graded and fed to propagation;
 * 5. on --duration or stop(): stop writing and sending, wait for what is in
 *    flight, delete what it owns (unless keep).
 */
import { grade } from './grader.js';
import { Ledger, type Change, type ChangeOp, type Value } from './ledger.js';
import type { ProbeMetrics } from './metrics.js';
import { PropagationTracker } from './propagation.js';
import type { RecordWriter } from './record-writer.js';
import { MAX_VERSION, type ProbeName } from './records.js';
import type { QueryRecord, SummaryInput } from './summary.js';
import type { Reply, ServerTarget, Transport } from './transport.js';

export interface ProbeServer {
  target: ServerTarget;
  transport: Transport;
}

export interface ProbeRunOptions {
  id: string;
  runId: string;
  names: readonly ProbeName[];
  writers: readonly RecordWriter[];
  servers: readonly ProbeServer[];
  /** Queries per second, per server. */
  qps: number;
  timeoutMs: number;
  /** Per cluster; 0: no updates. */
  updateEveryMs: number;
  /** Per cluster; 0: no creates or deletes. */
  createDeleteEveryMs: number;
  /** Graded time; 0: until stop(). */
  durationMs: number;
  settleTimeoutMs: number;
  keep: boolean;
  /** Seconds between progress lines; 0: none. */
  progressEveryMs: number;
  metrics?: ProbeMetrics;
  log: (line: string) => void;
}

type RunResult = Omit<SummaryInput, 'settings' | 'events'>;

/** Per (server, name): when a query last got a correct positive or negative answer, for the grader's existence rule. */
interface Shown {
  positive: number;
  negative: number;
}

export class ProbeRun {
  private readonly ledger: Ledger;
  private readonly trackers: PropagationTracker[];
  private readonly records: QueryRecord[] = [];
  private readonly shown: Map<string, Shown>[];
  /** Names each server is asked. */
  private readonly asked: ProbeName[][];
  private nextVersion = 1;
  private grading = false;
  private stopping = false;
  /** Pauses in progress; stop() ends them all, so no timer outlives the run. */
  private readonly pauses = new Set<() => void>();
  private readonly inFlight = new Set<Promise<unknown>>();

  constructor(private readonly o: ProbeRunOptions) {
    this.ledger = new Ledger(o.names.map((n) => n.fqdn));
    this.trackers = o.servers.map(() => new PropagationTracker());
    this.shown = o.servers.map(() => new Map());
    this.asked = o.servers.map((s) => o.names.filter((n) => s.target.clusters === undefined || s.target.clusters.includes(n.cluster)));
  }

  get isGrading(): boolean {
    return this.grading && !this.stopping;
  }

  /** Ends the run as soon as what is in flight has come back; safe to call more than once. */
  stop(): void {
    this.stopping = true;
    for (const end of [...this.pauses]) end();
  }

  /** Waits ms, or less if the run stops meanwhile. */
  private pause(ms: number): Promise<void> {
    if (this.stopping) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const end = () => {
        clearTimeout(timer);
        this.pauses.delete(end);
        resolve();
      };
      const timer = setTimeout(end, Math.max(0, ms));
      this.pauses.add(end);
    });
  }

  private track<T>(p: Promise<T>): Promise<T> {
    this.inFlight.add(p);
    void p.finally(() => this.inFlight.delete(p)).catch(() => undefined);
    return p;
  }

  async run(): Promise<RunResult> {
    const startedAt = Date.now();
    for (const w of this.o.writers) {
      const n = await w.cleanup();
      if (n > 0) this.o.log(`probe: ${w.cluster}: deleted ${n} object${n === 1 ? '' : 's'} left by an earlier run of probe ${this.o.id}`);
    }
    try {
      await this.initialWrites();
    } catch (err) {
      // What was created before the failure is still ours: leave nothing behind on the way out.
      if (!this.o.keep) await Promise.allSettled(this.o.writers.map((w) => w.cleanup()));
      throw err;
    }
    const loops = this.o.servers.map((_, i) => this.queryLoop(i));
    const settled = await this.settle();
    if (!settled) this.o.log(`probe: not every server showed every record within ${this.o.settleTimeoutMs / 1000} s; grading anyway`);
    const gradedFrom = Date.now();
    this.grading = true;
    this.o.metrics?.gradingStarted();
    this.o.log(`probe ${this.o.id}: grading from ${new Date(gradedFrom).toISOString()}, ${this.o.names.length} names, ${this.o.servers.length} server${this.o.servers.length === 1 ? '' : 's'}`);
    const writerLoops = this.o.writers.flatMap((w) => [
      this.every(this.o.updateEveryMs, () => this.updateNext(w)),
      this.every(this.o.createDeleteEveryMs, () => this.toggleNext(w)),
    ]);
    const progress = this.every(this.o.progressEveryMs, () => this.progress());
    await this.pause(this.o.durationMs > 0 ? this.o.durationMs : 2 ** 31 - 1);
    while (this.o.durationMs === 0 && !this.stopping) await this.pause(2 ** 31 - 1);
    this.stop();
    const endedAt = Date.now();
    await Promise.all([...loops, ...writerLoops, progress]);
    await Promise.allSettled([...this.inFlight]);
    for (const t of this.trackers) t.finish();
    if (!this.o.keep) {
      for (const w of this.o.writers) {
        try {
          await w.cleanup();
        } catch (err) {
          this.o.log(`probe: ${w.cluster}: could not delete the probe's objects: ${(err as Error).message}`);
        }
      }
    }
    return {
      id: this.o.id,
      runId: this.o.runId,
      startedAt,
      gradedFrom,
      endedAt,
      settled,
      servers: this.o.servers.map((s, i) => ({ text: s.target.text, clusters: [...new Set(this.asked[i]?.map((n) => n.cluster))] })),
      queries: this.records,
      propagation: this.trackers.map((t) => t.results),
      changes: this.ledger.changes(),
    };
  }

  /** Steady names, and every other churn name, so creates and deletes both happen from the first toggle on. */
  private async initialWrites(): Promise<void> {
    for (const w of this.o.writers) {
      const mine = this.o.names.filter((n) => n.cluster === w.cluster);
      const churn = mine.filter((n) => n.kind === 'churn');
      const wanted = [...mine.filter((n) => n.kind === 'steady'), ...churn.filter((_, i) => i % 2 === 0)];
      // A few at a time: 50 names one by one would take a while against a remote API server.
      for (let i = 0; i < wanted.length; i += 8) {
        const results = await Promise.all(wanted.slice(i, i + 8).map((n) => this.write(w, n, 'create', this.version())));
        const failed = results.find((c) => c.ackedAt === undefined);
        if (failed) throw new Error(`${w.cluster}: creating ${failed.name} failed: ${failed.error}`);
      }
    }
  }

  private version(): number {
    if (this.nextVersion > MAX_VERSION) throw new Error('out of versions (16M writes in one run)');
    return this.nextVersion++;
  }

  private async write(w: RecordWriter, name: ProbeName, op: ChangeOp, value: Value): Promise<Change> {
    const change = this.ledger.begin(name.fqdn, w.cluster, op, value, Date.now());
    try {
      await this.track(value === null ? w.remove(name) : w.put(name, value, op === 'create' ? 'create' : 'update'));
      this.ledger.ack(change, Date.now());
      this.o.metrics?.write(w.cluster, op, true);
      if (this.grading) {
        this.o.servers.forEach((_, i) => {
          if (this.asked[i]?.includes(name)) this.trackers[i]?.acked(change);
        });
      }
    } catch (err) {
      this.ledger.fail(change, Date.now(), (err as Error).message);
      this.o.metrics?.write(w.cluster, op, false);
      this.o.log(`probe: ${w.cluster}: ${op} ${name.fqdn} failed: ${(err as Error).message}`);
    }
    return change;
  }

  private readonly cursors = new Map<string, number>();

  /** The next name of this kind in this cluster with no write in flight, round robin. */
  private nextName(w: RecordWriter, kind: 'steady' | 'churn'): ProbeName | undefined {
    const list = this.o.names.filter((n) => n.cluster === w.cluster && n.kind === kind);
    const key = `${w.cluster}/${kind}`;
    const start = this.cursors.get(key) ?? 0;
    for (let k = 0; k < list.length; k++) {
      const n = list[(start + k) % list.length] as ProbeName;
      if (!this.ledger.inFlight(n.fqdn)) {
        this.cursors.set(key, start + k + 1);
        return n;
      }
    }
    return undefined;
  }

  private updateNext(w: RecordWriter): void {
    const n = this.nextName(w, 'steady');
    if (n) void this.write(w, n, 'update', this.version());
  }

  private toggleNext(w: RecordWriter): void {
    const n = this.nextName(w, 'churn');
    if (!n) return;
    if (this.ledger.intended(n.fqdn) === null) void this.write(w, n, 'create', this.version());
    else void this.write(w, n, 'delete', null);
  }

  /** Calls f every `ms` until the run stops, on an absolute schedule so a slow call does not shift the rest. */
  private async every(ms: number, f: () => void): Promise<void> {
    if (ms <= 0) return;
    const start = Date.now();
    for (let k = 1; !this.stopping; k++) {
      await this.pause(start + k * ms - Date.now());
      if (this.stopping) return;
      f();
    }
  }

  private async settle(): Promise<boolean> {
    const deadline = Date.now() + this.o.settleTimeoutMs;
    for (;;) {
      const missing = this.o.servers.some((_, i) => (this.asked[i] ?? []).some((n) => !this.settledFor(i, n)));
      if (!missing) return true;
      if (this.stopping || Date.now() > deadline) return false;
      await this.pause(100);
    }
  }

  /** The server has shown this name as intended since its last write. */
  private settledFor(server: number, n: ProbeName): boolean {
    const s = this.shown[server]?.get(n.fqdn);
    const last = this.ledger.changes().filter((c) => c.name === n.fqdn).at(-1);
    if (!last) return s !== undefined && s.negative > 0;
    return s !== undefined && (last.value === null ? s.negative : s.positive) >= last.sentAt;
  }

  private async queryLoop(server: number): Promise<void> {
    const names = this.asked[server] ?? [];
    if (names.length === 0) return;
    const interval = 1000 / this.o.qps;
    let due = Date.now();
    let cursor = 0;
    while (!this.stopping) {
      const n = names[cursor++ % names.length] as ProbeName;
      void this.track(this.ask(server, n));
      due += interval;
      // Behind by more than a second (a stalled event loop): start afresh rather than send a burst.
      if (Date.now() - due > 1000) due = Date.now();
      await this.pause(due - Date.now());
    }
  }

  private async ask(server: number, n: ProbeName): Promise<void> {
    const s = this.o.servers[server] as ProbeServer;
    // Graded if sent once grading began: a reply to a settle query that arrives later is not part of the run.
    const graded = this.grading;
    const sentAt = Date.now();
    const reply: Reply = await s.transport.ask(n.fqdn);
    const receivedAt = Date.now();
    const view = this.ledger.view(n.fqdn, sentAt, receivedAt);
    const shown = this.shown[server] as Map<string, Shown>;
    const seen = shown.get(n.fqdn) ?? { positive: 0, negative: 0 };
    const ex = view.existenceChange;
    const existenceShown = ex === undefined || (ex.op === 'create' ? seen.positive : seen.negative) >= ex.sentAt;
    const g = grade(reply, view, existenceShown);
    if (g.grade === 'match') {
      if (g.observed === null) seen.negative = Math.max(seen.negative, sentAt);
      else seen.positive = Math.max(seen.positive, sentAt);
      shown.set(n.fqdn, seen);
    }
    const informative = reply.kind === 'answer' && (reply.rcode === 0 || reply.rcode === 3);
    if (informative) {
      const p = this.trackers[server]?.observe(n.fqdn, sentAt, g.observed);
      if (p && this.o.metrics) this.o.metrics.propagated(s.target.text, p.change.op, p.seconds as number);
    }
    if (!graded) return;
    this.records.push({ server, name: n.fqdn, cluster: n.cluster, sentAt, receivedAt, grade: g.grade });
    this.o.metrics?.query(s.target.text, g.grade, reply.kind === 'timeout' ? undefined : (receivedAt - sentAt) / 1000);
    this.o.metrics?.pendingChanges(s.target.text, this.trackers[server]?.pendingCount() ?? 0);
  }

  private progressFrom = 0;

  private progress(): void {
    const recent = this.records.slice(this.progressFrom);
    this.progressFrom = this.records.length;
    const parts = this.o.servers.map((s, i) => {
      const mine = recent.filter((q) => q.server === i);
      const match = mine.filter((q) => q.grade === 'match').length;
      const bad = mine.length - match;
      return `${s.target.text} ${mine.length} q, ${mine.length ? ((100 * match) / mine.length).toFixed(2) : '-'}% match${bad ? ` (${bad} not)` : ''}`;
    });
    this.o.log(`probe: last ${this.o.progressEveryMs / 1000} s: ${parts.join('; ')}`);
  }
}
