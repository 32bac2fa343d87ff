/**
 * A peer cluster's Services and Ingresses: the workload source pointed at the
 * peer's API server with its read-only kubeconfig, followed through rotations
 * as peer-cluster.ts does for the peer's DNSEndpoints. Whether the peer is
 * lost is judged by its DNSEndpoint watch (the same API server), not here.
 */
import type { EndpointSink } from '../../endpoint/endpoint.js';
import { silentLogger, type Logger } from '../../logger.js';
import { WorkloadSource, type WorkloadKind, type WorkloadSourceOptions } from '../services/workload-source.js';
import { KubeconfigFollower } from './kubeconfig-follower.js';

export interface PeerWorkloadsOptions {
  kubeconfigPath: string;
  /** Everything but the credentials, for each source made. */
  source: Omit<WorkloadSourceOptions, 'kubeconfig' | 'kubeConfig' | 'listWatchFactory' | 'onAnnotationProblems'>;
  sinks: Partial<Record<WorkloadKind, EndpointSink>>;
  /** How often the kubeconfig file is checked. Default 5 s. */
  reloadCheckMs?: number;
  logger?: Logger;
}

export class PeerWorkloads {
  private readonly credentials: KubeconfigFollower<WorkloadSource>;

  constructor(options: PeerWorkloadsOptions) {
    const logger = options.logger ?? silentLogger;
    this.credentials = new KubeconfigFollower({
      path: options.kubeconfigPath,
      make: () => new WorkloadSource({ ...options.source, kubeconfig: options.kubeconfigPath, logger }),
      start: (source) => source.start(options.sinks),
      what: 'Services and Ingresses',
      logger,
      ...(options.reloadCheckMs !== undefined ? { checkMs: options.reloadCheckMs } : {}),
    });
  }

  /** Throws on an unusable kubeconfig; never waits for the peer. */
  start(): Promise<void> {
    return this.credentials.start();
  }

  stop(): Promise<void> {
    return this.credentials.stop();
  }

  get connected(): boolean {
    return this.credentials.source?.connected ?? false;
  }

  get credentialReloads(): number {
    return this.credentials.reloads;
  }
}
