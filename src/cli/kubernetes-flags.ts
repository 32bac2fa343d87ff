/**
 * The Kubernetes side of `crdns serve`, loaded only when crdns watches the
 * API: the DNSEndpoint source, and the status reporter that tells each object
 * what became of it after every snapshot.
 */
import type { Logger } from '../logger.js';
import { DnsEndpointSource } from '../sources/dnsendpoints/source.js';
import { StatusReporter } from '../feedback/status-reporter.js';
import type { RebuildEvent } from '../store/zone-store.js';
import type { FlagValues } from './options.js';
import type { SourceWiring } from './source-wiring.js';

export async function kubernetesSourceFromFlags(v: FlagValues, logger: Logger): Promise<SourceWiring> {
  const log = logger.child({ source: 'kubernetes' });
  const source = new DnsEndpointSource({
    ...(v.kubeconfig ? { kubeconfig: v.kubeconfig as string } : {}),
    namespaces: v.namespace as string[],
    ...(v['label-selector'] ? { labelSelector: v['label-selector'] as string } : {}),
    watchIdleTimeoutMs: (v['watch-idle-timeout'] as number) * 1000,
    logger: log,
  });
  const reporter = source.kubeConfig ? new StatusReporter({ directory: source, kubeConfig: source.kubeConfig, logger: log }) : undefined;
  return {
    source,
    onRebuild: (e: RebuildEvent) => {
      if (!reporter) return;
      // Only what this build touched; the reporter works through it off the query path.
      reporter.reportMany([...e.touched].map(([key, t]) => ({ key, generation: t.object.origin.generation, problems: t.problems })));
    },
    stop: async () => {
      await reporter?.stop();
    },
    details: () => {
      const s = source.state;
      return {
        connected: s.connected,
        lastSyncAgeSeconds: s.lastSyncTime ? (Date.now() - s.lastSyncTime) / 1000 : null,
        restarts: s.restarts,
        relists: s.relists,
        ...(s.lastError ? { lastError: s.lastError } : {}),
      };
    },
  };
}
