/**
 * What the zone builder consumes: RRsets already validated one endpoint at a
 * time, each tagged with an opaque origin so conflicts between them can be
 * reported back to whoever wrote them. src/dns never looks inside an origin.
 */
import type { RDataByType, ServedType } from './records.js';

export interface RRsetInput<T extends ServedType = ServedType> {
  /** Canonical owner name; may start with the wildcard label "*". */
  name: string;
  type: T;
  /** Seconds. Already defaulted by the caller. */
  ttl: number;
  /** One entry per target, in the order written; duplicates already removed. */
  data: RDataByType[T][];
  /**
   * Opaque handle of whoever defined this RRset: the defining object, shared
   * by all of that object's inputs (one per record would be 64 bytes each).
   */
  origin: RRsetOrigin;
  /** Which entry of the defining object: breaks ties between an object's own entries, and names the entry in messages. */
  index: number;
}

export interface RRsetOrigin {
  /** Key of the defining object; breaks ties between equally old owners. */
  object: string;
  /**
   * Since when the defining object has existed, in ms: the older owner keeps a
   * name when two disagree, so a newcomer can never take over or break a
   * record that was there first. 0 when unknown (tests, `crdns check`).
   */
  since: number;
  /**
   * Who defined it, the same on every replica and in every cluster (e.g.
   * "cluster\0namespace/name"): breaks ties between equally old owners.
   * Absent: `object`.
   */
  owner?: string;
  /**
   * How near its source is: 0 for this cluster, n for the nth peer. Only the
   * order of records inside a merged RRset follows it (this cluster's targets
   * first); which owner wins a conflict never does, so every cluster decides
   * conflicts alike.
   */
  locality?: number;
}

/** An RRset the builder refused, and why. */
export interface RRsetRejection {
  /** The input refused: its origin and index say whose entry it was. */
  input: RRsetInput;
  field: string;
  reason: string;
}
