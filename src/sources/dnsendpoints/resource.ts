/**
 * The DNSEndpoint resource as it arrives from the API server, and its
 * conversion to the source-neutral EndpointObject. Everything here is read
 * from untyped JSON, so every field is optional and checked before use.
 */

import type { EndpointObject } from '../../endpoint/endpoint.js';
import type { ResourceKind } from '../../kubernetes/list-watch.js';

export const DNSENDPOINT = {
  group: 'externaldns.k8s.io',
  version: 'v1alpha1',
  plural: 'dnsendpoints',
  kind: 'DNSEndpoint',
  apiVersion: 'externaldns.k8s.io/v1alpha1',
} as const satisfies ResourceKind & { kind: string; apiVersion: string };

/** metav1.Condition */
export interface Condition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  observedGeneration?: number;
  lastTransitionTime: string;
  reason: string;
  message: string;
}

export interface DnsEndpointStatus {
  observedGeneration?: number;
  conditions?: Condition[];
}

export interface DnsEndpointResource {
  apiVersion?: string;
  kind?: string;
  metadata?: {
    name?: string;
    namespace?: string;
    uid?: string;
    generation?: number;
    creationTimestamp?: string;
    resourceVersion?: string;
    labels?: Record<string, string>;
  };
  spec?: { endpoints?: unknown };
  status?: DnsEndpointStatus;
}

/** What the status reporter needs to know about a watched object. */
export interface DirectoryEntry {
  key: string;
  namespace: string;
  name: string;
  uid: string;
  generation: number;
  resourceVersion: string;
  /** spec.endpoints as received, to name endpoints in messages. */
  endpoints: readonly unknown[];
  status: DnsEndpointStatus | undefined;
}

/** Looks up the current state of an object by EndpointObject.key. */
export interface ObjectDirectory {
  lookup(key: string): DirectoryEntry | undefined;
}

export function objectKey(namespace: string, name: string): string {
  return `${namespace}/${name}`;
}

/** The key of a resource, or undefined if it lacks a name or namespace. */
export function keyOf(resource: DnsEndpointResource): string | undefined {
  const name = resource.metadata?.name;
  const namespace = resource.metadata?.namespace;
  if (typeof name !== 'string' || name === '' || typeof namespace !== 'string' || namespace === '') return undefined;
  return objectKey(namespace, name);
}

function endpointsOf(resource: DnsEndpointResource): readonly unknown[] {
  const endpoints = resource.spec?.endpoints;
  return Array.isArray(endpoints) ? endpoints : [];
}

export function toEndpointObject(resource: DnsEndpointResource, key: string): EndpointObject {
  const meta = resource.metadata ?? {};
  const origin: EndpointObject['origin'] = {
    source: 'kubernetes',
    namespace: meta.namespace ?? '',
    name: meta.name ?? '',
  };
  if (typeof meta.generation === 'number') origin.generation = meta.generation;
  if (typeof meta.uid === 'string') origin.uid = meta.uid;
  const created = typeof meta.creationTimestamp === 'string' ? Date.parse(meta.creationTimestamp) : NaN;
  if (Number.isFinite(created)) origin.createdAt = created;
  return { key, origin, endpoints: endpointsOf(resource) };
}

export function toDirectoryEntry(resource: DnsEndpointResource, key: string): DirectoryEntry {
  const meta = resource.metadata ?? {};
  return {
    key,
    namespace: meta.namespace ?? '',
    name: meta.name ?? '',
    uid: meta.uid ?? '',
    generation: typeof meta.generation === 'number' ? meta.generation : 0,
    resourceVersion: meta.resourceVersion ?? '',
    endpoints: endpointsOf(resource),
    status: resource.status && typeof resource.status === 'object' ? resource.status : undefined,
  };
}
