/**
 * A copy of the main thread's snapshot, kept by replaying the zone store's
 * build steps on a SnapshotBuilder of its own. The builder depends on its
 * inputs and its previous state only, so the same steps in the same order give
 * the same snapshots, serial and generation included.
 */
import { SnapshotBuilder } from '../../dns/zone-builder.js';
import type { ZoneConfig } from '../../dns/zone-config.js';
import type { Snapshot } from '../../dns/zone.js';
import type { BuildStep } from '../../store/zone-store.js';

export class SnapshotReplica {
  private readonly builder: SnapshotBuilder;
  private latest: Snapshot | undefined;

  constructor(zones: readonly ZoneConfig[]) {
    this.builder = new SnapshotBuilder(zones);
  }

  get snapshot(): Snapshot | undefined {
    return this.latest;
  }

  /**
   * Applies a step as decoded from another thread (step-codec.ts). Throws
   * when an update does not fit this replica's state; the last good snapshot
   * stays, and a full step brings the replica back.
   */
  apply(step: BuildStep): Snapshot {
    const { inputs } = step;
    const built = step.kind === 'full' ? this.builder.full(inputs, step.serial, step.generation) : this.builder.update(inputs, step.serial, step.generation);
    if (!built) throw new Error(`generation ${step.generation}: the update does not fit this replica (it needs a full step)`);
    this.latest = built.snapshot;
    return built.snapshot;
  }
}
