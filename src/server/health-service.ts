/**
 * grpc.health.v1: SERVING once the first snapshot is loaded. The empty
 * service name and "coredns.dns.DnsService" both answer for crdns as a whole.
 */
import * as grpc from '@grpc/grpc-js';
import { EventEmitter } from 'node:events';

export const DNS_SERVICE_NAME = 'coredns.dns.DnsService';
const KNOWN = new Set(['', DNS_SERVICE_NAME, 'grpc.health.v1.Health']);

type Status = 'SERVING' | 'NOT_SERVING' | 'SERVICE_UNKNOWN';

export class HealthState {
  // One listener per open Watch stream; probes may hold many.
  private readonly changes = new EventEmitter().setMaxListeners(0);
  private serving = false;

  set(serving: boolean): void {
    if (serving === this.serving) return;
    this.serving = serving;
    this.changes.emit('change');
  }

  statusOf(service: string): Status {
    if (!KNOWN.has(service)) return 'SERVICE_UNKNOWN';
    return this.serving ? 'SERVING' : 'NOT_SERVING';
  }

  handlers(): grpc.UntypedServiceImplementation {
    return {
      Check: (call: grpc.ServerUnaryCall<{ service: string }, unknown>, cb: grpc.sendUnaryData<unknown>) => {
        const status = this.statusOf(call.request.service);
        if (status === 'SERVICE_UNKNOWN') cb({ code: grpc.status.NOT_FOUND, details: `unknown service "${call.request.service}"` });
        else cb(null, { status });
      },
      Watch: (call: grpc.ServerWritableStream<{ service: string }, unknown>) => {
        let last: Status | undefined;
        const send = () => {
          const status = this.statusOf(call.request.service);
          if (status !== last) {
            last = status;
            call.write({ status });
          }
        };
        send();
        this.changes.on('change', send);
        call.on('cancelled', () => this.changes.off('change', send));
        call.on('close', () => this.changes.off('change', send));
      },
    };
  }
}
