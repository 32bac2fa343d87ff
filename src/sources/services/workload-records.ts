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
  /**
   * Every name the object asks to publish (hostname and internal-hostname
   * annotations, an Ingress's rule hosts), whether or not it got a record: a
   * manifest folder tells the names that got none, since nothing will ever
   * give them an address there.
   */
  names: string[];
}
