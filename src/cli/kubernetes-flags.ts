/** Builds the Kubernetes source from serve flags; loaded only when crdns watches the API. */
import type { EndpointSource } from '../endpoint/endpoint.js';
import type { Logger } from '../observe/logger.js';
import { UsageError, type FlagValues } from './options.js';

export async function kubernetesSourceFromFlags(_v: FlagValues, _logger: Logger): Promise<EndpointSource> {
  throw new UsageError('the Kubernetes source is not wired in yet; use --manifests DIR');
}
