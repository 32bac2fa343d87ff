/**
 * The probe's Prometheus metrics, the live view of what the summary reports
 * at the end: grades and latency per server, propagation per server and kind
 * of change, writes per cluster. Labels are bounded (servers and clusters
 * come from flags; grades and ops are fixed lists): names never become labels.
 */
import client from 'prom-client';
import type { Grade } from './grader.js';
import type { ChangeOp } from './ledger.js';

export class ProbeMetrics {
  readonly registry = new client.Registry();
  private readonly queries = new client.Counter({ name: 'crdns_probe_queries_total', help: 'Queries graded, by server and grade (match, stale, wrong, missing, unexpected, servfail, timeout, error).', labelNames: ['server', 'grade'], registers: [this.registry] });
  private readonly latency = new client.Histogram({
    name: 'crdns_probe_query_duration_seconds',
    help: 'Time from sending a query to its reply, by server (replies only; timeouts are counted as a grade).',
    labelNames: ['server'],
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [this.registry],
  });
  private readonly propagation = new client.Histogram({
    name: 'crdns_probe_propagation_seconds',
    help: 'API acknowledgement of a write to the first query that showed it, by server and op; each figure may be up to one query interval late.',
    labelNames: ['server', 'op'],
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120],
    registers: [this.registry],
  });
  private readonly writes = new client.Counter({ name: 'crdns_probe_writes_total', help: 'Writes to the record source, by cluster, op and result (ok, failed).', labelNames: ['cluster', 'op', 'result'], registers: [this.registry] });
  private readonly pending = new client.Gauge({ name: 'crdns_probe_changes_pending', help: 'Acknowledged changes a server has not shown yet.', labelNames: ['server'], registers: [this.registry] });
  private readonly grading = new client.Gauge({ name: 'crdns_probe_grading', help: '1 once grading began (every server showed every record, or the settle timeout passed).', registers: [this.registry] });

  query(server: string, grade: Grade, seconds: number | undefined): void {
    this.queries.inc({ server, grade });
    if (seconds !== undefined) this.latency.observe({ server }, seconds);
  }

  propagated(server: string, op: ChangeOp, seconds: number): void {
    this.propagation.observe({ server, op }, seconds);
  }

  write(cluster: string, op: ChangeOp, ok: boolean): void {
    this.writes.inc({ cluster, op, result: ok ? 'ok' : 'failed' });
  }

  pendingChanges(server: string, n: number): void {
    this.pending.set({ server }, n);
  }

  gradingStarted(): void {
    this.grading.set(1);
  }
}
