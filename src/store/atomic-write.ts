/**
 * Replaces a file so that a reader, or a crash at any moment, sees the old
 * content or the new, never a mix: write a temporary file in the same folder
 * (rename is atomic only within one file system), fsync it, rename it over
 * the target, then fsync the folder so the rename itself survives a power cut.
 */
import { randomBytes } from 'node:crypto';
import { open, readdir, rename, stat, unlink } from 'node:fs/promises';
import path from 'node:path';

/** Temporary names carry the pid and a random part: two replicas sharing a hostPath folder never write the same temp file. */
function tempName(target: string): string {
  return `${target}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
}

const TEMP = /^(.*)\.\d+\.[0-9a-f]{8}\.tmp$/;

export async function writeFileAtomic(target: string, data: string | Uint8Array): Promise<void> {
  const temp = tempName(target);
  let renamed = false;
  try {
    const fh = await open(temp, 'wx', 0o644);
    try {
      await fh.writeFile(data);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(temp, target);
    renamed = true;
    await syncFolder(path.dirname(target));
  } finally {
    if (!renamed) await unlink(temp).catch(() => undefined);
  }
}

async function syncFolder(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } catch (err) {
    // Some file systems refuse fsync on a folder (EINVAL); the rename has happened either way.
    if ((err as NodeJS.ErrnoException).code !== 'EINVAL') throw err;
  } finally {
    await fh.close();
  }
}

/**
 * Removes temporary files of `target` left by a writer killed between open
 * and rename. Only those older than `olderThanMs`: another replica sharing
 * the folder may be writing one right now.
 */
export async function removeStaleTemps(target: string, olderThanMs: number, now = Date.now()): Promise<string[]> {
  const dir = path.dirname(target);
  const base = path.basename(target);
  const removed: string[] = [];
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return removed;
  }
  for (const name of names) {
    if (TEMP.exec(name)?.[1] !== base) continue;
    const file = path.join(dir, name);
    try {
      if (now - (await stat(file)).mtimeMs < olderThanMs) continue;
      await unlink(file);
      removed.push(file);
    } catch {
      // Gone already, or not ours to remove.
    }
  }
  return removed;
}
