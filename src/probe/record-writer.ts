/**
 * Where a probe's records are written: a cluster's API server or a manifest
 * folder. Each call resolves at the source's acknowledgement (the API's
 * response, the rename returning), which is where propagation is measured
 * from, and rejects when the write may not have happened.
 *
 * Writes are idempotent in effect: a create of an object that exists
 * replaces it, a delete of one that is gone succeeds. After a failed write
 * the probe does not know what the source holds, and the next write must
 * work whatever it is.
 */
import type { ProbeName } from './records.js';

export interface RecordWriter {
  /** The cluster's name, as in `--cluster NAME=…`. */
  readonly cluster: string;
  /** Make `name` exist with this version. */
  put(name: ProbeName, version: number, op: 'create' | 'update'): Promise<void>;
  remove(name: ProbeName): Promise<void>;
  /** Delete every object carrying this probe's label (an earlier run's too); resolves with how many. */
  cleanup(): Promise<number>;
}
