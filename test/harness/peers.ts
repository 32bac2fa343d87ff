// Where the real peers live. scripts/setup-peers.sh builds the Go ones into a cache outside git
// and installs the Debian ones; tests only look them up here, so a missing peer is one clear
// error that says how to get it, never a skipped test.
import { accessSync, constants, existsSync, readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export type PeerName = 'coredns' | 'etcd' | 'kube-apiserver' | 'kubectl' | 'helm';

export const PEER_NAMES: readonly PeerName[] = ['coredns', 'etcd', 'kube-apiserver', 'kubectl', 'helm'];

const SETUP_SCRIPT = join('scripts', 'setup-peers.sh');

export function peersDir(): string {
  const fromEnv = process.env['CRDNS_PEERS_DIR'];
  return resolve(fromEnv !== undefined && fromEnv !== '' ? fromEnv : join(homedir(), '.cache', 'crdns-peers'));
}

export function peerBin(name: PeerName): string {
  const path = join(peersDir(), 'bin', name);
  if (!isExecutableFile(path)) {
    throw new Error(`peer binary ${name} missing at ${path}: run scripts/setup-peers.sh`);
  }
  return path;
}

// Debian keeps daemons (nsd, knotd, pdns_server) in sbin, which a non-root PATH often lacks.
const SBIN_FALLBACK = ['/usr/local/sbin', '/usr/sbin', '/sbin'];

/** Absolute path of a Debian-installed tool; a name containing '/' is checked as given. */
export function requireTool(name: string): string {
  if (name.includes('/')) {
    if (isExecutableFile(name)) return resolve(name);
    throw new Error(`tool ${name} missing: run scripts/setup-peers.sh`);
  }
  const dirs = (process.env['PATH'] ?? '').split(delimiter).filter((d) => d !== '');
  for (const dir of [...dirs, ...SBIN_FALLBACK]) {
    const candidate = resolve(dir, name);
    if (isExecutableFile(candidate)) return candidate;
  }
  throw new Error(`tool ${name} not found on PATH or in sbin: run scripts/setup-peers.sh`);
}

/**
 * The version scripts/setup-peers.sh pins for a peer, read from the script itself so that the
 * pins stay written in one place.
 */
export function pinnedVersion(name: PeerName): string {
  const variable: Record<PeerName, string> = {
    coredns: 'COREDNS_VERSION',
    etcd: 'ETCD_VERSION',
    'kube-apiserver': 'K8S_VERSION',
    kubectl: 'K8S_VERSION',
    helm: 'HELM_VERSION',
  };
  const script = readFileSync(join(repoRoot(), SETUP_SCRIPT), 'utf8');
  const match = new RegExp(`^${variable[name]}=(v[0-9][^\\s#]*)`, 'm').exec(script);
  if (match === null || match[1] === undefined) {
    throw new Error(`no ${variable[name]}=v… pin found in ${SETUP_SCRIPT}`);
  }
  return match[1];
}

/** The checkout this file belongs to, found from both test/harness/ and dist/test/harness/. */
export function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, SETUP_SCRIPT))) return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`cannot find ${SETUP_SCRIPT} above ${fileURLToPath(import.meta.url)}`);
    dir = parent;
  }
}

function isExecutableFile(path: string): boolean {
  try {
    if (!statSync(path).isFile()) return false;
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
