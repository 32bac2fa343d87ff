// A one-node Kubernetes cluster with a real kubelet and containerd (scripts/node.sh), for tests
// that need pods to run: `helm install --wait`, the chart's probes, the native sidecar, the
// ServiceAccount token the pod gets. Needs root and the parts from scripts/setup-node.sh; the
// crdns image is rebuilt from the current dist/ on start (setup-node.sh does nothing when
// nothing changed). One node per machine: it owns bridge crdns0, 10.88.0.0/24, fd88::/64 and ports
// CRDNS_NODE_PORT_BASE+n (default 26000+n).
import { join } from 'node:path';
import { run, type RunResult } from './coredns.js';
import { peerBin, repoRoot } from './peers.js';

export const NODE_IMAGES = {
  crdns: { repository: 'localhost/crdns/crdns', tag: 'local' },
  coredns: { repository: 'localhost/crdns/coredns', tag: 'local' },
  busybox: { repository: 'localhost/crdns/busybox', tag: 'local' },
} as const;

function script(name: string): string {
  return join(repoRoot(), 'scripts', name);
}

async function bash(name: string, args: string[], timeoutMs: number): Promise<RunResult> {
  const r = await run('bash', [script(name), ...args], { timeoutMs });
  if (r.code !== 0) throw new Error(`scripts/${name} ${args.join(' ')} exited ${r.code}:\n${r.stderr}${r.stdout}`);
  return r;
}

export class NodeCluster {
  private constructor(readonly kubeconfig: string) {}

  /** Builds what is missing (images from the current dist/), starts the node, waits for Ready. */
  static async start(): Promise<NodeCluster> {
    if (process.getuid?.() !== 0) throw new Error('NodeCluster needs root (containerd, runc, bridge, iptables)');
    await bash('setup-node.sh', ['--no-apt'], 1_800_000);
    const r = await bash('node.sh', ['up'], 600_000);
    const kubeconfig = r.stdout.trim().split('\n').pop() ?? '';
    return new NodeCluster(kubeconfig);
  }

  async kubectl(args: string[], input?: string): Promise<string> {
    const r = await run(peerBin('kubectl'), [`--kubeconfig=${this.kubeconfig}`, '--request-timeout=60s', ...args], {
      timeoutMs: 180_000,
      ...(input !== undefined ? { input } : {}),
    });
    if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')} failed (${r.code}): ${r.stderr.trim()}`);
    return r.stdout;
  }

  /**
   * SIGKILLs one container of a pod (its status's containerID, "containerd://ID") through
   * containerd itself, as an OOM kill or a crash would end it: the kubelet sees it die and
   * restarts it, which a `kubectl delete pod` would not show.
   */
  async killContainer(containerId: string): Promise<void> {
    const id = containerId.replace(/^containerd:\/\//, '');
    const sock = join(process.env.CRDNS_NODE_RUN ?? '/run/crdns-node', 'containerd', 'containerd.sock');
    const r = await run('ctr', ['-a', sock, '-n', 'k8s.io', 'tasks', 'kill', '-s', 'SIGKILL', id], { timeoutMs: 30_000 });
    if (r.code !== 0) throw new Error(`ctr tasks kill ${id} failed (${r.code}): ${r.stderr.trim()}`);
  }

  /** Stops every process `start` started; the state dir stays for the next start. */
  async stop(): Promise<void> {
    await bash('node.sh', ['down'], 120_000);
  }
}
