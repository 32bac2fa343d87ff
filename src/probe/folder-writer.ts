/**
 * Writes DNSEndpoints as files in a manifest folder (`crdns serve
 * --manifests`), one file per name. A write is a new dotfile renamed over
 * the old: readers see the old file or the new one, never half of one (crdns
 * skips dotfiles, so the temporary file is never read). The rename's return is
 * the acknowledgement.
 */
import { readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { RecordWriter } from './record-writer.js';
import { dnsEndpointFor, OWNER_LABEL, type ProbeName } from './records.js';

export interface FolderWriterOptions {
  cluster: string;
  dir: string;
  namespace: string;
  id: string;
  runId: string;
  ttl: number;
}

export class FolderWriter implements RecordWriter {
  readonly cluster: string;
  private tmpCounter = 0;

  constructor(private readonly o: FolderWriterOptions) {
    this.cluster = o.cluster;
  }

  private file(name: ProbeName): string {
    return path.join(this.o.dir, `${name.object}.json`);
  }

  async put(name: ProbeName, version: number): Promise<void> {
    const body = dnsEndpointFor(name, version, { id: this.o.id, runId: this.o.runId, namespace: this.o.namespace, ttl: this.o.ttl });
    const tmp = path.join(this.o.dir, `.${name.object}.json.${process.pid}.${++this.tmpCounter}.tmp`);
    await writeFile(tmp, `${JSON.stringify(body, null, 2)}\n`);
    try {
      await rename(tmp, this.file(name));
    } catch (err) {
      await rm(tmp, { force: true });
      throw err;
    }
  }

  async remove(name: ProbeName): Promise<void> {
    await rm(this.file(name), { force: true });
  }

  /** Files named for this probe whose object carries its label: never a file someone else wrote. */
  async cleanup(): Promise<number> {
    let removed = 0;
    for (const entry of await readdir(this.o.dir)) {
      const full = path.join(this.o.dir, entry);
      if (entry.startsWith(`.${this.o.id}-`) && entry.endsWith('.tmp')) {
        await rm(full, { force: true });
        continue;
      }
      if (!entry.startsWith(`${this.o.id}-`) || !entry.endsWith('.json')) continue;
      let labels: unknown;
      try {
        labels = (JSON.parse(await readFile(full, 'utf8')) as { metadata?: { labels?: Record<string, unknown> } }).metadata?.labels;
      } catch {
        continue;
      }
      if (labels && typeof labels === 'object' && (labels as Record<string, unknown>)[OWNER_LABEL] === this.o.id) {
        await rm(full, { force: true });
        removed++;
      }
    }
    return removed;
  }
}
