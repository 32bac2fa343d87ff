/** The multi-cluster flags of `crdns serve`: this cluster's name and the peers it watches. */
import { statSync } from 'node:fs';
import { UsageError, type FlagSpec, type FlagValues } from './options.js';

export const PEER_FLAGS: FlagSpec[] = [
  { name: 'cluster', kind: 'string', arg: 'NAME', default: 'local', help: 'the name of this cluster, as its peers know it' },
  { name: 'peer', kind: 'list', arg: 'NAME=KUBECONFIG', help: 'a peer cluster whose DNSEndpoints are watched read-only and served too (repeatable; the file is re-read when it changes)' },
  { name: 'peer-grace', kind: 'int', arg: 'SECONDS', default: '30', help: 'a peer unreachable this long is lost: its targets leave names a live cluster also serves' },
  { name: 'peer-orphans', kind: 'string', arg: 'keep|withdraw', default: 'keep', help: 'what happens to names only a lost peer defines' },
];

export interface PeerFlag {
  name: string;
  kubeconfig: string;
}

export interface ClusterFlags {
  cluster: string;
  peers: PeerFlag[];
  graceMs: number;
  orphans: 'keep' | 'withdraw';
}

/** A cluster name: a DNS label, so it reads the same in logs, metrics labels and policy files. */
const CLUSTER_NAME = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

export function clusterFlags(v: FlagValues): ClusterFlags {
  const cluster = v.cluster as string;
  if (!CLUSTER_NAME.test(cluster)) throw new UsageError(`--cluster: "${cluster}" is not a valid cluster name (a lowercase DNS label)`);
  const peers: PeerFlag[] = [];
  for (const raw of v.peer as string[]) {
    const eq = raw.indexOf('=');
    const name = eq > 0 ? raw.slice(0, eq) : '';
    const kubeconfig = eq > 0 ? raw.slice(eq + 1) : '';
    if (!name || !kubeconfig) throw new UsageError(`--peer: "${raw}" is not NAME=KUBECONFIG`);
    if (!CLUSTER_NAME.test(name)) throw new UsageError(`--peer: "${name}" is not a valid cluster name (a lowercase DNS label)`);
    if (name === cluster) throw new UsageError(`--peer: "${name}" is this cluster's own name (--cluster)`);
    if (peers.some((p) => p.name === name)) throw new UsageError(`--peer: "${name}" is given twice`);
    try {
      if (!statSync(kubeconfig).isFile()) throw new Error('not a file');
    } catch (err) {
      throw new UsageError(`--peer ${name}: cannot read kubeconfig ${kubeconfig}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
    peers.push({ name, kubeconfig });
  }
  const grace = v['peer-grace'] as number;
  if (!(grace >= 1)) throw new UsageError(`--peer-grace must be at least 1 second, not ${grace}`);
  const orphans = v['peer-orphans'] as string;
  if (orphans !== 'keep' && orphans !== 'withdraw') throw new UsageError(`--peer-orphans must be keep or withdraw, not "${orphans}"`);
  if (v.manifests && peers.length > 0) throw new UsageError('--peer watches Kubernetes API servers; it cannot be combined with --manifests');
  return { cluster, peers, graceMs: grace * 1000, orphans };
}
