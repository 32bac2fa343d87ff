/**
 * --snapshot-file for `crdns serve`: at start, read the last good state; if a
 * source has not listed within --snapshot-wait, serve its saved objects until
 * its first live listing replaces them; all along, keep the file up to date
 * from live data (snapshot-file-writer.ts).
 *
 * The file is used whole or not at all (snapshot-file.ts checks it); a file
 * that cannot be used is logged, reported in metrics and overwritten by the
 * next write. Nothing here can stop crdns.
 */
import { readFile } from 'node:fs/promises';
import type { Registry } from 'prom-client';
import type { Logger } from '../logger.js';
import { registerSnapshotFileMetrics, type SnapshotFileMetrics, type SnapshotLoadResult } from '../observe/snapshot-file-metrics.js';
import { removeStaleTemps } from '../store/atomic-write.js';
import { decodeSnapshot, encodeSnapshot, sameScope, type SnapshotContents, type SnapshotHeader, type SnapshotScope } from '../store/snapshot-file.js';
import { SnapshotFileWriter } from '../store/snapshot-file-writer.js';
import type { RebuildEvent, ZoneStore } from '../store/zone-store.js';

export interface WarmStartOptions {
  path: string;
  /** How long the sources get to list before the file is served. */
  waitMs: number;
  store: ZoneStore;
  /** What the sources list (source, namespaces, selector, ...); a file written for another scope is not served. */
  scope: SnapshotScope;
  crdns: string;
  logger: Logger;
  registry: Registry;
  /** Passed to the writer; default 1000 ms. */
  writeIntervalMs?: number;
}

/** Temporary files older than this are a killed writer's leftovers. */
const STALE_TEMP_MS = 60_000;

export class WarmStart {
  private loaded: SnapshotContents | undefined;
  private load: SnapshotLoadResult = 'absent';
  /** Header of the file whose data is being served. */
  private serving: SnapshotHeader | undefined;
  private timer: NodeJS.Timeout | undefined;
  private lastWriteTime: number | undefined;
  private readonly writer: SnapshotFileWriter;
  private readonly metrics: SnapshotFileMetrics;
  private readonly logger: Logger;

  private constructor(private readonly options: WarmStartOptions) {
    this.logger = options.logger;
    this.metrics = registerSnapshotFileMetrics(options.registry, () => ({ serving: this.servingPartitions().length > 0, load: this.load, lastWriteTime: this.lastWriteTime }));
    this.writer = new SnapshotFileWriter({
      path: options.path,
      render: () => this.render(),
      logger: this.logger,
      ...(options.writeIntervalMs !== undefined ? { intervalMs: options.writeIntervalMs } : {}),
      onWritten: (_bytes, at) => {
        this.lastWriteTime = at;
        this.metrics.written();
      },
      onFailed: () => this.metrics.writeFailed(),
    });
  }

  /** Reads and checks the file; never fails because of what is (or is not) in it. */
  static async open(options: WarmStartOptions): Promise<WarmStart> {
    const w = new WarmStart(options);
    options.store.onRebuild((e) => w.rebuilt(e));
    await w.read();
    const removed = await removeStaleTemps(options.path, STALE_TEMP_MS);
    if (removed.length > 0) w.logger.info('removed temporary snapshot files left by an earlier crdns', { files: removed });
    return w;
  }

  /** Starts the wait for the sources; call it before they start, since a source's start may itself take long. */
  begin(): void {
    if (!this.loaded) return;
    this.timer = setTimeout(() => this.restore(), this.options.waitMs);
    this.timer.unref();
  }

  /** After every rebuild: keep the file current, and say when the file's data has all been replaced. */
  private rebuilt(e: RebuildEvent): void {
    if (this.serving && ![...e.partitions.values()].some((p) => p.restored)) {
      this.logger.info('every source has listed live; no longer serving the snapshot file', { file: this.options.path });
      this.serving = undefined;
    }
    this.writer.changed();
  }

  /** Stops the wait and writes what is pending, for shutdown. */
  async close(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.loaded = undefined;
    await this.writer.close();
  }

  /**
   * While this cluster's own data comes from the file: when that data was
   * built, for crdns_snapshot_age_seconds and /readyz, which then tell how
   * old the answers are rather than when crdns restarted.
   */
  dataTime(): number | undefined {
    if (!this.serving) return undefined;
    return this.options.store.restoredPartitions().some((p) => p.gatesReadiness) ? this.serving.dataTime : undefined;
  }

  /** The /readyz fields. */
  details(): Record<string, unknown> {
    const partitions = this.servingPartitions();
    const served = this.serving;
    return {
      ...(partitions.length > 0 ? { servingFrom: 'snapshot-file' } : {}),
      snapshotFile: {
        file: this.options.path,
        load: this.load,
        serving: partitions.length > 0,
        ...(partitions.length > 0 ? { partitions } : {}),
        ...(served ? { writtenAt: served.writtenAt, dataAgeSeconds: (Date.now() - served.dataTime) / 1000 } : {}),
        lastWriteAgeSeconds: this.lastWriteTime === undefined ? null : (Date.now() - this.lastWriteTime) / 1000,
      },
    };
  }

  private servingPartitions(): string[] {
    return this.serving ? this.options.store.restoredPartitions().map((p) => p.name) : [];
  }

  private async read(): Promise<void> {
    const file = this.options.path;
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      if (e.code === 'ENOENT') {
        this.load = 'absent';
        this.logger.info('no snapshot file yet; it is written after the first live listing', { file });
      } else {
        this.load = 'unreadable';
        this.logger.warn('snapshot file ignored: cannot read it', { file, error: e.code ?? e.message });
      }
      return;
    }
    const decoded = decodeSnapshot(text);
    if (!decoded.ok) {
      this.load = decoded.kind;
      this.logger.warn(decoded.kind === 'corrupt' ? 'snapshot file ignored: corrupt or truncated' : 'snapshot file ignored: written in another format', { file, reason: decoded.reason, bytes: Buffer.byteLength(text, 'utf8') });
      return;
    }
    const { header, partitions } = decoded.contents;
    if (!sameScope(header.scope, this.options.scope)) {
      this.load = 'other-scope';
      this.logger.warn('snapshot file ignored: written for other sources', { file, fileScope: header.scope, scope: this.options.scope });
      return;
    }
    this.loaded = decoded.contents;
    this.load = 'pending';
    this.logger.info('snapshot file loaded; served if the sources have not listed in time', {
      file,
      writtenAt: header.writtenAt,
      writtenBy: header.crdns,
      dataAgeSeconds: (Date.now() - header.dataTime) / 1000,
      partitions: partitions.map((p) => ({ name: p.name, objects: p.objects.length })),
      waitSeconds: this.options.waitMs / 1000,
    });
  }

  private restore(): void {
    this.timer = undefined;
    const contents = this.loaded;
    this.loaded = undefined;
    if (!contents) return;
    const r = this.options.store.restore(contents.partitions);
    const fields = { file: this.options.path, writtenAt: contents.header.writtenAt, dataAgeSeconds: (Date.now() - contents.header.dataTime) / 1000, waitSeconds: this.options.waitMs / 1000 };
    if (r.restored.length === 0) {
      this.load = 'unused';
      this.logger.info('snapshot file not needed: the sources listed in time', { ...fields, ...(r.skipped.length > 0 ? { skipped: r.skipped } : {}) });
      return;
    }
    this.load = 'served';
    this.serving = contents.header;
    this.logger.warn('sources not listed in time; serving the snapshot file until they do', { ...fields, partitions: r.restored, ready: r.ready, ...(r.skipped.length > 0 ? { skipped: r.skipped } : {}) });
  }

  private render(): string | undefined {
    const store = this.options.store;
    const snapshot = store.current;
    // Until this cluster's own sources have listed, the file already holds the best there is; rewriting it would only make it look newer.
    if (!snapshot || store.restoredPartitions().some((p) => p.gatesReadiness)) return undefined;
    return encodeSnapshot({ crdns: this.options.crdns, writtenAt: Date.now(), dataTime: snapshot.builtAt, scope: this.options.scope, partitions: store.savedPartitions() });
  }
}
