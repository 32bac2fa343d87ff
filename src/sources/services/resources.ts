/**
 * Service, EndpointSlice, Ingress and the Gateway API kinds as they arrive from the API server:
 * untyped JSON, so every field is optional and checked before use. Only the
 * fields crdns reads are declared.
 */
import type { ResourceKind } from '../../kubernetes/list-watch.js';

export const SERVICE = { group: '', version: 'v1', plural: 'services', kind: 'Service', apiVersion: 'v1' } as const satisfies ResourceKind & { kind: string; apiVersion: string };
export const ENDPOINTSLICE = { group: 'discovery.k8s.io', version: 'v1', plural: 'endpointslices', kind: 'EndpointSlice', apiVersion: 'discovery.k8s.io/v1' } as const satisfies ResourceKind & { kind: string; apiVersion: string };
export const INGRESS = { group: 'networking.k8s.io', version: 'v1', plural: 'ingresses', kind: 'Ingress', apiVersion: 'networking.k8s.io/v1' } as const satisfies ResourceKind & { kind: string; apiVersion: string };
export const GATEWAY_GROUP = 'gateway.networking.k8s.io';
export const GATEWAY = { group: GATEWAY_GROUP, version: 'v1', plural: 'gateways', kind: 'Gateway', apiVersion: 'gateway.networking.k8s.io/v1' } as const satisfies ResourceKind & { kind: string; apiVersion: string };
export const HTTPROUTE = { group: GATEWAY_GROUP, version: 'v1', plural: 'httproutes', kind: 'HTTPRoute', apiVersion: 'gateway.networking.k8s.io/v1' } as const satisfies ResourceKind & { kind: string; apiVersion: string };
export const GRPCROUTE = { group: GATEWAY_GROUP, version: 'v1', plural: 'grpcroutes', kind: 'GRPCRoute', apiVersion: 'gateway.networking.k8s.io/v1' } as const satisfies ResourceKind & { kind: string; apiVersion: string };

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

export interface ParentReference {
  group?: string;
  kind?: string;
  namespace?: string;
  name?: string;
  sectionName?: string;
  port?: number;
}

export interface GatewayListener {
  name?: string;
  hostname?: string;
  port?: number;
  protocol?: string;
  allowedRoutes?: { namespaces?: { from?: string }; kinds?: Array<{ group?: string; kind?: string }> };
}

export interface GatewayResource {
  metadata?: ObjectMeta;
  spec?: { listeners?: GatewayListener[] };
  status?: { addresses?: Array<{ type?: string; value?: string }> };
}

export interface RouteCondition {
  type?: string;
  status?: string;
  observedGeneration?: number;
}

/** HTTPRoute and GRPCRoute share every field crdns reads. */
export interface RouteResource {
  metadata?: ObjectMeta;
  spec?: {
    hostnames?: string[];
    parentRefs?: ParentReference[];
    rules?: Array<{ backendRefs?: Array<{ group?: string; kind?: string; name?: string; namespace?: string }> }>;
  };
  status?: { parents?: RouteParentStatus[] };
}

export interface RouteParentStatus {
  parentRef?: ParentReference;
  conditions?: RouteCondition[];
}

/** "namespace/name", or undefined when either is missing. */
export function keyOfMeta(meta: ObjectMeta | undefined): string | undefined {
  const name = meta?.name;
  const namespace = meta?.namespace;
  if (typeof name !== 'string' || name === '' || typeof namespace !== 'string' || namespace === '') return undefined;
  return `${namespace}/${name}`;
}
