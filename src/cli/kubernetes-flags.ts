/**
 * The Kubernetes side of `crdns serve`, loaded only when crdns watches the
 * API: this cluster's DNSEndpoint source and the status reporter that tells
 * each of its objects what became of it, and a read-only source per peer
 * cluster, each in its own store partition.
 */
import type { Registry } from 'prom-client';
import { StatusReporter } from '../feedback/status-reporter.js';
import type { Logger } from '../logger.js';
import { registerPeerMetrics } from '../observe/peer-metrics.js';
import { registerFeedbackMetrics, registerResourceWatchMetrics, registerWatchMetrics } from '../observe/source-metrics.js';
import { DnsEndpointSource } from '../sources/dnsendpoints/source.js';
import { PeerCluster } from '../sources/peers/peer-cluster.js';
import type { RebuildEvent, ZoneStore } from '../store/zone-store.js';
import type { FlagValues } from './options.js';
import { clusterFlags } from './peer-flags.js';
import type { SourceWiring } from './source-wiring.js';
import { sourceFlags } from './source-flags.js';
import { workloadWiring } from './workload-wiring.js';

export interface WiringContext {
  store: ZoneStore;
  registry: Registry;
}

export async function kubernetesSourceFromFlags(v: FlagValues, logger: Logger, ctx: WiringContext): Promise<SourceWiring> {
  const log = logger.child({ source: 'kubernetes' });
  const clusters = clusterFlags(v);
  const watch = {
    namespaces: v.namespace as string[],
    ...(v['label-selector'] ? { labelSelector: v['label-selector'] as string } : {}),
    watchIdleTimeoutMs: (v['watch-idle-timeout'] as number) * 1000,
  };
  const sources = sourceFlags(v);
  const local = new DnsEndpointSource({ ...(v.kubeconfig ? { kubeconfig: v.kubeconfig as string } : {}), ...watch, logger: log });
  // Without --source dnsendpoint the DNSEndpoint watch is never started and its partition never created: readiness must not wait for it.
  const servesDnsEndpoints = sources.kinds.includes('dnsendpoint');
  const localSink = servesDnsEndpoints ? ctx.store.partition(`cluster:${clusters.cluster}`, { cluster: clusters.cluster, locality: 0, gatesReadiness: true }) : undefined;
  const workloads = workloadWiring(v, sources, clusters, logger, ctx);
  const peers = clusters.peers.map(
    (p, i) =>
      new PeerCluster({
        name: p.name,
        kubeconfigPath: p.kubeconfig,
        graceMs: clusters.graceMs,
        watch,
        logger: logger.child({ source: 'peer' }),
        // Keys are prefixed so two clusters' "namespace/name" never collide; feedback only ever sees this cluster's keys.
        sink: ctx.store.partition(`cluster:${p.name}`, { cluster: p.name, locality: i + 1, keyPrefix: `${p.name}:`, gatesReadiness: false, orphans: clusters.orphans }),
        // The peer's Services and Ingresses come from the same API server: lost together.
        onStateChange: (status) => workloads?.setPeerLost(p.name, status.state === 'lost'),
      }),
  );
  let lastRebuild: RebuildEvent | undefined;
  if (peers.length > 0) {
    registerPeerMetrics(ctx.registry, () => peers.map((p) => p.status), (name) => lastRebuild?.partitions.get(`cluster:${name}`)?.records ?? 0);
  }
  const reporter = servesDnsEndpoints && local.kubeConfig ? new StatusReporter({ directory: local, kubeConfig: local.kubeConfig, logger: log }) : undefined;
  // A DNSEndpoint watch that is never started would show as a watch that never connects.
  if (servesDnsEndpoints) registerWatchMetrics(ctx.registry, () => local.state);
  const watches = () => [...(servesDnsEndpoints ? [{ resource: 'dnsendpoints', ...local.state }] : []), ...(workloads?.watches() ?? [])];
  registerResourceWatchMetrics(ctx.registry, watches);
  if (reporter) registerFeedbackMetrics(ctx.registry, () => reporter.stats);
  return {
    source: {
      name: 'kubernetes',
      // The store's own sink is not used: every cluster feeds its own partition.
      start: async () => {
        if (localSink) await local.start(localSink);
        await workloads?.start();
        for (const p of peers) await p.start();
        if (peers.length > 0) log.info('watching peer clusters', { cluster: clusters.cluster, peers: clusters.peers.map((p) => p.name), graceSeconds: clusters.graceMs / 1000, orphans: clusters.orphans });
      },
      stop: async () => {
        await Promise.all([local.stop(), ...peers.map((p) => p.stop()), workloads?.stop()]);
      },
    },
    onRebuild: (e: RebuildEvent) => {
      lastRebuild = e;
      workloads?.onRebuild(e);
      if (!reporter) return;
      // Only what this build touched; the reporter works through it off the query path.
      reporter.reportMany([...e.touched].filter(([key]) => !workloads?.owns(key)).map(([key, t]) => ({ key, generation: t.object.origin.generation, problems: t.problems })));
    },
    stop: async () => {
      await Promise.all([reporter?.stop(), workloads?.stopFeedback()]);
    },
    details: () => {
      const s = local.state;
      const now = Date.now();
      return {
        cluster: clusters.cluster,
        connected: (servesDnsEndpoints ? s.connected : true) && (workloads?.connected() ?? true),
        sources: sources.kinds,
        lastSyncAgeSeconds: s.lastSyncTime ? (now - s.lastSyncTime) / 1000 : null,
        restarts: s.restarts,
        relists: s.relists,
        ...(s.lastError ? { lastError: s.lastError } : {}),
        watches: watches().map((w) => ({ resource: w.resource, connected: w.connected, lastSyncAgeSeconds: w.lastSyncTime ? (now - w.lastSyncTime) / 1000 : null })),
        ...(peers.length > 0
          ? {
              peers: peers.map((p) => {
                const ps = p.status;
                return {
                  name: ps.name,
                  state: ps.state,
                  synced: ps.synced,
                  lastSyncAgeSeconds: ps.lastConfirmed ? (now - ps.lastConfirmed) / 1000 : null,
                  ...(ps.lastError ? { lastError: ps.lastError } : {}),
                };
              }),
            }
          : {}),
      };
    },
  };
}
