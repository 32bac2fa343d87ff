/**
 * Metrics of --snapshot-file: whether answers come from it, what became of it
 * at start, and whether keeping it up to date works. Read when Prometheus
 * scrapes; the counters move only when a write ends.
 */
import client, { type Registry } from 'prom-client';

/** What crdns made of the file at start; `pending` until the wait for the live source is over. */
export const SNAPSHOT_LOAD_RESULTS = ['absent', 'pending', 'served', 'unused', 'corrupt', 'incompatible', 'other-scope', 'unreadable'] as const;
export type SnapshotLoadResult = (typeof SNAPSHOT_LOAD_RESULTS)[number];

export interface SnapshotFileState {
  /** Some partition still serves data from the file. */
  serving: boolean;
  load: SnapshotLoadResult;
  /** ms since 1970 of the last successful write; undefined before the first. */
  lastWriteTime: number | undefined;
}

export interface SnapshotFileMetrics {
  written(): void;
  writeFailed(): void;
}

export function registerSnapshotFileMetrics(registry: Registry, state: () => SnapshotFileState): SnapshotFileMetrics {
  new client.Gauge({
    name: 'crdns_snapshot_serving',
    help: '1 while some answers come from --snapshot-file because that source has not listed live yet since the start.',
    registers: [registry],
    collect() {
      this.set(state().serving ? 1 : 0);
    },
  });
  new client.Gauge({
    name: 'crdns_snapshot_file_load',
    help: 'What became of --snapshot-file at start: 1 for the result, 0 for the others.',
    labelNames: ['result'],
    registers: [registry],
    collect() {
      const load = state().load;
      for (const r of SNAPSHOT_LOAD_RESULTS) this.set({ result: r }, r === load ? 1 : 0);
    },
  });
  new client.Gauge({
    name: 'crdns_snapshot_file_last_write_timestamp_seconds',
    help: 'When --snapshot-file was last written, seconds since 1970; 0 before the first write.',
    registers: [registry],
    collect() {
      const t = state().lastWriteTime;
      this.set(t === undefined ? 0 : t / 1000);
    },
  });
  const writes = new client.Counter({ name: 'crdns_snapshot_file_writes_total', help: 'Successful writes of --snapshot-file.', registers: [registry] });
  const failures = new client.Counter({
    name: 'crdns_snapshot_file_write_failures_total',
    help: 'Writes of --snapshot-file that failed (each is retried; serving is not affected).',
    registers: [registry],
  });
  return { written: () => writes.inc(), writeFailed: () => failures.inc() };
}
