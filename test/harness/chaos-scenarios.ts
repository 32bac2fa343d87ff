/**
 * The resilience study's disruptions, each as what to break at the start of
 * the chaos window and what to mend at its end, applied to cluster a of the
 * topology in chaos-topology.ts (the cluster the probe reads first). Names
 * follow the talk's test cases: TC1 the cluster resolver, TC2 the forwarder
 * (the DNS pod's CoreDNS), TC3 the authoritative server (crdns), TC4 record
 * provisioning (the Kubernetes API and its watch).
 */
import { waitServing } from './crdns-process.js';
import type { ChaosCluster, ChaosTopology } from './chaos-topology.js';

export interface ChaosScenario {
  name: string;
  /** One line for tables and logs. */
  description: string;
  /** Breaks it; resolves once broken. */
  inject(c: ChaosCluster, topology: ChaosTopology): Promise<void>;
  /** Mends it; resolves once the broken part runs again (not once everything has caught up: that is what is measured). */
  recover(c: ChaosCluster, topology: ChaosTopology): Promise<void>;
}

export const SCENARIOS: readonly ChaosScenario[] = [
  {
    name: 'tc1-resolver-killed',
    description: 'TC1: the cluster resolver CoreDNS of cluster a is SIGKILLed, then started again',
    inject: (c) => c.resolver.kill(),
    recover: (c) => c.resolver.start(),
  },
  {
    name: 'tc2-pod-coredns-killed',
    description: "TC2: the DNS pod's CoreDNS in cluster a is SIGKILLed, then started again",
    inject: (c) => c.pod.kill(),
    recover: (c) => c.pod.start(),
  },
  {
    name: 'tc3-crdns-killed',
    description: 'TC3: crdns in cluster a is SIGKILLed, then started again',
    inject: (c) => c.crdns.kill(),
    recover: (c) => c.crdns.start(),
  },
  {
    name: 'tc3-crdns-hung',
    description: 'TC3: crdns in cluster a is frozen with SIGSTOP, then continued with SIGCONT',
    inject: async (c) => c.crdns.pause(),
    recover: async (c) => c.crdns.resume(),
  },
  {
    name: 'tc4-apiserver-down',
    description: "TC4: cluster a's kube-apiserver is stopped, then started again",
    inject: (c) => c.plane.stopApiserver(),
    recover: (c) => c.plane.startApiserver(),
  },
  {
    name: 'tc4-etcd-restarted',
    description: "TC4: cluster a's etcd is stopped, then started again (the API server stays up)",
    inject: (c) => c.plane.stopEtcd(),
    recover: (c) => c.plane.startEtcd(),
  },
  {
    name: 'tc4-watch-stalled',
    description: "TC4: crdns a's connections to its API server silently stop forwarding (half-open); new connections still work",
    inject: async (c) => {
      c.proxy.freeze();
    },
    // Nothing to mend: crdns must notice the silent watch itself.
    recover: async () => undefined,
  },
  {
    name: 'tc4-cold-start-api-down',
    description: "TC4: cluster a's kube-apiserver is stopped and crdns a restarted while it is down, then the API server is started",
    inject: async (c) => {
      await c.plane.stopApiserver();
      await c.crdns.kill();
      await c.crdns.start();
    },
    recover: (c) => c.plane.startApiserver(),
  },
];

export function scenario(name: string): ChaosScenario {
  const s = SCENARIOS.find((x) => x.name === name);
  if (!s) throw new Error(`no chaos scenario ${JSON.stringify(name)}; there are: ${SCENARIOS.map((x) => x.name).join(', ')}`);
  return s;
}

/** Before the next scenario: every process of the topology running and crdns serving again. */
export async function healed(topology: ChaosTopology): Promise<void> {
  for (const c of topology.clusters) {
    c.crdns.resume();
    if (!c.plane.etcdRunning) await c.plane.startEtcd();
    if (!c.plane.apiserverRunning) await c.plane.startApiserver();
    for (const p of [c.crdns, c.pod, c.resolver]) if (!p.running) await p.start();
    await waitServing(c.socketAddress, Date.now() + 60_000);
  }
}
