/** What the conversion of one Service or Ingress yields; the source decides whether to publish it (hold-down). */
import type { AnnotationProblem } from './annotations.js';
import type { RawEndpoint } from './record-builder.js';

export interface WorkloadRecords {
  endpoints: RawEndpoint[];
  /** Annotation values that were ignored, for Events. */
  problems: AnnotationProblem[];
  /** Publishing waits for a ready endpoint; false: nothing to check, or checking switched off. */
  healthGated: boolean;
  /** A ready endpoint exists now (only meaningful when healthGated). */
  healthy: boolean;
}
