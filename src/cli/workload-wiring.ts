/**
 * `--source service` and `--source ingress`: for this cluster, one workload
 * source feeding a store partition per kind (keys prefixed with the kind, so
 * they never collide with DNSEndpoint keys), and Warning Events for what it
 * could not publish as written; for each peer, the same kinds read-only
 * (no Events) in partitions `cluster:<peer>:<kind>`, keys `<peer>:<kind>:`,
 * withdrawn like the peer's DNSEndpoints while the peer is lost.
 */
import type { EndpointProblem } from '../endpoint/endpoint.js';
import { WorkloadEventReporter, type WorkloadProblem, type WorkloadRef } from '../feedback/workload-events.js';
import type { Logger } from '../logger.js';
import type { ResourceWatch } from '../observe/source-metrics.js';
import { describeDerivedProblem } from '../sources/services/derived-problem.js';
import { GRPCROUTE, HTTPROUTE, INGRESS, SERVICE, type ObjectMeta } from '../sources/services/resources.js';
import { PeerWorkloads } from '../sources/peers/peer-workloads.js';
import { WorkloadSource, type WorkloadKind } from '../sources/services/workload-source.js';
import type { RebuildEvent } from '../store/zone-store.js';
import type { WiringContext } from './kubernetes-flags.js';
import { UsageError, type FlagValues } from './options.js';
import type { ClusterFlags } from './peer-flags.js';
import type { SourceFlags, SourceKind } from './source-flags.js';
import type { PartitionSink } from '../store/zone-store.js';

export interface WorkloadWiring {
  start(): Promise<void>;
  stop(): Promise<void>;
  stopFeedback(): Promise<void>;
  onRebuild(e: RebuildEvent): void;
  /** Whether a store key belongs to one of these partitions. */
  owns(key: string): boolean;
  connected(): boolean;
  /** This cluster's watches, by resource, for metrics. */
  watches(): ResourceWatch[];
  /** A peer's state as its DNSEndpoint watch judges it (same API server): lost withdraws its workload records too. */
  setPeerLost(peer: string, lost: boolean): void;
}

const PREFIX: Record<WorkloadKind, string> = { service: 'service:', ingress: 'ingress:', httproute: 'httproute:', grpcroute: 'grpcroute:' };
const WORKLOAD_OF: Partial<Record<SourceKind, WorkloadKind>> = { service: 'service', ingress: 'ingress', 'gateway-httproute': 'httproute', 'gateway-grpcroute': 'grpcroute' };
const RESOURCE_OF: Record<WorkloadKind, { apiVersion: string; kind: string }> = { service: SERVICE, ingress: INGRESS, httproute: HTTPROUTE, grpcroute: GRPCROUTE };

export function workloadWiring(v: FlagValues, flags: SourceFlags, clusters: ClusterFlags, logger: Logger, ctx: WiringContext): WorkloadWiring | undefined {
  const cluster = clusters.cluster;
  const kinds = flags.kinds.flatMap((k) => {
    const w = WORKLOAD_OF[k];
    return w ? [w] : [];
  });
  if (kinds.length === 0) return undefined;
  // A peer's DNSEndpoint keys are "<peer>:ns/name": a peer named like a kind would collide with this cluster's keys of that kind.
  for (const p of clusters.peers) {
    const kind = kinds.find((k) => k === p.name);
    if (kind) throw new UsageError(`--peer: "${p.name}" cannot be a peer name together with --source ${flags.kinds.find((k) => WORKLOAD_OF[k] === kind) ?? kind}`);
  }
  const log = logger.child({ source: 'workloads' });
  let reporter: WorkloadEventReporter | undefined;
  const source = new WorkloadSource({
    kinds,
    ...(v.kubeconfig ? { kubeconfig: v.kubeconfig as string } : {}),
    namespaces: (v.namespace as string[] | undefined) ?? [],
    annotationPrefixes: flags.annotationPrefixes,
    holdDownMs: flags.holdDownMs,
    watchIdleTimeoutMs: ((v['watch-idle-timeout'] as number | undefined) ?? 600) * 1000,
    logger: log,
    onAnnotationProblems: (kind, _key, meta, problems) => {
      if (problems.length === 0) return;
      reporter?.report(refOf(kind, meta), problems.map((p) => ({ reason: 'InvalidAnnotation', message: `annotation ${p.annotation}: ${p.reason}; ignored` })));
    },
  });
  if (source.kubeConfig) reporter = new WorkloadEventReporter({ kubeConfig: source.kubeConfig, logger: log });
  const sinks = Object.fromEntries(
    kinds.map((kind) => [kind, ctx.store.partition(`cluster:${cluster}:${kind}`, { cluster, locality: 0, keyPrefix: PREFIX[kind], gatesReadiness: true })]),
  );
  const kindOf = (key: string): WorkloadKind | undefined => kinds.find((k) => key.startsWith(PREFIX[k]));
  const peers = clusters.peers.map((p, i) => {
    const peerSinks: Partial<Record<WorkloadKind, PartitionSink>> = Object.fromEntries(
      kinds.map((kind) => [
        kind,
        ctx.store.partition(`cluster:${p.name}:${kind}`, { cluster: p.name, locality: i + 1, keyPrefix: `${p.name}:${PREFIX[kind]}`, gatesReadiness: false, orphans: clusters.orphans }),
      ]),
    );
    const peerSource = new PeerWorkloads({
      kubeconfigPath: p.kubeconfig,
      source: {
        kinds,
        namespaces: (v.namespace as string[] | undefined) ?? [],
        annotationPrefixes: flags.annotationPrefixes,
        holdDownMs: flags.holdDownMs,
        watchIdleTimeoutMs: ((v['watch-idle-timeout'] as number | undefined) ?? 600) * 1000,
      },
      sinks: peerSinks,
      logger: logger.child({ source: 'peer-workloads', peer: p.name }),
    });
    return { name: p.name, source: peerSource, sinks: peerSinks };
  });
  return {
    start: async () => {
      await source.start(sinks);
      for (const p of peers) await p.source.start();
    },
    stop: async () => {
      await Promise.all([source.stop(), ...peers.map((p) => p.source.stop())]);
    },
    setPeerLost: (peer, lost) => {
      for (const sink of Object.values(peers.find((p) => p.name === peer)?.sinks ?? {})) sink.setLost(lost);
    },
    stopFeedback: async () => {
      await reporter?.stop();
    },
    owns: (key) => kindOf(key) !== undefined,
    connected: () => source.connected,
    watches: () => source.watches(),
    onRebuild: (e) => {
      if (!reporter) return;
      for (const [key, t] of e.touched) {
        // Peers' objects are reported by their own cluster's crdns.
        const kind = kindOf(key);
        if (!kind || t.problems.length === 0) continue;
        const meta = source.lookup(kind, key.slice(PREFIX[kind].length));
        if (!meta) continue;
        reporter.report(refOf(kind, meta), t.problems.map((p) => endpointProblem(t.object.endpoints, p)));
      }
    },
  };
}

function refOf(kind: WorkloadKind, meta: ObjectMeta): WorkloadRef {
  const k = RESOURCE_OF[kind];
  return {
    apiVersion: k.apiVersion,
    kind: k.kind,
    namespace: meta.namespace ?? '',
    name: meta.name ?? '',
    uid: meta.uid ?? '',
    generation: typeof meta.generation === 'number' ? meta.generation : 0,
    resourceVersion: meta.resourceVersion ?? '',
  };
}

function endpointProblem(endpoints: readonly unknown[], p: EndpointProblem): WorkloadProblem {
  return { reason: 'InvalidEndpoint', message: describeDerivedProblem(endpoints, p) };
}
