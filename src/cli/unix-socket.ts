/**
 * Taking over a unix socket path safely. A killed predecessor leaves its
 * socket file behind and the bind would fail on it, so that file must go;
 * but the path could as well be a typo for a file someone needs, or the
 * socket of a crdns that is still serving. Only a socket nobody answers on
 * is removed.
 */
import { lstat, rm, stat } from 'node:fs/promises';
import { connect } from 'node:net';
import { dirname } from 'node:path';
import { UsageError } from './options.js';

function refuse(flag: string, text: string, why: string): UsageError {
  return new UsageError(`--${flag} ${JSON.stringify(text)}: ${why}`, false);
}

/** Resolves true when something accepts connections on the socket, false when the connection is refused. */
function answers(path: string): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const c = connect(path);
    c.once('connect', () => {
      c.destroy();
      resolve(true);
    });
    c.once('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'ECONNREFUSED' || err.code === 'ENOENT') resolve(false);
      else reject(err);
    });
  });
}

/**
 * Checks that `path` can be bound (its folder exists, nothing but a dead
 * socket lies there) and removes a dead socket. Throws a UsageError naming
 * the flag otherwise.
 */
export async function claimUnixSocket(flag: string, text: string, path: string): Promise<void> {
  const folder = dirname(path);
  const dir = await stat(folder).catch(() => undefined);
  if (!dir) throw refuse(flag, text, `no such folder: ${folder}`);
  if (!dir.isDirectory()) throw refuse(flag, text, `${folder} is not a folder`);
  const st = await lstat(path).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return undefined;
    throw refuse(flag, text, `cannot inspect the path: ${err.code ?? err.message}`);
  });
  if (!st) return;
  if (!st.isSocket()) throw refuse(flag, text, 'the path exists and is not a socket; crdns removes only a stale socket, so remove it yourself or pick another path');
  let live: boolean;
  try {
    live = await answers(path);
  } catch (err) {
    throw refuse(flag, text, `cannot tell whether the socket is in use: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  if (live) throw refuse(flag, text, 'address already in use: a server is listening on this socket');
  await rm(path, { force: true });
}
