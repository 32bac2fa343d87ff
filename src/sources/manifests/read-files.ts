/** Reading manifest files from disk into a ManifestSet: a whole folder (for the live source) or named files and folders once (for `crdns check`). */
import { open, readdir, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { EndpointObject } from '../../endpoint/endpoint.js';
import { decodeManifestBytes, isManifestFileName, notManifestReason, type IgnoredDocument, type ManifestNote, type ManifestProblem } from './documents.js';
import { compareNames, manifestDigest, ManifestSet, type ReadOutcome } from './manifest-set.js';

/** Reads the folder once into `set`. Throws only when the folder itself cannot be listed. */
export async function readFolder(dir: string, set: ManifestSet): Promise<void> {
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
    const bytes = await readBounded(path);
    if (bytes === 'too large') {
      return { error: Object.assign(new Error(`file is larger than ${MAX_MANIFEST_BYTES / 2 ** 20} MiB; manifests are at most a few MiB (an API object at most 1.5 MiB)`), { code: 'EFBIG' }) };
    }
    const decoded = decodeManifestBytes(bytes);
    // Reported as a read failure, so the file's last good content keeps serving as it would for EIO.
    if (!decoded.ok) return { error: Object.assign(new Error(decoded.reason), { code: 'EILSEQ' }) };
    return { text: decoded.text, digest: manifestDigest(bytes) };
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    // Gone between listing and reading, a dangling link (a ConfigMap key
    // mid-swap), or a directory that happens to be called x.yaml: not a file.
    if (e.code === 'ENOENT' || e.code === 'ENOTDIR' || e.code === 'EISDIR') return undefined;
    return { error: e };
  }
}

/**
 * Larger files are refused unread, as a read failure (the file's last good
 * content keeps serving): a runaway generator or a wrong mount must not take
 * the process's memory. The bound is far over any real manifest folder file.
 */
export const MAX_MANIFEST_BYTES = 32 * 2 ** 20;

async function readBounded(path: string): Promise<Buffer | 'too large'> {
  const handle = await open(path, 'r');
  try {
    // The size of the file opened, not of whatever the name points at a moment later.
    if ((await handle.stat()).size > MAX_MANIFEST_BYTES) return 'too large';
    return await handle.readFile();
  } finally {
    await handle.close();
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
 * (a key defined twice: the first file by path wins, the other is reported). A file named
 * explicitly without a manifest extension is a problem: crdns would never read it. `ignored`
 * lists the documents of other kinds.
 */
export async function loadManifests(
  paths: readonly string[],
  options: { annotationPrefixes?: readonly string[] } = {},
): Promise<{ objects: EndpointObject[]; problems: ManifestProblem[]; files: string[]; ignored: IgnoredDocument[]; notes: ManifestNote[] }> {
  const set = new ManifestSet(options.annotationPrefixes ? { annotationPrefixes: options.annotationPrefixes } : {});
  const named: ManifestProblem[] = [];
  for (const p of paths) {
    let files: string[];
    if ((await stat(p)).isDirectory()) files = (await readdir(p)).filter(isManifestFileName).sort(compareNames).map((n) => join(p, n));
    else {
      const why = notManifestReason(basename(p));
      if (why !== undefined) {
        named.push({ kind: 'not-manifest', file: p, message: why });
        continue;
      }
      files = [p];
    }
    for (const file of files) {
      const read = await readOne(file);
      if (read === undefined) continue;
      set.update(file, file, read);
    }
  }
  const { objects, problems, notes } = set.resolve();
  return { objects: [...objects.values()].sort((a, b) => compareNames(a.key, b.key)), problems: [...named, ...problems], files: set.names(), ignored: set.ignoredDocuments(), notes };
}

/** One-shot read of one folder; `files` are the file names inside it. */
export async function loadManifestFolder(dir: string): ReturnType<typeof loadManifests> {
  const r = await loadManifests([dir]);
  return { ...r, files: r.files.map((f) => basename(f)) };
}

