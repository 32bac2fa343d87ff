/**
 * Service, EndpointSlice and Ingress as they arrive from the API server:
 * untyped JSON, so every field is optional and checked before use. Only the
 * fields crdns reads are declared.
 */
import type { ResourceKind } from '../../kubernetes/list-watch.js';

export const SERVICE = { group: '', version: 'v1', plural: 'services', kind: 'Service', apiVersion: 'v1' } as const satisfies ResourceKind & { kind: string; apiVersion: string };
export const ENDPOINTSLICE = { group: 'discovery.k8s.io', version: 'v1', plural: 'endpointslices', kind: 'EndpointSlice', apiVersion: 'discovery.k8s.io/v1' } as const satisfies ResourceKind & { kind: string; apiVersion: string };
export const INGRESS = { group: 'networking.k8s.io', version: 'v1', plural: 'ingresses', kind: 'Ingress', apiVersion: 'networking.k8s.io/v1' } as const satisfies ResourceKind & { kind: string; apiVersion: string };

/** The label EndpointSlice controllers put on a slice: the Service it belongs to. */
export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';

export interface ObjectMeta {
  name?: string;
  namespace?: string;
  uid?: string;
  generation?: number;
  creationTimestamp?: string;
  resourceVersion?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

export interface LoadBalancerIngress {
  ip?: string;
  hostname?: string;
}

export interface LoadBalancerStatus {
  ingress?: LoadBalancerIngress[];
}

export interface ServicePort {
  name?: string;
  protocol?: string;
  port?: number;
}

export interface ServiceResource {
  metadata?: ObjectMeta;
  spec?: {
    type?: string;
    clusterIP?: string;
    clusterIPs?: string[];
    externalName?: string;
    ports?: ServicePort[];
    publishNotReadyAddresses?: boolean;
  };
  status?: { loadBalancer?: LoadBalancerStatus };
}

export interface EndpointSliceEndpoint {
  addresses?: string[];
  conditions?: { ready?: boolean | null; serving?: boolean | null; terminating?: boolean | null };
  hostname?: string;
}

export interface EndpointSliceResource {
  metadata?: ObjectMeta;
  addressType?: string;
  endpoints?: EndpointSliceEndpoint[] | null;
}

export interface IngressBackend {
  service?: { name?: string };
}

export interface IngressResource {
  metadata?: ObjectMeta;
  spec?: {
    defaultBackend?: IngressBackend;
    rules?: Array<{ host?: string; http?: { paths?: Array<{ backend?: IngressBackend }> } }>;
  };
  status?: { loadBalancer?: LoadBalancerStatus };
}

/** "namespace/name", or undefined when either is missing. */
export function keyOfMeta(meta: ObjectMeta | undefined): string | undefined {
  const name = meta?.name;
  const namespace = meta?.namespace;
  if (typeof name !== 'string' || name === '' || typeof namespace !== 'string' || namespace === '') return undefined;
  return `${namespace}/${name}`;
}
