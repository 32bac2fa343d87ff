/**
 * The zone store: it receives DNSEndpoint objects from a source, validates
 * each object once per change, and rebuilds the immutable snapshot the
 * resolver reads. Changes that arrive together are coalesced into one
 * rebuild; the swap is a single assignment, so a query sees either the old
 * snapshot or the new one. Until the source's first full listing is in,
 * `current` is undefined and queries are told to go elsewhere.
 *
 * A rebuild redoes only the owner names the changed objects had or have
 * (zone-builder.ts `update`), and the problems of the objects with inputs at
 * those names. The whole snapshot is rebuilt on the first build, when a
 * partition is lost or back (its inputs leave or rejoin many names), when a
 * change involves NS or DNAME, and when a change touches a large share of
 * the names, where building whole is as cheap.
 */
import { SnapshotBuilder, type BuildResult } from '../dns/zone-builder.js';
import type { ZoneConfig } from '../dns/zone-config.js';
import type { RRsetInput, RRsetRejection } from '../dns/zone-input.js';
import type { Snapshot } from '../dns/zone.js';
import { problemId, sameVersion, type EndpointObject, type EndpointProblem, type EndpointSink } from '../endpoint/endpoint.js';
import { keepLastGood } from '../endpoint/last-good.js';
import type { NamePolicy } from '../endpoint/name-policy.js';
import type { OwnerRank } from '../endpoint/validate-endpoint.js';
import { validateObject, type EndpointResult, type ValidationContext } from '../endpoint/validate-object.js';
import { silentLogger, type Logger } from '../logger.js';
import { changedInputNames, InputIndex } from './input-index.js';

/** A change touching more than this share of the names (and more than FULL_REBUILD_MIN_NAMES) is built whole. */
const FULL_REBUILD_SHARE = 0.25;
const FULL_REBUILD_MIN_NAMES = 64;

interface Validated {
  object: EndpointObject;
  /** Each endpoint's own validation, by index, and the rank it had: reused for the entries the next version leaves alone. */
  results: EndpointResult[];
  rank: OwnerRank;
  rrsets: RRsetInput[];
  problems: EndpointProblem[];
  /** The partition (source) it came from; '' for the store's own sink methods. */
  partition: string;
  /** Read from --snapshot-file, not from a live source: served, but never reported back to the object. */
  restored: boolean;
}

/** One source's share of the store, e.g. one cluster's DNSEndpoints. */
export interface PartitionOptions {
  /** Stamped on every object's origin: the cluster it was read from. */
  cluster?: string;
  /** Stamped on every object's origin: 0 for this cluster, n for the nth peer. */
  locality?: number;
  /** Prepended to keys, so two clusters' "ns/name" never collide. Default ''. */
  keyPrefix?: string;
  /** Whether this partition's first complete listing is what readiness waits for. */
  gatesReadiness: boolean;
  /**
   * While lost, records only this partition serves are kept (default: an
   * NXDOMAIN would be negatively cached past the recovery) or withdrawn too.
   */
  orphans?: 'keep' | 'withdraw';
}

/** An EndpointSink for one partition, plus whether its source is lost (peer clusters). */
export interface PartitionSink extends EndpointSink {
  /** A lost partition's records leave every RRset another partition also serves (and, with withdrawOrphans, all of them). */
  setLost(lost: boolean): void;
}

export interface PartitionStats {
  objects: number;
  /** Records (targets) its objects contribute before any withdrawal or conflict. */
  records: number;
  synced: boolean;
  lost: boolean;
  /** Its objects came from --snapshot-file and no live listing has replaced them yet. */
  restored: boolean;
  gatesReadiness: boolean;
}

/**
 * One partition's objects as its source handed them over (keys without the
 * partition's prefix, so they go back in through the same stamping), for
 * --snapshot-file. Source objects rather than built records: on the way back
 * they pass the same validation and zone build as live ones.
 */
export interface SavedPartition {
  name: string;
  objects: EndpointObject[];
}

/** What restore() did with each saved partition. */
export interface RestoreResult {
  restored: string[];
  skipped: Array<{ name: string; reason: string }>;
  /** Whether the restored data made the store ready (every partition readiness waits for is listed or restored). */
  ready: boolean;
}

export interface ZoneStoreOptions {
  zones: readonly ZoneConfig[];
  defaultTtl: number;
  /** Who may publish which names (--name-policy); absent: unrestricted. */
  policy?: NamePolicy;
  logger?: Logger;
  /** Now, in ms; injectable for tests. */
  clock?: () => number;
  /** false: every rebuild builds the whole snapshot, as before #14; for benchmarks and tests. Default true. */
  incremental?: boolean;
}

/** What changed between the previous snapshot and this one, computed once per rebuild. */
export interface StoreChanges {
  /** Object keys new since the previous build. */
  added: readonly string[];
  /** Object keys whose content, uid or generation changed. */
  changed: readonly string[];
  removed: readonly string[];
  /** Problems not present in the previous build, and problems gone since. */
  problemsAppeared: readonly EndpointProblem[];
  problemsCleared: readonly EndpointProblem[];
}

/** An object an observer should look at again, with all its current problems. */
export interface TouchedObject {
  object: EndpointObject;
  problems: readonly EndpointProblem[];
}

/** What observers learn after each rebuild: the snapshot, and what changed. */
export interface RebuildEvent {
  snapshot: Snapshot;
  /** Every current problem, by object key (validation and cross-object conflicts). */
  problems: ReadonlyMap<string, readonly EndpointProblem[]>;
  /** Objects known. */
  objectCount: number;
  changes: StoreChanges;
  /** Added or changed objects, and objects whose problems changed (a conflict can come from another object). */
  touched: ReadonlyMap<string, TouchedObject>;
  /** Per partition (source): objects, records contributed, sync and lost state. */
  partitions: ReadonlyMap<string, PartitionStats>;
  /** Milliseconds spent building. */
  buildMs: number;
  /** Whether only the changed names were rebuilt (else the whole snapshot was). */
  incremental: boolean;
  /** What the builder was given, so a replica (a serving worker's builder) can make the same snapshot. */
  build: BuildStep;
}

/**
 * One successful call of the snapshot builder: replayed in order on another
 * SnapshotBuilder, these steps give it the same state and the same snapshots,
 * since the builder depends on nothing else.
 */
export interface BuildStep {
  kind: 'full' | 'update';
  /** Owner name → its complete inputs (an empty list: the name has none any more). */
  inputs: ReadonlyMap<string, readonly RRsetInput[]>;
  serial: number;
  generation: number;
}

interface PartitionState {
  options: PartitionOptions;
  synced: boolean;
  lost: boolean;
  /** Its source has handed over a complete listing (replaceAll) at least once. */
  listed: boolean;
  /** It holds objects from restore() that no live listing has replaced yet. */
  restored: boolean;
}

export class ZoneStore implements EndpointSink {
  private readonly objects = new Map<string, Validated>();
  private readonly ctx: ValidationContext;
  private readonly logger: Logger;
  private readonly clock: () => number;
  private readonly listeners: ((e: RebuildEvent) => void)[] = [];
  private snapshot: Snapshot | undefined;
  private readonly partitions = new Map<string, PartitionState>();

  private isSynced = false;
  private dirty = false;
  private scheduled = false;
  private timer: NodeJS.Timeout | undefined;
  private lastBuildEnd = 0;
  private lastBuildMs = 0;
  private generation = 0;
  private serial = 0;
  /** Every object's current problems (validation and the builder's rejections), for objects that have any. */
  private problems = new Map<string, EndpointProblem[]>();
  /** Changes since the last build; an object added then removed is in neither. */
  private pending = { added: new Set<string>(), changed: new Set<string>(), removed: new Set<string>() };
  /** When each key was first seen, for objects whose source gives no creation time. */
  private readonly firstSeen = new Map<string, number>();
  private readonly builder: SnapshotBuilder;
  private readonly incremental: boolean;
  private readonly inputs = new InputIndex();
  /** Owner names whose inputs changed since the last build. */
  private changedNames = new Set<string>();
  /** The next build must be a whole one (first build, lost-state changes). */
  private needsFull = true;
  /** The last build's rejections by owner name. */
  private rejections = new Map<string, readonly RRsetRejection[]>();
  /** Objects and records per partition, kept as objects come and go. */
  private readonly counts = new Map<string, { objects: number; records: number }>();

  constructor(opts: ZoneStoreOptions) {
    this.ctx = { zones: opts.zones.map((z) => z.apex), defaultTtl: opts.defaultTtl, ...(opts.policy ? { policy: opts.policy } : {}) };
    this.logger = opts.logger ?? silentLogger;
    this.clock = opts.clock ?? Date.now;
    this.builder = new SnapshotBuilder(opts.zones);
    this.incremental = opts.incremental ?? true;
    this.partitions.set('', { options: { gatesReadiness: true }, synced: false, lost: false, listed: false, restored: false });
  }

  /** A sink for one source among several; the store's own sink methods are partition ''. */
  partition(name: string, options: PartitionOptions): PartitionSink {
    if (name === '' || this.partitions.has(name)) throw new Error(`partition ${JSON.stringify(name)} exists already`);
    const state: PartitionState = { options, synced: false, lost: false, listed: false, restored: false };
    this.partitions.set(name, state);
    const prefix = options.keyPrefix ?? '';
    const stamp = (o: EndpointObject): EndpointObject => stampObject(o, options);
    return {
      replaceAll: (objects) => this.replaceIn(name, objects.map(stamp)),
      upsert: (object) => {
        this.put(stamp(object), this.clock(), name);
        this.schedule();
      },
      remove: (key) => {
        if (this.delete(prefix + key)) this.schedule();
      },
      synced: () => this.markSynced(name),
      setLost: (lost) => {
        if (state.lost === lost) return;
        state.lost = lost;
        this.dirty = true;
        this.needsFull = true;
        this.schedule();
      },
    };
  }

  /** The snapshot queries read; undefined until the first full listing. */
  get current(): Snapshot | undefined {
    return this.snapshot;
  }

  get ready(): boolean {
    return this.snapshot !== undefined;
  }

  onRebuild(listener: (e: RebuildEvent) => void): void {
    this.listeners.push(listener);
  }

  replaceAll(objects: readonly EndpointObject[]): void {
    this.replaceIn('', objects);
  }

  private replaceIn(partition: string, objects: readonly EndpointObject[]): void {
    const state = this.partitions.get(partition);
    if (state?.restored) {
      // The first live listing replaces the saved data wholesale: every object is then new, so it is
      // validated afresh and reported on as on any start, even where it equals what was saved.
      for (const [key, v] of this.objects) if (v.partition === partition) this.delete(key);
      state.restored = false;
      this.logger.info('live listing replaces the snapshot file\'s data', { partition: partition === '' ? undefined : partition, objects: objects.length });
    }
    if (state) state.listed = true;
    const keep = new Set(objects.map((o) => o.key));
    for (const [key, v] of this.objects) {
      if (v.partition === partition && !keep.has(key)) this.delete(key);
    }
    // One listing is one moment: objects first seen together tie, and their keys decide.
    const now = this.clock();
    for (const o of objects) this.put(o, now, partition);
    this.schedule();
  }

  upsert(object: EndpointObject): void {
    this.put(object, this.clock(), '');
    this.schedule();
  }

  remove(key: string): void {
    if (this.delete(key)) this.schedule();
  }

  private delete(key: string): boolean {
    const v = this.objects.get(key);
    if (!v) return false;
    this.objects.delete(key);
    this.unindex(v);
    for (const r of v.rrsets) this.changedNames.add(r.name);
    this.firstSeen.delete(key);
    this.dirty = true;
    if (this.pending.added.delete(key)) return true;
    this.pending.changed.delete(key);
    this.pending.removed.add(key);
    return true;
  }

  synced(): void {
    this.markSynced('');
  }

  private markSynced(partition: string): void {
    const state = this.partitions.get(partition);
    if (!state || state.synced) return;
    state.synced = true;
    this.dirty = true;
    // Readiness waits for the partitions that gate it (this cluster), never for peers.
    if (!this.isSynced && this.gating().every((p) => p.synced)) this.isSynced = true;
    this.schedule();
  }

  /**
   * The objects of every partition whose data is worth keeping: listed by
   * its source, or restored and not replaced yet (a peer still unreachable).
   */
  savedPartitions(): SavedPartition[] {
    const out = new Map<string, SavedPartition>();
    for (const [name, p] of this.partitions) if (p.listed || p.restored) out.set(name, { name, objects: [] });
    for (const v of this.objects.values()) {
      const saved = out.get(v.partition);
      if (!saved) continue;
      const prefix = this.partitions.get(v.partition)?.options.keyPrefix ?? '';
      saved.objects.push({ ...v.object, key: v.object.key.slice(prefix.length) });
    }
    for (const saved of out.values()) saved.objects.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    return [...out.values()];
  }

  /**
   * Serves saved objects (from --snapshot-file) in every partition whose
   * source has not listed yet, until its first live listing replaces them.
   * They are validated and built like live objects, but never appear among
   * the touched objects of a rebuild, so no feedback is written from them.
   * A partition the file names that is not configured now is skipped.
   */
  restore(saved: readonly SavedPartition[]): RestoreResult {
    const result: RestoreResult = { restored: [], skipped: [], ready: false };
    const now = this.clock();
    for (const part of saved) {
      const state = this.partitions.get(part.name);
      if (!state) {
        result.skipped.push({ name: part.name, reason: 'no such source configured now' });
        continue;
      }
      if (state.listed || state.restored) {
        result.skipped.push({ name: part.name, reason: state.listed ? 'already listed live' : 'already restored' });
        continue;
      }
      for (const o of part.objects) this.put(stampObject(o, state.options), now, part.name, true);
      state.restored = true;
      this.dirty = true;
      result.restored.push(part.name);
    }
    if (!this.isSynced && result.restored.length > 0) {
      // Only as ready as live data would make it: every partition readiness waits for must have data.
      const gating = [...this.partitions].filter(([name, p]) => name !== '' && p.options.gatesReadiness);
      const waitedFor = gating.length > 0 ? gating.map(([, p]) => p) : [this.partitions.get('') as PartitionState];
      if (waitedFor.every((p) => p.listed || p.restored)) this.isSynced = true;
    }
    result.ready = this.isSynced;
    this.schedule();
    return result;
  }

  /** Partitions still serving restored data, and whether readiness waits for each (this cluster's) or not (a peer's). */
  restoredPartitions(): Array<{ name: string; gatesReadiness: boolean }> {
    return [...this.partitions].filter(([, p]) => p.restored).map(([name, p]) => ({ name, gatesReadiness: p.options.gatesReadiness }));
  }

  /** Builds now instead of on the next turn of the event loop; for tests and `crdns check`. */
  flush(): RebuildEvent | undefined {
    return this.rebuild();
  }

  /** The partitions readiness waits for: those that say so; the store's own '' only while no other does. */
  private gating(): Array<{ synced: boolean }> {
    const named = [...this.partitions].filter(([name, p]) => name !== '' && p.options.gatesReadiness).map(([, p]) => p);
    return named.length > 0 ? named : [this.partitions.get('') as { synced: boolean }];
  }

  private put(object: EndpointObject, now: number, partition: string, restored = false): void {
    const prev = this.objects.get(object.key);
    // An identical re-delivery (a resync, a relist) changes nothing.
    if (prev && prev.restored === restored && sameVersion(prev.object, object)) {
      prev.object = object;
      return;
    }
    const fresh = validateObject(object, this.ctx, this.ownerSince(object, now), prev ? { endpoints: prev.object.endpoints, results: prev.results, rank: prev.rank } : undefined);
    // Only the same object (same uid) has a previous version to fall back on.
    const sameUid = prev !== undefined && prev.object.origin.uid === object.origin.uid;
    const { rrsets, problems } = keepLastGood(object, fresh, sameUid ? prev : undefined);
    const v: Validated = { object, results: fresh.results, rank: fresh.rank, rrsets, problems, partition, restored };
    this.objects.set(object.key, v);
    if (prev) this.reindex(prev, v);
    else this.index(v);
    // A new version usually changes a few of its entries: only the names whose inputs differ need rebuilding.
    const names = prev && prev.partition === partition ? changedInputNames(prev.rrsets, rrsets) : rrsets.map((r) => r.name);
    for (const name of names) this.changedNames.add(name);
    this.dirty = true;
    if (prev) {
      if (!this.pending.added.has(object.key)) this.pending.changed.add(object.key);
    } else if (this.pending.removed.delete(object.key)) {
      this.pending.changed.add(object.key);
    } else {
      this.pending.added.add(object.key);
    }
  }

  private index(v: Validated): void {
    this.inputs.add(v.rrsets);
    this.count(v, 1);
  }

  /** unindex(prev) then index(v), touching only the inputs that differ (most of a large object's stay the same). */
  private reindex(prev: Validated, v: Validated): void {
    this.inputs.replace(prev.rrsets, v.rrsets);
    this.count(prev, -1);
    this.count(v, 1);
  }

  private count(v: Validated, sign: 1 | -1): void {
    const c = this.counts.get(v.partition) ?? { objects: 0, records: 0 };
    c.objects += sign;
    for (const r of v.rrsets) c.records += sign * r.data.length;
    this.counts.set(v.partition, c);
  }

  private unindex(v: Validated): void {
    this.inputs.remove(v.rrsets);
    this.count(v, -1);
  }

  /** Since when this object has existed, for "first owner wins": its creation time, else when the store first saw its key. */
  private ownerSince(object: EndpointObject, now: number): number {
    const created = object.origin.createdAt;
    if (created !== undefined && Number.isFinite(created)) return created;
    let seen = this.firstSeen.get(object.key);
    if (seen === undefined) this.firstSeen.set(object.key, (seen = now));
    return seen;
  }

  private schedule(): void {
    if (this.scheduled || !this.dirty || !this.isSynced) return;
    this.scheduled = true;
    const run = () => {
      this.scheduled = false;
      this.timer = undefined;
      this.rebuild();
    };
    // Rebuilds run on the thread that answers queries. After a build that took B ms, the next waits
    // until B ms have passed, so rebuilding never takes more than half the CPU under a stream of
    // changes. Small data sets build in a millisecond and see no delay: changes in one tick become
    // one rebuild on the next (setImmediate), at no added latency.
    const wait = this.lastBuildEnd + this.lastBuildMs - this.clock();
    if (wait > 0) this.timer = setTimeout(run, wait);
    else setImmediate(run);
  }

  /** Cancels a pending rebuild; for shutdown. */
  close(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private rebuild(): RebuildEvent | undefined {
    if (!this.isSynced || !this.dirty) return undefined;
    this.dirty = false;
    const started = this.clock();
    // The serial follows the clock where it can, so it also increases across restarts, and by one at least per change.
    this.serial = Math.max(this.serial + 1, Math.floor(started / 1000)) >>> 0;
    this.generation++;
    const names = this.changedNames;
    this.changedNames = new Set();
    const whole = this.needsFull || !this.incremental || (names.size > FULL_REBUILD_MIN_NAMES && names.size > FULL_REBUILD_SHARE * this.inputs.size);
    const lost = this.lostPartitions();
    let built: BuildResult | undefined;
    let step: BuildStep | undefined;
    if (!whole) {
      const changed = new Map<string, RRsetInput[]>();
      for (const name of names) changed.set(name, this.inputsAt(name, lost));
      built = this.builder.update(changed, this.serial, this.generation);
      if (built) step = { kind: 'update', inputs: changed, serial: this.serial, generation: this.generation };
    }
    if (!built || !step) {
      step = { kind: 'full', inputs: this.allInputs(lost), serial: this.serial, generation: this.generation };
      built = this.builder.full(step.inputs, this.serial, this.generation);
    }
    this.needsFull = false;
    const snapshot = built.snapshot;
    const { appeared, cleared } = this.updateProblems(built, names);
    this.snapshot = snapshot;
    const buildMs = this.clock() - started;
    this.lastBuildEnd = started + buildMs;
    this.lastBuildMs = buildMs;
    const changes = this.takeChanges(appeared, cleared);
    this.logProblems(changes.problemsAppeared);
    this.logger.debug('snapshot built', { generation: snapshot.generation, serial: snapshot.serial, objects: this.objects.size, rrsets: snapshot.stats.rrsets, buildMs, incremental: built.incremental });
    const problems = new Map(this.problems);
    const touched = new Map<string, TouchedObject>();
    const touch = (key: string): void => {
      const v = this.objects.get(key);
      // Saved data is served, never reported: the object may have changed since, and only a live listing says how.
      if (v && !v.restored && !touched.has(key)) touched.set(key, { object: v.object, problems: problems.get(key) ?? [] });
    };
    for (const key of changes.added) touch(key);
    for (const key of changes.changed) touch(key);
    for (const p of changes.problemsAppeared) touch(p.object);
    for (const p of changes.problemsCleared) touch(p.object);
    const event: RebuildEvent = { snapshot, problems, objectCount: this.objects.size, changes, touched, partitions: this.partitionStats(), buildMs, incremental: built.incremental, build: step };
    for (const l of this.listeners) {
      // An observer's bug must not take the data plane down: the snapshot is already swapped in.
      try {
        l(event);
      } catch (err) {
        this.logger.error('rebuild listener failed', { error: err });
      }
    }
    return event;
  }

  /**
   * A full build step for the current inputs: what a new replica starts from.
   * It gives the state the last build left (an update leaves what a full
   * build of the same inputs would), with that build's serial and generation.
   */
  currentBuild(): BuildStep | undefined {
    if (!this.snapshot) return undefined;
    return { kind: 'full', inputs: this.allInputs(this.lostPartitions()), serial: this.snapshot.serial, generation: this.snapshot.generation };
  }

  private allInputs(lost: { lost: ReadonlySet<string>; keepOrphans: ReadonlySet<string> }): Map<string, RRsetInput[]> {
    const all = new Map<string, RRsetInput[]>();
    for (const name of this.inputs.names()) all.set(name, this.inputsAt(name, lost));
    return all;
  }

  /** Lost partitions, and those of them whose orphans stay. */
  private lostPartitions(): { lost: Set<string>; keepOrphans: Set<string> } {
    const lost = new Set<string>();
    const keepOrphans = new Set<string>();
    for (const [name, p] of this.partitions) {
      if (!p.lost) continue;
      lost.add(name);
      if (p.options.orphans !== 'withdraw') keepOrphans.add(name);
    }
    return { lost, keepOrphans };
  }

  /**
   * The RRset inputs at one name, less what lost partitions must not serve: a
   * lost partition's RRset gives way wherever a live one serves the same name
   * and type (or a CNAME, which owns its name), so clients stop being sent to
   * a dead cluster; what only it serves stays unless its orphans are withdrawn.
   */
  private inputsAt(name: string, { lost, keepOrphans }: { lost: ReadonlySet<string>; keepOrphans: ReadonlySet<string> }): RRsetInput[] {
    const at = this.inputs.at(name);
    if (lost.size === 0) return [...at];
    const inputs: RRsetInput[] = [];
    const liveTypes = new Set<string>();
    for (const r of at) {
      if (lost.has(this.partitionOf(r))) continue;
      inputs.push(r);
      liveTypes.add(r.type);
    }
    for (const r of at) {
      if (!keepOrphans.has(this.partitionOf(r))) continue;
      const shadowed = liveTypes.has(r.type) || liveTypes.has('CNAME') || (r.type === 'CNAME' && liveTypes.size > 0);
      if (!shadowed) inputs.push(r);
    }
    return inputs;
  }

  /** The partition an indexed input came from: its object's (an object's inputs all come with it). */
  private partitionOf(input: RRsetInput): string {
    return (this.objects.get(input.origin.object) as Validated).partition;
  }

  /**
   * Takes in the build's rejections and recomputes the problems of every object
   * they may concern: all after a whole build; else the objects that changed
   * and those with inputs at a changed name (a conflict comes from another object).
   */
  private updateProblems(built: BuildResult, names: ReadonlySet<string>): { appeared: EndpointProblem[]; cleared: EndpointProblem[] } {
    const appeared: EndpointProblem[] = [];
    const cleared: EndpointProblem[] = [];
    const recheck = new Set<string>();
    const previous = this.problems;
    if (built.incremental) {
      for (const name of names) {
        const r = built.rejections.get(name);
        if (r) this.rejections.set(name, r);
        else this.rejections.delete(name);
        for (const input of this.inputs.at(name)) recheck.add(input.origin.object);
      }
      for (const key of this.pending.added) recheck.add(key);
      for (const key of this.pending.changed) recheck.add(key);
      for (const key of this.pending.removed) recheck.add(key);
    } else {
      this.rejections = new Map(built.rejections);
      // Objects' order first, as a reader of the problems expects them; then those that are gone.
      for (const key of this.objects.keys()) recheck.add(key);
      for (const key of this.problems.keys()) recheck.add(key);
      this.problems = new Map();
    }
    for (const key of recheck) {
      const before = previous.get(key) ?? [];
      const v = this.objects.get(key);
      const now = v ? this.problemsOf(v) : [];
      if (now.length > 0) this.problems.set(key, now);
      else this.problems.delete(key);
      const was = new Set(before.map(problemId));
      const is = new Set(now.map(problemId));
      for (const p of now) if (!was.has(problemId(p))) appeared.push(p);
      for (const p of before) if (!is.has(problemId(p))) cleared.push(p);
    }
    return { appeared, cleared };
  }

  /** An object's validation problems and the builder's rejections of its inputs, by entry. */
  private problemsOf(v: Validated): EndpointProblem[] {
    const key = v.object.key;
    const list: EndpointProblem[] = [...v.problems];
    const seen = new Set<string>();
    for (const input of v.rrsets) {
      if (seen.has(input.name)) continue;
      seen.add(input.name);
      for (const r of this.rejections.get(input.name) ?? []) {
        if (r.input.origin.object === key) list.push({ object: key, index: r.input.index, field: r.field, reason: r.reason });
      }
    }
    return list.sort((a, b) => a.index - b.index);
  }

  private partitionStats(): Map<string, PartitionStats> {
    const stats = new Map<string, PartitionStats>();
    for (const [name, p] of this.partitions) {
      const c = this.counts.get(name);
      stats.set(name, { objects: c?.objects ?? 0, records: c?.records ?? 0, synced: p.synced, lost: p.lost, restored: p.restored, gatesReadiness: p.options.gatesReadiness });
    }
    return stats;
  }

  private takeChanges(problemsAppeared: EndpointProblem[], problemsCleared: EndpointProblem[]): StoreChanges {
    const { added, changed, removed } = this.pending;
    this.pending = { added: new Set(), changed: new Set(), removed: new Set() };
    return { added: [...added], changed: [...changed], removed: [...removed], problemsAppeared, problemsCleared };
  }

  /** One log line per invalid endpoint when it first appears, not on every rebuild. */
  private logProblems(appeared: readonly EndpointProblem[]): void {
    for (const p of appeared) {
      const origin = this.objects.get(p.object)?.object.origin;
      this.logger.warn('endpoint rejected', {
        object: p.object,
        source: origin?.source,
        ...(origin?.file ? { file: origin.file } : {}),
        endpoint: p.index,
        field: p.field,
        reason: p.reason,
        ...(p.servingPrevious ? { servingPrevious: true } : {}),
      });
    }
  }
}

/** An object as its partition hands it to the store: key prefixed, origin naming the partition's cluster. */
function stampObject(o: EndpointObject, options: PartitionOptions): EndpointObject {
  const prefix = options.keyPrefix ?? '';
  if (prefix === '' && options.cluster === undefined && options.locality === undefined) return o;
  const origin = { ...o.origin };
  if (options.cluster !== undefined) origin.cluster = options.cluster;
  if (options.locality !== undefined) origin.locality = options.locality;
  return { ...o, key: prefix + o.key, origin };
}
