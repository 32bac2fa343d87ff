/**
 * Prometheus metrics. They observe the flow (queries answered, snapshots
 * built, endpoints rejected) through callbacks and never sit in its way: the
 * per-query path only increments a cached counter child and observes a
 * histogram.
 */
import client from 'prom-client';
import type { QueryOutcome } from '../dns/answer-query.js';
import { knownTypeName, rcodeName } from '../dns/codes.js';
import type { Snapshot } from '../dns/zone.js';
import type { QueryObserver } from '../server/grpc-server.js';
import type { RebuildEvent } from '../store/zone-store.js';
import type { QueryTally } from '../server/workers/protocol.js';

/** Types outside the table share one label, so a client sweeping all 65,536 qtypes cannot mint series. */
/** Stands for every qtype without a name in the per-zone counter map (qtype codes end at 65535). */
const OTHER_QTYPE = 65536;

export function qtypeLabel(code: number): string {
  return knownTypeName(code) ?? 'OTHER';
}

export class Metrics implements QueryObserver {
  readonly registry = new client.Registry();
  private readonly queries = new client.Counter({ name: 'crdns_queries_total', help: 'DNS queries answered, by served zone, question type and response code.', labelNames: ['zone', 'qtype', 'rcode'], registers: [this.registry] });
  /** Zone → (qtype × 4096 + rcode) → counter child, so a query builds no key string; an unnamed qtype counts as OTHER_QTYPE. */
  private readonly queryChildren = new Map<string | undefined, Map<number, client.Counter.Internal>>();
  private readonly duration = new client.Histogram({
    name: 'crdns_query_duration_seconds',
    help: 'Time spent answering one Query inside crdns (decode, lookup, encode).',
    buckets: [0.00002, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05],
    registers: [this.registry],
  });
  private readonly unavailableTotal = new client.Counter({ name: 'crdns_queries_unavailable_total', help: 'Queries refused with gRPC UNAVAILABLE because no snapshot was loaded yet.', registers: [this.registry] });
  private readonly records = new client.Gauge({ name: 'crdns_records', help: 'Records served, by type (synthesized SOA and NS included).', labelNames: ['type'], registers: [this.registry] });
  private readonly invalid = new client.Gauge({ name: 'crdns_invalid_endpoints', help: 'Endpoints currently rejected (invalid, or in conflict with another object).', registers: [this.registry] });
  private readonly rejections = new client.Counter({ name: 'crdns_endpoint_rejections_total', help: 'Endpoint rejections by field, counted when a rejection first appears.', labelNames: ['field'], registers: [this.registry] });
  private readonly objects = new client.Gauge({ name: 'crdns_dnsendpoint_objects', help: 'DNSEndpoint objects known to crdns.', registers: [this.registry] });
  private readonly generation = new client.Gauge({ name: 'crdns_snapshot_generation', help: 'Number of the snapshot being served; increases with every data change.', registers: [this.registry] });
  private readonly serial = new client.Gauge({ name: 'crdns_snapshot_serial', help: 'SOA serial of the snapshot being served.', registers: [this.registry] });
  private readonly buildSeconds = new client.Histogram({ name: 'crdns_snapshot_build_seconds', help: 'Time to rebuild the snapshot after a change.', buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5], registers: [this.registry] });
  private readonly workerRestarts = new client.Counter({ name: 'crdns_worker_restarts_total', help: 'Serving workers (--workers) that exited unexpectedly and were started again.', registers: [this.registry] });
  private readonly tlsReloadFailures = new client.Counter({ name: 'crdns_tls_reload_failures_total', help: 'Re-reads of the --tls-* files that were refused (unreadable, not PEM, key not matching); the last good certificate kept serving.', registers: [this.registry] });

  /**
   * `build.dataTime`: when the data served was built, if not when the
   * snapshot was (data restored from --snapshot-file was built by the crdns
   * that wrote it); the age and timestamp gauges then follow it.
   */
  constructor(snapshot: () => Snapshot | undefined, ready: () => boolean, build: { version: string; dataTime?: () => number | undefined } = { version: 'unknown' }) {
    const builtAt = (s: Snapshot): number => build.dataTime?.() ?? s.builtAt;
    client.collectDefaultMetrics({ register: this.registry });
    new client.Gauge({ name: 'crdns_build_info', help: 'Always 1; the labels say which crdns and which Node.js are running.', labelNames: ['version', 'node'], registers: [this.registry] }).set({ version: build.version, node: process.version }, 1);
    new client.Gauge({
      name: 'crdns_snapshot_timestamp_seconds',
      help: 'Unix time at which the snapshot being served was built; 0 before the first one.',
      registers: [this.registry],
      collect() {
        const s = snapshot();
        this.set(s ? builtAt(s) / 1000 : 0);
      },
    });
    new client.Gauge({
      name: 'crdns_snapshot_age_seconds',
      help: 'Seconds since the data being served was built (by the crdns that wrote --snapshot-file, while serving from it); grows while no change arrives, e.g. while the Kubernetes API is unreachable.',
      registers: [this.registry],
      collect() {
        const s = snapshot();
        this.set(s ? (Date.now() - builtAt(s)) / 1000 : -1);
      },
    });
    new client.Gauge({
      name: 'crdns_ready',
      help: '1 when crdns has loaded its first complete snapshot and answers queries.',
      registers: [this.registry],
      collect() {
        this.set(ready() ? 1 : 0);
      },
    });
  }

  answered(outcome: QueryOutcome, seconds: number): void {
    this.count(outcome.zone, outcome.qtype, outcome.rcode, 1);
    this.duration.observe(seconds);
  }

  /** What a serving worker (--workers) answered since its last tally. */
  tallied(t: QueryTally): void {
    for (const c of t.counts) this.count(c.zone, c.qtype, c.rcode, c.n);
    for (const s of t.durations) this.duration.observe(s);
    if (t.unavailable > 0) this.unavailableTotal.inc(t.unavailable);
  }

  private count(zone: string | undefined, qtypeCode: number, rcode: number, n: number): void {
    let byCode = this.queryChildren.get(zone);
    if (!byCode) this.queryChildren.set(zone, (byCode = new Map()));
    // Keyed by label values, not raw codes: a client sweeping all 65,536 qtypes must not grow this map.
    const qtype = knownTypeName(qtypeCode) === undefined ? OTHER_QTYPE : qtypeCode;
    const key = qtype * 4096 + rcode;
    let child = byCode.get(key);
    if (!child) {
      child = this.queries.labels(zone === undefined ? 'none' : zone === '' ? '.' : `${zone}.`, qtypeLabel(qtypeCode), rcodeName(rcode));
      byCode.set(key, child);
    }
    child.inc(n);
  }

  unavailable(): void {
    this.unavailableTotal.inc();
  }

  workerRestarted(): void {
    this.workerRestarts.inc();
  }

  tlsReloadFailed(): void {
    this.tlsReloadFailures.inc();
  }

  rebuilt(e: RebuildEvent): void {
    this.records.reset();
    for (const [type, n] of Object.entries(e.snapshot.stats.recordsByType)) this.records.set({ type }, n);
    let invalid = 0;
    for (const list of e.problems.values()) invalid += list.length;
    // Only the field's name becomes a label value: "labels[\"<any key>\"]" is user data and would mint series.
    for (const p of e.changes.problemsAppeared) this.rejections.inc({ field: p.field.replace(/\[.*\]$/, '') });
    this.invalid.set(invalid);
    this.objects.set(e.objectCount);
    this.generation.set(e.snapshot.generation);
    this.serial.set(e.snapshot.serial);
    this.buildSeconds.observe(e.buildMs / 1000);
  }
}
