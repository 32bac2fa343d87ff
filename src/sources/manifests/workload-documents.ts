/**
 * Service (v1) and Ingress (networking.k8s.io/v1) manifests → the entries the
 * live source would publish for them, by the same conversion
 * (sources/services). A folder has no EndpointSlices and no load balancer
 * controller, so two things differ, on purpose and said in docs/sources.md:
 * records are published without readiness, and addresses come only from the
 * manifest itself (status.loadBalancer.ingress, spec.clusterIP(s) for
 * internal-hostname, the target annotation). Keys carry the kind as in the
 * live source, so a Service and a DNSEndpoint of the same name never collide.
 */
import { DEFAULT_ANNOTATION_PREFIXES, type AnnotationProblem } from '../services/annotations.js';
import { ingressRecords } from '../services/ingress-records.js';
import type { RawEndpoint } from '../services/record-builder.js';
import type { IngressResource, ServiceResource } from '../services/resources.js';
import { serviceRecords } from '../services/service-records.js';
import type { WorkloadRecords } from '../services/workload-records.js';

export type WorkloadManifestKind = 'service' | 'ingress';

export const WORKLOAD_KEY_PREFIX: Readonly<Record<WorkloadManifestKind, string>> = { service: 'service:', ingress: 'ingress:' };

/** The kinds read here, by the exact apiVersion the API server serves them under; any other (a Knative `Service`) is not ours. */
export function workloadKindOf(apiVersion: unknown, kind: string): WorkloadManifestKind | undefined {
  if (kind === 'Service' && apiVersion === 'v1') return 'service';
  if (kind === 'Ingress' && apiVersion === 'networking.k8s.io/v1') return 'ingress';
  return undefined;
}

/** What a manifest key names: DNSEndpoint keys are "namespace/name", and a namespace never holds a colon. */
export function manifestKindOfKey(key: string): 'dnsendpoint' | WorkloadManifestKind {
  if (key.startsWith(WORKLOAD_KEY_PREFIX.service)) return 'service';
  if (key.startsWith(WORKLOAD_KEY_PREFIX.ingress)) return 'ingress';
  return 'dnsendpoint';
}

export interface WorkloadConversion {
  endpoints: RawEndpoint[];
  /** Annotation values ignored; the rest of the object is served. */
  problems: AnnotationProblem[];
  /** Names the object asks for that got no record: nothing in the manifest gives them an address. */
  unaddressed: string[];
  /** Said about `unaddressed` when there are any: where an address would have come from. */
  note?: string;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Why the API server would refuse this object's envelope (so a folder keeps
 * its last good version), or undefined. Only what the conversion relies on is
 * checked: everything deeper is read defensively by it.
 */
export function workloadEnvelopeProblem(kind: WorkloadManifestKind, value: Readonly<Record<string, unknown>>): string | undefined {
  const meta = value.metadata as Record<string, unknown>;
  const annotations = meta.annotations;
  if (annotations !== undefined && annotations !== null) {
    if (!isPlainObject(annotations)) return 'metadata.annotations must be a mapping';
    for (const [k, v] of Object.entries(annotations)) {
      // kubectl refuses `ttl: 60` too: annotation values are strings.
      if (typeof v !== 'string') return `metadata.annotations["${k}"] must be a string (quote it: "${String(v)}")`;
    }
  }
  for (const field of ['spec', 'status'] as const) {
    const v = value[field];
    if (v !== undefined && v !== null && !isPlainObject(v)) return `${field} must be a mapping`;
  }
  if (kind === 'service' && typeof meta.name === 'string' && !/^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/.test(meta.name)) {
    return `metadata.name "${meta.name}" is not a valid Service name (a DNS-1035 label: lowercase letters, digits and "-", starting with a letter, at most 63)`;
  }
  return undefined;
}

/** The entries of a Service or Ingress whose envelope passed workloadEnvelopeProblem(). */
export function convertWorkload(kind: WorkloadManifestKind, value: Readonly<Record<string, unknown>>, prefixes: readonly string[] = DEFAULT_ANNOTATION_PREFIXES): WorkloadConversion {
  let records: WorkloadRecords;
  if (kind === 'service') records = serviceRecords(value as ServiceResource, [], prefixes);
  // No backends to look at: their readiness is what a folder cannot know.
  else records = ingressRecords(value as IngressResource, { service: () => undefined, slices: () => [] }, prefixes);
  const published = new Set(records.endpoints.map((e) => canonical(e.dnsName)));
  const unaddressed = [...new Set(records.names.filter((n) => n.trim() !== '' && !published.has(canonical(n))))];
  if (unaddressed.length === 0) return { endpoints: records.endpoints, problems: records.problems, unaddressed };
  return { endpoints: records.endpoints, problems: records.problems, unaddressed, note: `no record for ${unaddressed.join(', ')}: ${whereAddressesComeFrom(kind, value)}` };
}

function whereAddressesComeFrom(kind: WorkloadManifestKind, value: Readonly<Record<string, unknown>>): string {
  if (kind === 'ingress') return 'the manifest has no status.loadBalancer.ingress and no target annotation';
  const spec = (value as ServiceResource).spec ?? {};
  if (spec.clusterIP === 'None') return 'a headless Service\'s addresses come from EndpointSlices, which a folder does not have; give a target annotation';
  const type = spec.type ?? 'ClusterIP';
  if (type === 'ExternalName') return 'the manifest has no spec.externalName and no target annotation';
  if (type === 'LoadBalancer') return 'the manifest has no status.loadBalancer.ingress and no target annotation (internal-hostname needs spec.clusterIP)';
  return `a ${type} Service publishes hostname only with a target annotation (internal-hostname needs spec.clusterIP)`;
}

function canonical(name: string): string {
  return name.trim().toLowerCase().replace(/\.$/, '');
}
