/** What `serve` needs from a source besides the EndpointSource itself. */
import type { EndpointSource } from '../endpoint/endpoint.js';
import type { RebuildEvent } from '../store/zone-store.js';

export interface SourceWiring {
  source: EndpointSource;
  /** Called after every snapshot build, e.g. to write status back to the objects. */
  onRebuild?: (e: RebuildEvent) => void;
  /** Called on shutdown after the source stopped. */
  stop?: () => Promise<void>;
  /** Extra fields for /readyz, e.g. whether the watch is connected. */
  details?: () => Record<string, unknown>;
}
