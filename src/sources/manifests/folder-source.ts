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
import { readFile, readdir, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { EndpointObject, EndpointSink, EndpointSource } from '../../endpoint/endpoint.js';
import {
  formatManifestProblem,
  isManifestFileName,
  parseManifestText,
  type ManifestProblem,
} from './documents.js';

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
  /** A file could not be read or parsed; its last good objects keep serving. Called once per distinct error. */
  onFileError?(file: string, problem: ManifestProblem): void;
  /** Any other new problem: a malformed document, a duplicate key, an unreadable folder. */
  onProblem?(problem: ManifestProblem): void;
  /** A previously failing file parses again. */
  onFileRecovered?(file: string): void;
  /** Changes that were handed to the sink after a rescan (not called for the initial load or for no-ops). */
  onApplied?(change: ManifestChange): void;
  /** Something unexpected: the sink threw, the watcher failed. The source keeps going. */
  onError?(err: unknown): void;
}

export interface ManifestChange {
  upserted: string[];
  removed: string[];
}

interface FileState {
  path: string;
  /** Last text read, good or bad, so unchanged files are not parsed again. */
  text?: string;
  /** What this file currently contributes, in document order, keys unique within the file. */
  served: EndpointObject[];
  /** Set while the file cannot be read or parsed. */
  error?: ManifestProblem;
  /** Problems of documents inside an otherwise good file. */
  documentProblems: ManifestProblem[];
}

type ReadOutcome = { text: string } | { error: NodeJS.ErrnoException };

/**
 * The folder's contents and the rules above, without any I/O, so the rules
 * can be reasoned about (and tested) apart from the file system.
 */
export class ManifestSet {
  private readonly files = new Map<string, FileState>();
  private recovered: string[] = [];

  /** Files that parse again since the last call, for the hooks. */
  takeRecovered(): string[] {
    const r = this.recovered;
    this.recovered = [];
    return r;
  }

  names(): string[] {
    return [...this.files.keys()].sort(compareNames);
  }

  /** Applies one read of `name`. Returns true when what the file serves may have changed. */
  update(name: string, path: string, read: ReadOutcome): boolean {
    let st = this.files.get(name);
    if (!st) {
      st = { path, served: [], documentProblems: [] };
      this.files.set(name, st);
    }
    if ('error' in read) {
      const code = read.error.code ?? 'EIO';
      st.error = { kind: 'read', file: path, message: `cannot read file: ${code}: ${read.error.message}` };
      st.text = undefined;
      return false;
    }
    if (st.text === read.text) return false;
    st.text = read.text;
    const wasFailing = st.error !== undefined;
    const parsed = parseManifestText(read.text, path);
    if (!parsed.ok) {
      st.error = parsed.error;
      return false;
    }
    st.error = undefined;
    if (wasFailing) this.recovered.push(path);

    const previous = new Map(st.served.map((o) => [o.key, o]));
    const served: EndpointObject[] = [];
    const seen = new Map<string, string>();
    const problems = [...parsed.problems];
    for (const o of parsed.objects) {
      const first = seen.get(o.key);
      if (first !== undefined) {
        problems.push({
          kind: 'duplicate', file: path, object: o.key,
          message: `${o.origin.file ?? path} defines ${o.key} again; ${first} is served`,
        });
        continue;
      }
      seen.set(o.key, o.origin.file ?? path);
      served.push(o);
    }
    // A DNSEndpoint that became malformed keeps its last good version, as an
    // API server would have refused the update.
    for (const key of parsed.rejectedKeys) {
      const last = previous.get(key);
      if (last && !seen.has(key)) {
        seen.set(key, last.origin.file ?? path);
        served.push(last);
      }
    }
    st.served = served;
    st.documentProblems = problems;
    return true;
  }

  delete(name: string): boolean {
    return this.files.delete(name);
  }

  /** The objects to serve, by key, first file in name order winning; and every current problem. */
  resolve(): { objects: Map<string, EndpointObject>; problems: ManifestProblem[] } {
    const objects = new Map<string, EndpointObject>();
    const problems: ManifestProblem[] = [];
    for (const name of this.names()) {
      const st = this.files.get(name) as FileState;
      if (st.error) problems.push(st.error);
      problems.push(...st.documentProblems);
      for (const o of st.served) {
        const winner = objects.get(o.key);
        if (winner) {
          problems.push({
            kind: 'duplicate', file: st.path, object: o.key,
            message: `${o.origin.file ?? st.path} defines ${o.key} again; ${winner.origin.file ?? '?'} is served`,
          });
          continue;
        }
        objects.set(o.key, o);
      }
    }
    return { objects, problems };
  }
}

/** Code-unit order: the same on every machine and locale. */
function compareNames(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Reads the folder once into `set`. Throws only when the folder itself cannot be listed. */
async function readFolder(dir: string, set: ManifestSet): Promise<void> {
  const entries = await readdir(dir);
  const names = entries.filter(isManifestFileName).sort(compareNames);
  // Reads overlap (a rescan reads every file), updates apply in name order.
  const reads = await mapLimited(names, READ_CONCURRENCY, (name) => readOne(join(dir, name)));
  const present = new Set<string>();
  names.forEach((name, i) => {
    const read = reads[i];
    if (read === undefined) return;
    present.add(name);
    set.update(name, join(dir, name), read);
  });
  for (const name of set.names()) if (!present.has(name)) set.delete(name);
}

const READ_CONCURRENCY = 16;

/** The file's text or why it cannot be read; undefined when it is not (or no longer) a file. */
async function readOne(path: string): Promise<ReadOutcome | undefined> {
  try {
    return { text: await readFile(path, 'utf8') };
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    // Gone between listing and reading, a dangling link (a ConfigMap key
    // mid-swap), or a directory that happens to be called x.yaml: not a file.
    if (e.code === 'ENOENT' || e.code === 'ENOTDIR' || e.code === 'EISDIR') return undefined;
    return { error: e };
  }
}

async function mapLimited<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

/**
 * One-shot read of files and folders (each folder non-recursive) into one set, for `crdns check`
 * and tests: what would be served, and what is wrong, under the same rules as a served folder
 * (a key defined twice: the first file by path wins, the other is reported).
 */
export async function loadManifests(paths: readonly string[]): Promise<{ objects: EndpointObject[]; problems: ManifestProblem[]; files: string[] }> {
  const set = new ManifestSet();
  for (const p of paths) {
    const files = (await stat(p)).isDirectory() ? (await readdir(p)).filter(isManifestFileName).sort(compareNames).map((n) => join(p, n)) : [p];
    for (const file of files) {
      const read = await readOne(file);
      if (read !== undefined) set.update(file, file, read);
    }
  }
  const { objects, problems } = set.resolve();
  return { objects: [...objects.values()].sort((a, b) => compareNames(a.key, b.key)), problems, files: set.names() };
}

/** One-shot read of one folder; `files` are the file names inside it. */
export async function loadManifestFolder(dir: string): ReturnType<typeof loadManifests> {
  const r = await loadManifests([dir]);
  return { ...r, files: r.files.map((f) => basename(f)) };
}

function sameObject(a: EndpointObject, b: EndpointObject): boolean {
  return a === b || JSON.stringify(a) === JSON.stringify(b);
}

export class ManifestFolderSource implements EndpointSource {
  readonly name = 'manifests';
  private readonly dir: string;
  private readonly opts: ManifestFolderOptions;
  private readonly set = new ManifestSet();
  private sink: EndpointSink | undefined;
  private stopped = true;
  /** What the sink currently holds, by key. */
  private emitted = new Map<string, EndpointObject>();
  private current: ManifestProblem[] = [];
  private reported = new Set<string>();
  private folderProblem: ManifestProblem | undefined;

  private watcher: FSWatcher | undefined;
  private watchedIno: number | undefined;
  private debounceTimer: NodeJS.Timeout | undefined;
  private burstStart = 0;
  private interval: NodeJS.Timeout | undefined;
  /** Rescans run one at a time, in order. */
  private chain: Promise<void> = Promise.resolve();
  private queued: Promise<void> | undefined;
  private running = false;
  private scans = 0;

  constructor(opts: ManifestFolderOptions) {
    this.opts = opts;
    this.dir = opts.dir;
  }

  /** Current file-level and document-level problems, in file name order. */
  problems(): ManifestProblem[] {
    return this.folderProblem ? [this.folderProblem, ...this.current] : [...this.current];
  }

  /** Completed scans, the initial one included; lets tests and probes wait for "a rescan happened". */
  scanCount(): number {
    return this.scans;
  }

  /** No fs event is waiting out its debounce and no rescan is queued or running. */
  isIdle(): boolean {
    return this.debounceTimer === undefined && this.queued === undefined && !this.running;
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
    const { objects, problems } = this.set.resolve();
    this.scans++;
    this.emitted = objects;
    this.publishProblems(problems);
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
    await this.chain;
    this.sink = undefined;
  }

  private queueRescan(): Promise<void> {
    if (this.stopped) return this.chain;
    if (this.queued) return this.queued;
    const run = this.chain.then(async () => {
      this.queued = undefined;
      this.running = true;
      try {
        if (!this.stopped) await this.rescanNow();
      } finally {
        this.running = false;
      }
    });
    this.queued = run;
    this.chain = run.catch((err: unknown) => this.fail(err));
    return this.chain;
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
      if (this.folderProblem?.message !== p.message) this.opts.onProblem?.(p);
      this.folderProblem = p;
      this.scans++;
      return;
    }
    if (this.stopped) return;
    const { objects, problems } = this.set.resolve();
    this.publishProblems(problems);
    for (const f of this.set.takeRecovered()) this.opts.onFileRecovered?.(f);
    this.apply(objects);
    this.scans++;
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
    if (change.upserted.length > 0 || change.removed.length > 0) this.opts.onApplied?.(change);
  }

  private publishProblems(problems: ManifestProblem[]): void {
    this.current = problems;
    const now = new Set<string>();
    for (const p of problems) {
      const id = `${p.kind}\u0000${formatManifestProblem(p)}`;
      now.add(id);
      if (this.reported.has(id)) continue;
      if (p.kind === 'parse' || p.kind === 'read') this.opts.onFileError?.(p.file, p);
      else this.opts.onProblem?.(p);
    }
    this.reported = now;
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
    if (this.opts.onError) this.opts.onError(err);
  }
}
