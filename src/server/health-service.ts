/**
 * grpc.health.v1: SERVING once the first snapshot is loaded. The empty
 * service name and "coredns.dns.DnsService" both answer for crdns as a whole.
 * The transport (grpc-server.ts) serves Check and Watch from this state.
 */
import { EventEmitter } from 'node:events';

export const DNS_SERVICE_NAME = 'coredns.dns.DnsService';
const KNOWN = new Set(['', DNS_SERVICE_NAME, 'grpc.health.v1.Health']);

export type HealthStatus = 'SERVING' | 'NOT_SERVING' | 'SERVICE_UNKNOWN';

/** HealthCheckResponse.ServingStatus numbers, as health.proto defines them. */
export const HEALTH_STATUS_NUMBER: Record<HealthStatus, number> = { SERVING: 1, NOT_SERVING: 2, SERVICE_UNKNOWN: 3 };

export class HealthState {
  // One listener per open Watch stream; probes may hold many.
  private readonly changes = new EventEmitter().setMaxListeners(0);
  private serving = false;

  set(serving: boolean): void {
    if (serving === this.serving) return;
    this.serving = serving;
    this.changes.emit('change');
  }

  statusOf(service: string): HealthStatus {
    if (!KNOWN.has(service)) return 'SERVICE_UNKNOWN';
    return this.serving ? 'SERVING' : 'NOT_SERVING';
  }

  /** Calls `listener` after every change of the serving state; returns the unsubscribe. */
  onChange(listener: () => void): () => void {
    this.changes.on('change', listener);
    return () => this.changes.off('change', listener);
  }
}
