/**
 * Everything `crdns serve` can know is wrong before it binds a port: names,
 * numbers, addresses, which source, whether the files and folders it names
 * exist. Each mistake is a UsageError naming its flag, so a bad value never
 * shows up as a crash after "grpc listening" or as a listener that never works.
 */
import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import path from 'node:path';
import { isLogLevel, type LogLevel } from '../logger.js';
import type { ZoneConfig } from '../dns/zone-config.js';
import { parseAddress, type ListenAddress } from './addresses.js';
import { UsageError, type ParsedFlags } from './options.js';
import type { TlsFilePaths } from './tls-files.js';
import { annotationPrefixesFromFlags } from './source-flags.js';
import { zonesFromFlags } from './zone-flags.js';

/** Flags that only mean something when crdns watches the Kubernetes API (--annotation-prefix also reads a folder's Services). */
export const KUBERNETES_FLAGS = ['kubeconfig', 'namespace', 'label-selector', 'watch-idle-timeout', 'cluster', 'peer', 'peer-grace', 'peer-orphans', 'source', 'health-hold-down'] as const;
const TLS_FILE_FLAGS = ['tls-cert', 'tls-key', 'tls-client-ca'] as const;

export interface ServeConfig {
  zones: ZoneConfig[];
  defaultTtl: number;
  logLevel: LogLevel;
  /** Addresses the main thread serves: --listen without `{worker}` (all of them with one worker). */
  listen: ListenAddress[];
  /** --workers: serving worker threads; 1 means the main thread serves every address itself. */
  workers: number;
  /** With --workers above 1: per worker, its --listen addresses with `{worker}` replaced by its index. */
  workerListen: ListenAddress[][];
  tlsListen: ListenAddress[];
  tls?: TlsFilePaths;
  http?: ListenAddress;
  /** The manifest folder, when that is the source; otherwise the Kubernetes API is. */
  manifests?: string;
  /** --snapshot-file and --snapshot-wait. */
  snapshot?: { path: string; waitMs: number };
  /** Where Services' and Ingresses' ExternalDNS annotations are read. */
  annotationPrefixes: readonly string[];
}

function fileError(flag: string, path: string, why: string): UsageError {
  return new UsageError(`--${flag} ${JSON.stringify(path)}: ${why}`, false);
}

async function checkFolder(flag: string, path: string): Promise<void> {
  const st = await stat(path).catch((err: NodeJS.ErrnoException) => {
    throw fileError(flag, path, err.code === 'ENOENT' ? 'no such folder' : `cannot read: ${err.code ?? err.message}`);
  });
  if (!st.isDirectory()) throw fileError(flag, path, 'not a folder');
  await access(path, constants.R_OK | constants.X_OK).catch(() => {
    throw fileError(flag, path, 'the folder cannot be listed (permission denied)');
  });
}

async function checkFile(flag: string, path: string): Promise<void> {
  const st = await stat(path).catch((err: NodeJS.ErrnoException) => {
    throw fileError(flag, path, err.code === 'ENOENT' ? 'no such file' : `cannot read: ${err.code ?? err.message}`);
  });
  if (!st.isFile()) throw fileError(flag, path, 'not a file');
  await access(path, constants.R_OK).catch(() => {
    throw fileError(flag, path, 'cannot read: permission denied');
  });
}

export async function serveConfig({ values: v, positionals, given }: ParsedFlags): Promise<ServeConfig> {
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
  const zones = zonesFromFlags(v);
  if (zones.length === 0) throw new UsageError('at least one --zone is required');
  const logLevel = v['log-level'] as string;
  if (!isLogLevel(logLevel)) throw new UsageError(`--log-level must be debug, info, warn or error, not "${logLevel}"`);

  const workers = v.workers as number;
  const { listen, workerListen } = listenFromFlags(v.listen as string[], workers);
  const tlsListen = (v['tls-listen'] as string[]).map((a) => {
    if (a.includes(WORKER_TOKEN)) throw new UsageError(`--tls-listen ${JSON.stringify(a)}: the main thread serves --tls-listen; ${WORKER_TOKEN} belongs in --listen`);
    return parseAddress('tls-listen', a, { unix: true });
  });
  const http = v.http ? parseAddress('http', v.http as string, { unix: false }) : undefined;

  let tls: TlsFilePaths | undefined;
  if (tlsListen.length > 0) {
    const missing = TLS_FILE_FLAGS.filter((f) => !v[f]);
    if (missing.length > 0) throw new UsageError(`--tls-listen needs --tls-cert, --tls-key and --tls-client-ca (missing: ${missing.map((f) => `--${f}`).join(', ')})`);
    tls = { cert: v['tls-cert'] as string, key: v['tls-key'] as string, clientCa: v['tls-client-ca'] as string };
  } else {
    const stray = TLS_FILE_FLAGS.filter((f) => given.has(f));
    if (stray.length > 0) throw new UsageError(`${stray.map((f) => `--${f}`).join(', ')} given without --tls-listen, so nothing would use ${stray.length === 1 ? 'it' : 'them'}`);
  }

  const manifests = v.manifests ? (v.manifests as string) : undefined;
  if (manifests !== undefined) {
    const k8s = KUBERNETES_FLAGS.filter((f) => given.has(f));
    if (k8s.length > 0) throw new UsageError(`--manifests serves a folder; ${k8s.map((f) => `--${f}`).join(', ')} ${k8s.length === 1 ? 'applies' : 'apply'} only to the Kubernetes source: give one or the other`);
    await checkFolder('manifests', manifests);
  } else if (v.kubeconfig) {
    await checkFile('kubeconfig', v.kubeconfig as string);
  }

  const snapshot = await snapshotFromFlags(v, given);

  return {
    zones,
    defaultTtl: v['default-ttl'] as number,
    logLevel,
    listen,
    workers,
    workerListen,
    tlsListen,
    ...(tls ? { tls } : {}),
    ...(http ? { http } : {}),
    ...(manifests !== undefined ? { manifests } : {}),
    ...(snapshot ? { snapshot } : {}),
    annotationPrefixes: annotationPrefixesFromFlags(v),
  };
}

const WORKER_TOKEN = '{worker}';

/**
 * Splits --listen between the main thread and the serving workers: an address
 * with `{worker}` is one address per worker, the token replaced by its index
 * (unix:///run/crdns/w{worker}.sock); one without it stays on the main thread.
 */
function listenFromFlags(texts: readonly string[], workers: number): { listen: ListenAddress[]; workerListen: ListenAddress[][] } {
  const templated = texts.filter((t) => t.includes(WORKER_TOKEN));
  const plain = texts.filter((t) => !t.includes(WORKER_TOKEN)).map((t) => parseAddress('listen', t, { unix: true }));
  const expand = (i: number) =>
    templated.map((t) => {
      const text = t.replaceAll(WORKER_TOKEN, String(i));
      try {
        return parseAddress('listen', text, { unix: true });
      } catch (err) {
        // Name what the operator wrote, and what it became.
        if (err instanceof UsageError) throw new UsageError(err.message.replace(JSON.stringify(text), `${JSON.stringify(t)} (worker ${i}: ${JSON.stringify(text)})`), err.showUsage);
        throw err;
      }
    });
  if (workers === 1) return { listen: [...plain, ...expand(0)], workerListen: [] };
  if (templated.length === 0) {
    throw new UsageError(`--workers ${workers} needs a --listen address with ${WORKER_TOKEN} in it, e.g. unix:///run/crdns/w${WORKER_TOKEN}.sock, so that each worker has its own`);
  }
  return { listen: plain, workerListen: Array.from({ length: workers }, (_, i) => expand(i)) };
}

/** The file is written, so its folder must exist and be writable now; the file itself may be missing or bad (it is then ignored and overwritten). */
async function snapshotFromFlags(v: ParsedFlags['values'], given: Set<string>): Promise<ServeConfig['snapshot']> {
  const file = v['snapshot-file'] as string | undefined;
  if (!file) {
    if (given.has('snapshot-wait')) throw new UsageError('--snapshot-wait given without --snapshot-file, so nothing would use it');
    return undefined;
  }
  const dir = path.dirname(path.resolve(file));
  const st = await stat(file).catch((err: NodeJS.ErrnoException) => (err.code === 'ENOENT' ? undefined : Promise.reject(fileError('snapshot-file', file, `cannot read: ${err.code ?? err.message}`))));
  if (st && !st.isFile()) throw fileError('snapshot-file', file, 'not a regular file');
  const folder = await stat(dir).catch(() => undefined);
  if (!folder?.isDirectory()) throw fileError('snapshot-file', file, `folder ${dir} does not exist`);
  await access(dir, constants.W_OK | constants.X_OK).catch(() => {
    throw fileError('snapshot-file', file, `folder ${dir} is not writable`);
  });
  return { path: path.resolve(file), waitMs: (v['snapshot-wait'] as number) * 1000 };
}
