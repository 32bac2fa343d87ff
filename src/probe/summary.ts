/**
 * The end-of-run report: per server and per window (the run, and before /
 * during / after chaos when events say so), how many queries, how many of
 * each grade, accuracy, the longest time without a correct answer, latency
 * and propagation. The same numbers as text for a person and as JSON for a
 * script; computed from the raw records, so both always agree.
 */
import { windowsOf, type ProbeEvent, type TimeWindow, type WindowName } from './events.js';
import { GRADES, type Grade } from './grader.js';
import type { Change, ChangeOp, Value } from './ledger.js';
import type { Propagation } from './propagation.js';

export interface QueryRecord {
  server: number;
  name: string;
  cluster: string;
  sentAt: number;
  /** For a timeout, when the probe gave up. */
  receivedAt: number;
  grade: Grade;
}

export interface SummaryInput {
  id: string;
  runId: string;
  startedAt: number;
  /** When grading began: every server had shown every record, or the settle timeout passed. */
  gradedFrom: number;
  endedAt: number;
  settled: boolean;
  settings: Record<string, string | number | boolean | string[]>;
  servers: readonly { text: string; clusters: readonly string[] }[];
  queries: readonly QueryRecord[];
  /** Per server, in the order of `servers`. */
  propagation: readonly (readonly Propagation[])[];
  changes: readonly Change[];
  events: readonly ProbeEvent[];
}

export interface Percentiles {
  n: number;
  p50: number;
  p99: number;
  max: number;
}

export interface WindowSummary {
  window: WindowName;
  from: string;
  to: string;
  queries: number;
  /** Queries sent per second of the window: what the probe achieved, next to what --qps asked. */
  qps: number;
  /** match / queries; null without queries. */
  accuracy: number | null;
  grades: Record<Grade, number>;
  /** Longest time without a correct answer (between match replies, the window's edges included). */
  longestGapSeconds: number;
  /** Replies only: timeouts have no latency. */
  latencyMs: Percentiles | null;
  /** Changes acknowledged in the window. */
  propagation: {
    seen: number;
    /** Seen, per kind of change. */
    seenByOp: Record<ChangeOp, number>;
    superseded: number;
    unseen: number;
    /** The unseen changes themselves (at most 20), so a failed run names what never showed. */
    unseenChanges?: { name: string; cluster: string; op: ChangeOp; value: Value; ackedAt: string }[];
    seconds: Percentiles | null;
    /** The largest error bound among the seen. */
    maxBoundSeconds: number | null;
  };
  /** Run window only: accuracy per cluster whose names were asked (cross-cluster reads show here). */
  byCluster?: Record<string, { queries: number; match: number; accuracy: number | null }>;
}

export interface RunSummary {
  id: string;
  runId: string;
  startedAt: string;
  gradedFrom: string;
  endedAt: string;
  settled: boolean;
  settings: Record<string, string | number | boolean | string[]>;
  writes: { cluster: string; op: ChangeOp; acknowledged: number; failed: number; inFlight: number }[];
  events: { at: string; kind: string; label: string }[];
  servers: { server: string; clusters: string[]; windows: WindowSummary[] }[];
}

export function percentiles(sample: readonly number[]): Percentiles | null {
  if (sample.length === 0) return null;
  const s = [...sample].sort((a, b) => a - b);
  const at = (p: number) => s[Math.min(s.length - 1, Math.max(0, Math.ceil(s.length * p) - 1))] as number;
  return { n: s.length, p50: at(0.5), p99: at(0.99), max: s[s.length - 1] as number };
}

const iso = (ms: number) => new Date(ms).toISOString();

function emptyGrades(): Record<Grade, number> {
  return Object.fromEntries(GRADES.map((g) => [g, 0])) as Record<Grade, number>;
}

function windowSummary(w: TimeWindow, queries: readonly QueryRecord[], propagation: readonly Propagation[], withClusters: boolean): WindowSummary {
  const inWindow = queries.filter((q) => q.sentAt >= w.from && q.sentAt < w.to);
  const grades = emptyGrades();
  for (const q of inWindow) grades[q.grade]++;
  const matches = inWindow.filter((q) => q.grade === 'match').map((q) => q.receivedAt).sort((a, b) => a - b);
  let gap = 0;
  let last = w.from;
  for (const t of [...matches, w.to]) {
    gap = Math.max(gap, t - last);
    last = Math.max(last, t);
  }
  const latency = percentiles(inWindow.filter((q) => q.grade !== 'timeout').map((q) => q.receivedAt - q.sentAt));
  const changes = propagation.filter((p) => (p.change.ackedAt as number) >= w.from && (p.change.ackedAt as number) < w.to);
  const seen = changes.filter((p) => p.outcome === 'seen');
  const unseen = changes.filter((p) => p.outcome === 'unseen');
  const out: WindowSummary = {
    window: w.name,
    from: iso(w.from),
    to: iso(w.to),
    queries: inWindow.length,
    qps: w.to > w.from ? inWindow.length / ((w.to - w.from) / 1000) : 0,
    accuracy: inWindow.length > 0 ? grades.match / inWindow.length : null,
    grades,
    longestGapSeconds: gap / 1000,
    latencyMs: latency,
    propagation: {
      seen: seen.length,
      seenByOp: { create: seen.filter((p) => p.change.op === 'create').length, update: seen.filter((p) => p.change.op === 'update').length, delete: seen.filter((p) => p.change.op === 'delete').length },
      superseded: changes.filter((p) => p.outcome === 'superseded').length,
      unseen: unseen.length,
      ...(unseen.length > 0
        ? { unseenChanges: unseen.slice(0, 20).map(({ change: c }) => ({ name: c.name, cluster: c.cluster, op: c.op, value: c.value, ackedAt: iso(c.ackedAt as number) })) }
        : {}),
      seconds: percentiles(seen.map((p) => p.seconds as number)),
      maxBoundSeconds: seen.length > 0 ? Math.max(...seen.map((p) => p.boundSeconds as number)) : null,
    },
  };
  if (withClusters) {
    const by: NonNullable<WindowSummary['byCluster']> = {};
    for (const q of inWindow) {
      const c = (by[q.cluster] ??= { queries: 0, match: 0, accuracy: null });
      c.queries++;
      if (q.grade === 'match') c.match++;
    }
    for (const c of Object.values(by)) c.accuracy = c.queries > 0 ? c.match / c.queries : null;
    out.byCluster = by;
  }
  return out;
}

export function summarize(input: SummaryInput): RunSummary {
  const windows = windowsOf(input.events, input.gradedFrom, input.endedAt);
  const writes = new Map<string, RunSummary['writes'][number]>();
  for (const c of input.changes) {
    const key = `${c.cluster}\u0000${c.op}`;
    const w = writes.get(key) ?? { cluster: c.cluster, op: c.op, acknowledged: 0, failed: 0, inFlight: 0 };
    if (c.ackedAt !== undefined) w.acknowledged++;
    else if (c.failedAt !== undefined) w.failed++;
    else w.inFlight++;
    writes.set(key, w);
  }
  return {
    id: input.id,
    runId: input.runId,
    startedAt: iso(input.startedAt),
    gradedFrom: iso(input.gradedFrom),
    endedAt: iso(input.endedAt),
    settled: input.settled,
    settings: input.settings,
    writes: [...writes.values()],
    events: input.events.map((e) => ({ at: iso(e.at), kind: e.kind, label: e.label })),
    servers: input.servers.map((s, i) => {
      const queries = input.queries.filter((q) => q.server === i);
      const propagation = input.propagation[i] ?? [];
      return { server: s.text, clusters: [...s.clusters], windows: windows.map((w) => windowSummary(w, queries, propagation, w.name === 'run')) };
    }),
  };
}

const pct = (x: number | null) => (x === null ? '-' : `${(x * 100).toFixed(2)}%`);
const num = (x: number | undefined | null, digits: number) => (x === undefined || x === null ? '-' : x.toFixed(digits));

/** The summary as a person reads it at the end of a run. */
export function formatSummary(s: RunSummary): string {
  const lines: string[] = [];
  lines.push(`crdns probe ${s.id}, run ${s.runId}: ${s.startedAt} to ${s.endedAt}, graded from ${s.gradedFrom}${s.settled ? '' : ' (NOT settled: some records were never shown before grading began)'}`);
  if (s.writes.length > 0) {
    const byCluster = new Map<string, string[]>();
    for (const w of s.writes) {
      const parts = byCluster.get(w.cluster) ?? [];
      parts.push(`${w.op} ${w.acknowledged} ok${w.failed ? `, ${w.failed} failed` : ''}${w.inFlight ? `, ${w.inFlight} in flight` : ''}`);
      byCluster.set(w.cluster, parts);
    }
    for (const [c, parts] of byCluster) lines.push(`writes ${c}: ${parts.join('; ')}`);
  }
  for (const e of s.events) lines.push(`event ${e.at} ${e.kind}: ${e.label}`);
  const head = ['server', 'window', 'queries', 'qps', 'accuracy', ...GRADES, 'gap s', 'lat p50 ms', 'lat p99 ms', 'prop n', 'prop p50 s', 'prop p99 s', 'prop max s', 'bound s', 'unseen'];
  const rows: string[][] = [head];
  for (const srv of s.servers) {
    for (const w of srv.windows) {
      rows.push([
        srv.server,
        w.window,
        String(w.queries),
        num(w.qps, 1),
        pct(w.accuracy),
        ...GRADES.map((g) => String(w.grades[g])),
        num(w.longestGapSeconds, 2),
        num(w.latencyMs?.p50, 1),
        num(w.latencyMs?.p99, 1),
        String(w.propagation.seen),
        num(w.propagation.seconds?.p50, 3),
        num(w.propagation.seconds?.p99, 3),
        num(w.propagation.seconds?.max, 3),
        num(w.propagation.maxBoundSeconds, 3),
        String(w.propagation.unseen),
      ]);
      if (w.byCluster && Object.keys(w.byCluster).length > 1) {
        for (const [c, b] of Object.entries(w.byCluster)) rows.push(['', `  ${c}`, String(b.queries), '', pct(b.accuracy)]);
      }
    }
  }
  const widths = head.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  for (const r of rows) lines.push(r.map((cell, i) => (i < 2 ? cell.padEnd(widths[i] as number) : cell.padStart(widths[i] as number))).join('  ').trimEnd());
  for (const srv of s.servers) {
    for (const w of srv.windows) {
      if (w.window === 'run') continue;
      for (const c of w.propagation.unseenChanges ?? []) lines.push(`unseen on ${srv.server} (${w.window}): ${c.op} ${c.name} in ${c.cluster} to ${c.value === null ? 'absent' : `version ${c.value}`}, acknowledged ${c.ackedAt}`);
    }
  }
  lines.push('accuracy = match / queries; gap = longest time without a correct answer; prop = API acknowledgement to the first query that showed the change, true value within [prop - bound, prop]');
  return `${lines.join('\n')}\n`;
}
