/**
 * The Endpoint is the one currency between sources and the zone store, as in
 * ExternalDNS: sources turn whatever they read (a manifest file, a
 * DNSEndpoint watched from Kubernetes) into EndpointObjects, and nothing
 * downstream knows which source it was.
 */

/** One `spec.endpoints[]` entry of a DNSEndpoint, after validation of its shape. */
export interface Endpoint {
  dnsName: string;
  recordType: string;
  targets: string[];
  /** Seconds; 0 or absent means "use the default TTL". */
  recordTTL?: number;
  setIdentifier?: string;
  labels?: Record<string, string>;
}

/** Where a set of endpoints came from; what an owner needs to find the object. */
export interface EndpointOrigin {
  /** Which source produced it, e.g. "manifests" or "kubernetes". */
  source: string;
  namespace: string;
  name: string;
  /** metadata.generation when the source knows it. */
  generation?: number;
  uid?: string;
  /** The file (and document index) it was read from, for manifest sources. */
  file?: string;
}

/**
 * One DNSEndpoint as a source hands it over. `endpoints` is left untyped on
 * purpose: each entry is validated on its own so one malformed entry cannot
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
