/**
 * The currency between sources and the zone store, as in ExternalDNS: sources
 * turn whatever they read (a manifest file, a DNSEndpoint watched from
 * Kubernetes) into EndpointObjects, and nothing downstream knows which source
 * it was. An object's entries arrive as the source read them; endpoint-shape.ts
 * turns each into a typed Endpoint, or a problem, before anything else looks
 * at it.
 */

import { jsonEqual } from './json-equal.js';

/** One `spec.endpoints[]` entry of a DNSEndpoint, after its shape is checked (endpoint-shape.ts). */
export interface Endpoint {
  dnsName: string;
  recordType: string;
  targets: readonly string[];
  /** Seconds; 0 or absent means "use the default TTL". */
  recordTTL?: number;
  setIdentifier?: string;
  labels?: Readonly<Record<string, string>>;
}

/** Where a set of endpoints came from; what an owner needs to find the object. */
export interface EndpointOrigin {
  /** Which source produced it, e.g. "manifests" or "kubernetes". */
  source: string;
  /** The cluster it was read from (--cluster for this one), when crdns watches clusters. */
  cluster?: string;
  /** 0 for this cluster, n for the nth peer: only the order of targets inside a merged RRset follows it. */
  locality?: number;
  namespace: string;
  name: string;
  /** metadata.generation when the source knows it. */
  generation?: number;
  /** metadata.uid when the source knows it: a deleted and recreated object is a new object. */
  uid?: string;
  /**
   * When the object was created (ms since 1970: metadata.creationTimestamp),
   * when the source knows it. The older object owns a contested name; without
   * it, the store uses the time it first saw the object.
   */
  createdAt?: number;
  /** The file (and document index) it was read from, for manifest sources. */
  file?: string;
}

/**
 * One DNSEndpoint as a source hands it over. `endpoints` holds the entries as
 * read, on purpose: each is checked on its own, so one malformed entry cannot
 * take its siblings down.
 */
export interface EndpointObject {
  /** Unique and stable across updates of the same object, e.g. "namespace/name". */
  key: string;
  origin: EndpointOrigin;
  endpoints: readonly unknown[];
}

/** Why one endpoint (or a whole object) was not served. */
export interface EndpointProblem {
  /** EndpointObject.key */
  object: string;
  /** Index in spec.endpoints, or -1 for a problem with the object itself. */
  index: number;
  /** The field at fault, e.g. "targets[1]" or "dnsName". */
  field: string;
  reason: string;
  /** The endpoint's previous version keeps serving (last-good.ts) until this is fixed or the endpoint removed. */
  servingPrevious?: boolean;
}

/** Identity of a problem, for "is this one new": the same problem re-found on every rebuild is one problem. */
export function problemId(p: EndpointProblem): string {
  return `${p.object}\u0000${p.index}\u0000${p.field}\u0000${p.reason}`;
}

/**
 * What makes two versions of an object different for serving: identity (uid),
 * version (generation) and content. A status write bumps resourceVersion but
 * none of these, so it never causes a rebuild; a recreated object always does.
 * This is the one "did it change" check; sources and the store both use it.
 */
export function objectFingerprint(o: EndpointObject): string {
  return JSON.stringify([o.origin.uid ?? null, o.origin.generation ?? null, o.endpoints]);
}

/** What objectFingerprint compares (uid, generation, endpoints), compared in place: no string the size of the object. */
export function sameVersion(a: EndpointObject, b: EndpointObject): boolean {
  return a.origin.uid === b.origin.uid && a.origin.generation === b.origin.generation && jsonEqual(a.endpoints, b.endpoints);
}

/** Same fingerprint and same origin: nothing to hand over at all. */
export function sameObject(a: EndpointObject, b: EndpointObject): boolean {
  return a === b || (objectFingerprint(a) === objectFingerprint(b) && JSON.stringify(a.origin) === JSON.stringify(b.origin));
}

/**
 * What a source feeds into. A source calls `replaceAll` for a full listing
 * (startup, relist) and `upsert`/`remove` for changes; `synced` once its first
 * full listing is in, which is what readiness waits for.
 */
export interface EndpointSink {
  replaceAll(objects: readonly EndpointObject[]): void;
  upsert(object: EndpointObject): void;
  remove(key: string): void;
  synced(): void;
}

/** A source of EndpointObjects: the manifest folder, or the Kubernetes API. */
export interface EndpointSource {
  readonly name: string;
  start(sink: EndpointSink): Promise<void>;
  stop(): Promise<void>;
}
