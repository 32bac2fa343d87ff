/**
 * Messages between `crdns serve` and its serving workers (--workers). The
 * main thread owns the source, validation and the zone store; each worker
 * owns gRPC listeners and a replica of the snapshot, kept equal to the main
 * one by replaying the store's build steps (zone-store.ts BuildStep) on its
 * own SnapshotBuilder. Everything here survives structured cloning; build
 * steps travel serialized (step-codec.ts).
 */
import type { ZoneConfig } from '../../dns/zone-config.js';
import type { LogLevel } from '../../logger.js';

/** Given to a worker at start (workerData). */
export interface WorkerInit {
  index: number;
  zones: readonly ZoneConfig[];
  /** Plain-text gRPC addresses, `{worker}` already replaced. */
  listen: readonly string[];
  logLevel: LogLevel;
  /** How often answered-query tallies go to the main thread's metrics. */
  tallyIntervalMs: number;
}

export type ToWorker =
  /** A zone-store BuildStep, encoded once for every worker by encodeBuildStep. */
  | { kind: 'build'; step: SharedArrayBuffer }
  | { kind: 'health'; serving: boolean }
  | { kind: 'stop'; graceMs: number };

/** Answered queries since the last tally: counts by `zone|qtype|rcode` key and every handler duration, in seconds. */
export interface QueryTally {
  counts: Array<{ zone: string | undefined; qtype: number; rcode: number; n: number }>;
  durations: Float64Array;
  unavailable: number;
}

export type FromWorker =
  | { kind: 'listening'; addresses: string[] }
  | { kind: 'listen-failed'; address: string; reason: string }
  | { kind: 'applied'; generation: number }
  | { kind: 'build-failed'; generation: number; error: string }
  | { kind: 'tally'; tally: QueryTally }
  | { kind: 'stopped' };
