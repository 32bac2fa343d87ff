/**
 * The manifest folder: crdns's source when there is no Kubernetes API to
 * watch (a lab, a test, a ConfigMap mounted into the pod). It reads the
 * `*.yaml`, `*.yml` and `*.json` files directly in one folder (not its
 * subfolders; dotfiles are skipped, which also hides a ConfigMap volume's
 * `..data` machinery while its `name.yaml -> ..data/name.yaml` links are read)
 * and keeps serving what they say as they change.
 *
 * The rules mirror what the API server would do with the same edits, so that
 * switching a deployment from a folder to Kubernetes changes nothing:
 *  - a file that stops parsing keeps serving its last good objects (an invalid
 *    `kubectl apply` is rejected and the old object stays);
 *  - a malformed DNSEndpoint in a good file keeps its last good version;
 *  - a deleted file takes its objects with it;
 *  - a key ("namespace/name") defined twice is served from the first file in
 *    name order (and the first document within a file), the other is reported.
 *
 * Change detection: fs.watch on the folder, debounced, plus a slow periodic
 * rescan because fs.watch is not a guarantee (missed inotify events, editors
 * that write a temp file and rename it over, kubelet swapping the `..data`
 * symlink, network filesystems that send nothing). Every rescan reads every
 * file and compares text, so no event is ever needed for correctness; events
 * only make changes fast.
 */
import { watch, type FSWatcher } from 'node:fs';
import { stat } from 'node:fs/promises';
import { sameObject, type EndpointObject, type EndpointSink, type EndpointSource } from '../../endpoint/endpoint.js';
import { silentLogger, type Logger } from '../../logger.js';
import { formatManifestProblem, type ManifestNote, type ManifestProblem } from './documents.js';
import { compareNames, ManifestSet } from './manifest-set.js';
import { readFolder } from './read-files.js';
import { manifestKindOfKey } from './workload-documents.js';

export interface ManifestFolderOptions {
  dir: string;
  /** Quiet time after the last fs event before rescanning. Default 75 ms. */
  debounceMs?: number;
  /** Longest a stream of events may postpone a rescan. Default 1000 ms. */
  maxDebounceMs?: number;
  /** Safety-net full rescan period; 0 turns it off. Default 30 s. */
  rescanIntervalMs?: number;
  /** Watch the folder for events. Default true; off leaves only the periodic rescan. */
  watch?: boolean;
  /** A file that shrinks or empties is applied once unchanged for this long (non-atomic writers truncate first). Default 1000 ms. */
  settleMs?: number;
  /**
   * Each distinct problem is logged once when it appears: a file that cannot
   * be read or parsed (warn, "manifest file unusable"), any other (warn,
   * "manifest problem"); a file that parses again (info); the sink or the
   * watcher failing (error). Fields: file, kind, line, column, document, object, reason.
   * Notes (a Service name the manifest gives no address) are logged once at info.
   */
  logger?: Logger;
  /** Where Services' and Ingresses' ExternalDNS annotations are read; default both ExternalDNS prefixes. */
  annotationPrefixes?: readonly string[];
}

export interface ManifestChange {
  upserted: string[];
  removed: string[];
}

export class ManifestFolderSource implements EndpointSource {
  readonly name = 'manifests';
  private readonly dir: string;
  private readonly opts: ManifestFolderOptions;
  private readonly set: ManifestSet;
  private settleTimer: NodeJS.Timeout | undefined;
  private sink: EndpointSink | undefined;
  private stopped = true;
  /** What the sink currently holds, by key. */
  private emitted = new Map<string, EndpointObject>();
  private current: ManifestProblem[] = [];
  private reported = new Set<string>();
  private reportedNotes = new Set<string>();
  /** Said once per process: that these records do not follow any readiness. */
  private saidNoReadiness = false;
  private folderProblem: ManifestProblem | undefined;

  private watcher: FSWatcher | undefined;
  private watchedIno: number | undefined;
  private debounceTimer: NodeJS.Timeout | undefined;
  private burstStart = 0;
  private interval: NodeJS.Timeout | undefined;
  /** Rescans run one at a time, in order. */
  private chain: Promise<void> = Promise.resolve();
  private queued: Promise<void> | undefined;

  private readonly logger: Logger;

  constructor(opts: ManifestFolderOptions) {
    this.opts = opts;
    this.dir = opts.dir;
    this.logger = opts.logger ?? silentLogger;
    this.set = new ManifestSet({ settleMs: opts.settleMs ?? 1000, ...(opts.annotationPrefixes ? { annotationPrefixes: opts.annotationPrefixes } : {}) });
  }

  /** Current file-level and document-level problems, in file name order. */
  problems(): ManifestProblem[] {
    return this.folderProblem ? [this.folderProblem, ...this.current] : [...this.current];
  }

  /** Rescans now (after any scan in progress) and resolves when the result has reached the sink. */
  rescan(): Promise<void> {
    return this.queueRescan();
  }

  async start(sink: EndpointSink): Promise<void> {
    if (this.sink) throw new Error('manifest folder source already started');
    this.sink = sink;
    this.stopped = false;
    // Watch before the first read so a write in between is not missed.
    if (this.opts.watch !== false) await this.ensureWatcher();
    // In the chain, so a watch event during the first read queues behind it.
    const initial = this.chain.then(() => this.initialLoad(sink));
    this.chain = initial.catch(() => undefined);
    try {
      await initial;
    } catch (err) {
      await this.stop();
      const e = err as NodeJS.ErrnoException;
      throw new Error(`cannot read manifest folder ${this.dir}: ${e.message}`);
    }
    const every = this.opts.rescanIntervalMs ?? 30_000;
    if (every > 0) {
      this.interval = setInterval(() => void this.queueRescan(), every);
      this.interval.unref();
    }
  }

  private async initialLoad(sink: EndpointSink): Promise<void> {
    await readFolder(this.dir, this.set);
    const { objects, problems, notes } = this.set.resolve();
    this.emitted = objects;
    this.publishProblems(problems);
    this.publishNotes(objects, notes);
    this.set.takeRecovered();
    sink.replaceAll([...objects.values()].sort((a, b) => compareNames(a.key, b.key)));
    sink.synced();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.watcher?.close();
    this.watcher = undefined;
    if (this.debounceTimer) clearTimeout(this.debounceTimer);
    this.debounceTimer = undefined;
    if (this.interval) clearInterval(this.interval);
    this.interval = undefined;
    if (this.settleTimer) clearTimeout(this.settleTimer);
    this.settleTimer = undefined;
    await this.chain;
    this.sink = undefined;
  }

  private queueRescan(): Promise<void> {
    if (this.stopped) return this.chain;
    if (this.queued) return this.queued;
    const run = this.chain.then(async () => {
      this.queued = undefined;
      if (!this.stopped) await this.rescanNow();
    });
    this.queued = run;
    this.chain = run.catch((err: unknown) => this.fail(err));
    return this.chain;
  }

  /** A shrink is waiting out its settle time: read again once it has passed. */
  private recheckHeld(): void {
    if (this.stopped || this.settleTimer || !this.set.holding()) return;
    this.settleTimer = setTimeout(() => {
      this.settleTimer = undefined;
      void this.queueRescan();
    }, (this.opts.settleMs ?? 1000) + 10);
    this.settleTimer.unref();
  }

  private async rescanNow(): Promise<void> {
    if (this.opts.watch !== false) await this.ensureWatcher();
    try {
      await readFolder(this.dir, this.set);
      if (this.folderProblem) this.folderProblem = undefined;
    } catch (err) {
      // The folder vanished or became unreadable (an unmounted volume, a
      // replaced directory): keep serving everything as it was rather than
      // wiping the zone, and say so.
      const e = err as NodeJS.ErrnoException;
      const p: ManifestProblem = { kind: 'folder', file: this.dir, message: `cannot list folder: ${e.code ?? ''} ${e.message}` };
      if (this.folderProblem?.message !== p.message) this.logProblem(p);
      this.folderProblem = p;
      return;
    }
    if (this.stopped) return;
    const { objects, problems, notes } = this.set.resolve();
    this.publishProblems(problems);
    this.publishNotes(objects, notes);
    for (const file of this.set.takeRecovered()) this.logger.info('manifest file readable again', { file });
    this.apply(objects);
    this.recheckHeld();
  }

  /** Hands the difference between what the sink holds and `next` to the sink. */
  private apply(next: Map<string, EndpointObject>): void {
    const sink = this.sink;
    if (!sink || this.stopped) return;
    const change: ManifestChange = { upserted: [], removed: [] };
    for (const key of [...this.emitted.keys()].sort(compareNames)) {
      if (next.has(key)) continue;
      try {
        sink.remove(key);
        this.emitted.delete(key);
        change.removed.push(key);
      } catch (err) {
        this.fail(err);
      }
    }
    for (const key of [...next.keys()].sort(compareNames)) {
      const o = next.get(key) as EndpointObject;
      const had = this.emitted.get(key);
      if (had && sameObject(had, o)) {
        this.emitted.set(key, o);
        continue;
      }
      try {
        sink.upsert(o);
        this.emitted.set(key, o);
        change.upserted.push(key);
      } catch (err) {
        // Left out of `emitted`, so the next rescan tries again.
        this.fail(err);
      }
    }
    if (change.upserted.length > 0 || change.removed.length > 0) this.logger.debug('manifest changes applied', { upserted: change.upserted.length, removed: change.removed.length });
  }

  private publishProblems(problems: ManifestProblem[]): void {
    this.current = problems;
    const now = new Set<string>();
    for (const p of problems) {
      const id = `${p.kind}\u0000${formatManifestProblem(p)}`;
      now.add(id);
      if (!this.reported.has(id)) this.logProblem(p);
    }
    this.reported = now;
  }

  private publishNotes(objects: ReadonlyMap<string, EndpointObject>, notes: readonly ManifestNote[]): void {
    if (!this.saidNoReadiness) {
      const workloads = [...objects.keys()].filter((k) => manifestKindOfKey(k) !== 'dnsendpoint').length;
      if (workloads > 0) {
        this.saidNoReadiness = true;
        this.logger.info('Services and Ingresses from manifest files are published without readiness: a folder has no EndpointSlices', { objects: workloads });
      }
    }
    const now = new Set<string>();
    for (const n of notes) {
      const id = `${n.origin}\u0000${n.message}`;
      now.add(id);
      if (!this.reportedNotes.has(id)) this.logger.info('manifest note', { object: n.object, document: n.origin, note: n.message });
    }
    this.reportedNotes = now;
  }

  private logProblem(p: ManifestProblem): void {
    const fields = { file: p.file, kind: p.kind, line: p.line, column: p.column, document: p.document, object: p.object, reason: p.message };
    if (p.kind === 'parse' || p.kind === 'read') this.logger.warn('manifest file unusable; its last good content keeps serving', fields);
    else this.logger.warn('manifest problem', fields);
  }

  private onWatchEvent(): void {
    if (this.stopped) return;
    const now = Date.now();
    if (this.debounceTimer === undefined) {
      this.burstStart = now;
    } else {
      // Under a constant stream of events, fire anyway once maxDebounceMs has passed.
      if (now - this.burstStart >= (this.opts.maxDebounceMs ?? 1000)) return;
      clearTimeout(this.debounceTimer);
    }
    this.debounceTimer = setTimeout(() => {
      this.debounceTimer = undefined;
      void this.queueRescan();
    }, this.opts.debounceMs ?? 75);
    this.debounceTimer.unref();
  }

  /**
   * (Re)creates the directory watcher when there is none or the folder was
   * replaced by another directory of the same name, whose events the old
   * watch would never see.
   */
  private async ensureWatcher(): Promise<void> {
    let ino: number;
    try {
      ino = (await stat(this.dir)).ino;
    } catch {
      return; // reported by the scan that follows
    }
    if (this.stopped) return;
    if (this.watcher && this.watchedIno === ino) return;
    this.watcher?.close();
    this.watcher = undefined;
    try {
      const w = watch(this.dir, { persistent: false }, () => this.onWatchEvent());
      w.on('error', (err) => {
        if (this.watcher === w) {
          w.close();
          this.watcher = undefined;
        }
        this.fail(err);
        this.onWatchEvent();
      });
      this.watcher = w;
      this.watchedIno = ino;
    } catch (err) {
      // Out of inotify watches, for one: the periodic rescan still works.
      this.fail(err);
    }
  }

  private fail(err: unknown): void {
    this.logger.error('manifest source error', { error: err });
  }
}
