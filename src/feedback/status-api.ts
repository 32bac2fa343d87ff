/**
 * The two writes feedback makes to the API server: a status merge patch on a
 * DNSEndpoint and a core/v1 Event. Unit tests fake the StatusApi interface.
 */

import { CoreV1Api, CustomObjectsApi, PatchStrategy, type CoreV1Event, type KubeConfig } from '@kubernetes/client-node';
import { requestOptions } from '../kubernetes/client.js';
import { DNSENDPOINT, type DnsEndpointResource, type DnsEndpointStatus } from '../sources/dnsendpoints/resource.js';

/** A core/v1 Event as crdns writes it. */
export type EventBody = CoreV1Event;

/** The writes the status reporter makes. Errors carry the HTTP status as `code` (ApiException). */
export interface StatusApi {
  /** JSON merge patch of the status subresource; resolves to the object as stored. */
  patchStatus(namespace: string, name: string, status: DnsEndpointStatus, signal: AbortSignal): Promise<DnsEndpointResource>;
  createEvent(namespace: string, event: EventBody, signal: AbortSignal): Promise<void>;
}

export class KubernetesStatusApi implements StatusApi {
  private readonly custom: CustomObjectsApi;
  private readonly core: CoreV1Api;

  constructor(kc: KubeConfig) {
    this.custom = kc.makeApiClient(CustomObjectsApi);
    this.core = kc.makeApiClient(CoreV1Api);
  }

  async patchStatus(namespace: string, name: string, status: DnsEndpointStatus, signal: AbortSignal): Promise<DnsEndpointResource> {
    const { group, version, plural } = DNSENDPOINT;
    const stored: unknown = await this.custom.patchNamespacedCustomObjectStatus(
      {
        group,
        version,
        plural,
        namespace,
        name,
        body: { status },
        // With ExternalDNS's own CRD, status.conditions is not in the schema:
        // let the server prune it silently instead of warning on every write.
        fieldValidation: 'Ignore',
      },
      requestOptions(signal, PatchStrategy.MergePatch),
    );
    return (stored ?? {}) as DnsEndpointResource;
  }

  async createEvent(namespace: string, event: EventBody, signal: AbortSignal): Promise<void> {
    await this.core.createNamespacedEvent({ namespace, body: event }, requestOptions(signal));
  }
}
