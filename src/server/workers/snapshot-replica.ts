/**
 * A copy of the main thread's snapshot, kept by replaying the zone store's
 * build steps on a SnapshotBuilder of its own. The builder depends on its
 * inputs and its previous state only, so the same steps in the same order give
 * the same snapshots, serial and generation included.
 */
import { SnapshotBuilder } from '../../dns/zone-builder.js';
import type { ZoneConfig } from '../../dns/zone-config.js';
import type { RRsetInput } from '../../dns/zone-input.js';
import type { Snapshot } from '../../dns/zone.js';
import type { BuildStepMessage } from './protocol.js';

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
   * Applies a step as it arrives from another thread (structured-cloned).
   * Throws when an update does not fit this replica's state; the last good
   * snapshot stays, and a full step brings the replica back.
   */
  apply(step: BuildStepMessage): Snapshot {
    const inputs = reviveInputs(step.inputs);
    const built = step.kind === 'full' ? this.builder.full(inputs, step.serial, step.generation) : this.builder.update(inputs, step.serial, step.generation);
    if (!built) throw new Error(`generation ${step.generation}: the update does not fit this replica (it needs a full step)`);
    this.latest = built.snapshot;
    return built.snapshot;
  }
}

/** Structured cloning turns Buffers into plain Uint8Arrays; the TXT encoder needs Buffers. */
function reviveInputs(inputs: Map<string, RRsetInput[]>): Map<string, RRsetInput[]> {
  for (const list of inputs.values()) {
    for (const input of list) {
      if (input.type !== 'TXT') continue;
      // One Buffer[] per TXT record, one Buffer per character-string.
      for (const strings of input.data as unknown as Uint8Array[][]) {
        for (let i = 0; i < strings.length; i++) {
          const u = strings[i] as Uint8Array;
          if (!Buffer.isBuffer(u)) strings[i] = Buffer.from(u.buffer, u.byteOffset, u.byteLength);
        }
      }
    }
  }
  return inputs;
}
