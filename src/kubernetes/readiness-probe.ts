/**
 * The reachability probe against a real API server: GET /readyz with the
 * watch's own credentials.
 *
 * - /readyz answers 200 only when every readiness check passes, etcd among
 *   them. Measured on 1.36: while etcd is away it does not answer at all
 *   (its etcd check blocks; lists meanwhile take 60 s to fail with 504), and
 *   for a few seconds after etcd or the server itself comes back it answers
 *   500. /version answers throughout an etcd outage, so probing it would
 *   wake the loop into a wall of 504s.
 * - The default ClusterRole system:public-info-viewer lets every
 *   authenticated user (and anonymous, where enabled) read it: no extra
 *   RBAC. Right after a restart the server answers 403 for a second or two,
 *   until its RBAC caches are filled (measured on 1.36): that is "not ready",
 *   like every status but 2xx. A cluster that revoked the role answers 403
 *   for good; the probe then never says "up" and the loop falls back to the
 *   plain backoff, never worse than without a probe.
 */

import type { KubeConfig } from '@kubernetes/client-node';
import { getStatus } from './client.js';
import type { Reachability } from './reachability.js';

export const READINESS_PATH = '/readyz';

/** Asks the API server of `kc` whether it is ready. Never rejects. */
export async function probeReadiness(kc: KubeConfig, signal: AbortSignal): Promise<Reachability> {
  try {
    return reachabilityOfStatus(await getStatus(kc, READINESS_PATH, signal));
  } catch {
    return 'down';
  }
}

export function reachabilityOfStatus(status: number): Reachability {
  return status >= 200 && status <= 299 ? 'up' : 'unready';
}
