/**
 * DNSEndpoint manifests for tests that go through kubectl, as users write
 * them. JSON is valid YAML, so the manifest is JSON: no quoting surprises.
 */

import type { Endpoint } from '../../src/endpoint/endpoint.js';

/** An endpoint as written in a manifest: crdns's Endpoint plus the field it ignores. */
export interface EndpointSpec extends Endpoint {
  providerSpecific?: Array<{ name: string; value: string }>;
}

export interface DnsEndpointSpec {
  name: string;
  namespace: string;
  labels?: Record<string, string>;
  endpoints: EndpointSpec[];
}

export function dnsEndpointManifest(spec: DnsEndpointSpec): string {
  return JSON.stringify({
    apiVersion: 'externaldns.k8s.io/v1alpha1',
    kind: 'DNSEndpoint',
    metadata: { name: spec.name, namespace: spec.namespace, ...(spec.labels ? { labels: spec.labels } : {}) },
    spec: { endpoints: spec.endpoints },
  });
}

/** A one-A-record DNSEndpoint: `<name>.<zone>` → ip. */
export function aRecord(name: string, namespace: string, ip: string, zone = 'example.org', labels?: Record<string, string>): string {
  return dnsEndpointManifest({
    name,
    namespace,
    ...(labels ? { labels } : {}),
    endpoints: [{ dnsName: `${name}.${zone}`, recordType: 'A', targets: [ip], recordTTL: 60 }],
  });
}
