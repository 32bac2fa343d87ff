/**
 * Which endpoints of a Service count as ready, from its EndpointSlices. The
 * EndpointSlice API says a nil `ready` must be read as ready; a terminating
 * endpoint is on its way out and never counts, whatever `ready` says (the
 * same as kube-proxy, k8gb and Lighthouse).
 */
import type { EndpointSliceEndpoint, EndpointSliceResource } from './resources.js';

export interface ReadyAddress {
  address: string;
  /** The pod's hostname (spec.hostname, StatefulSets), when the slice carries it. */
  hostname?: string;
}

export function isReady(endpoint: EndpointSliceEndpoint): boolean {
  const c = endpoint.conditions ?? {};
  return c.ready !== false && c.terminating !== true;
}

function endpointsOf(slice: EndpointSliceResource): EndpointSliceEndpoint[] {
  return Array.isArray(slice.endpoints) ? slice.endpoints.filter((e) => e && typeof e === 'object') : [];
}

/** At least one endpoint of the Service is ready. */
export function hasReadyEndpoint(slices: readonly EndpointSliceResource[]): boolean {
  return slices.some((s) => endpointsOf(s).some(isReady));
}

/**
 * The addresses to publish for a headless Service: the ready ones, or every
 * non-terminating one when the Service asks for not-ready addresses to be
 * published. Sorted and deduplicated, so slice order never changes a record.
 */
export function publishedAddresses(slices: readonly EndpointSliceResource[], publishNotReady: boolean): ReadyAddress[] {
  const seen = new Map<string, ReadyAddress>();
  for (const slice of slices) {
    if (slice.addressType !== undefined && slice.addressType !== 'IPv4' && slice.addressType !== 'IPv6') continue;
    for (const ep of endpointsOf(slice)) {
      const ok = publishNotReady ? ep.conditions?.terminating !== true : isReady(ep);
      if (!ok || !Array.isArray(ep.addresses)) continue;
      for (const address of ep.addresses) {
        if (typeof address !== 'string' || address === '') continue;
        const key = `${address}\u0000${ep.hostname ?? ''}`;
        if (!seen.has(key)) seen.set(key, { address, ...(typeof ep.hostname === 'string' && ep.hostname !== '' ? { hostname: ep.hostname } : {}) });
      }
    }
  }
  return [...seen.values()].sort((a, b) => (a.address < b.address ? -1 : a.address > b.address ? 1 : (a.hostname ?? '').localeCompare(b.hostname ?? '')));
}
