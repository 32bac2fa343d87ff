/**
 * The gRPC face of crdns: coredns.dns.DnsService/Query plus grpc.health.v1,
 * on TCP (host:port, or :port for every address family) and unix sockets
 * (unix:///path). Query never waits on I/O: it reads the current snapshot
 * or, before the first one exists, fails at once with UNAVAILABLE so CoreDNS
 * moves on to its next upstream.
 */
import * as grpc from '@grpc/grpc-js';
import { chmod } from 'node:fs/promises';
import { answerQuery, type QueryOutcome } from '../dns/answer-query.js';
import type { Snapshot } from '../dns/zone.js';
import { dnsServiceDefinition, healthServiceDefinition, MAX_GRPC_MESSAGE_BYTES } from './protos.js';
import type { HealthState } from './health-service.js';

export interface QueryObserver {
  /** Called after every answered Query with how long the handler took. */
  answered(outcome: QueryOutcome, seconds: number): void;
  /** Called for every Query refused with a gRPC error. */
  unavailable(): void;
}

export interface GrpcServerOptions {
  /** Plain-text addresses: loopback or a unix socket inside the pod. */
  listen: readonly string[];
  /** Addresses (host:port or unix://) served with mutual TLS, for CoreDNS in peer clusters. */
  tlsListen?: readonly string[];
  /**
   * Server certificate, key and the CA client certificates must chain to
   * (every TLS client must present one: mutual TLS). The provider decides
   * when they change, e.g. when rotated files pass its checks.
   */
  certificates?: grpc.experimental.CertificateProvider;
  snapshot: () => Snapshot | undefined;
  health: HealthState;
  observer?: QueryObserver;
}

export const NOT_READY_MESSAGE = 'crdns has not loaded its first complete set of DNSEndpoints yet';

/** An address that could not be bound, with a reason a person can act on. */
export class ListenError extends Error {
  constructor(readonly address: string, readonly reason: string) {
    super(`cannot listen on ${address}: ${reason}`);
  }
}

const BIND_ERRORS: Record<string, string> = {
  EADDRINUSE: 'address already in use',
  EACCES: 'permission denied (a port below 1024 needs privileges)',
  EADDRNOTAVAIL: 'no such local address on this host',
  EAFNOSUPPORT: 'address family not supported on this host',
};

/** grpc-js wraps the socket error in prose ("No address added out of total 1 resolved errors: [...]"); keep the part that matters. */
function bindReason(message: string): { code?: string; reason: string } {
  const code = Object.keys(BIND_ERRORS).find((c) => message.includes(c));
  return code ? { code, reason: BIND_ERRORS[code] as string } : { reason: message };
}

export class GrpcServer {
  private readonly server: grpc.Server;
  private readonly bound: string[] = [];

  constructor(private readonly opts: GrpcServerOptions) {
    this.server = new grpc.Server({
      'grpc.max_receive_message_length': MAX_GRPC_MESSAGE_BYTES,
      'grpc.max_send_message_length': MAX_GRPC_MESSAGE_BYTES,
      // Channelz tracks every call; at DNS rates that is pure overhead (grpc-node PR #1944).
      'grpc.enable_channelz': 0,
      // CoreDNS keeps one long-lived HTTP/2 connection per upstream and sends no keepalive pings of its own.
      'grpc.keepalive_time_ms': 60_000,
      'grpc.keepalive_timeout_ms': 20_000,
    });
    this.server.addService(dnsServiceDefinition(), { Query: this.query });
    this.server.addService(healthServiceDefinition(), opts.health.handlers());
  }

  private readonly query = (call: grpc.ServerUnaryCall<{ msg?: Buffer }, { msg: Buffer }>, cb: grpc.sendUnaryData<{ msg: Buffer }>) => {
    const snapshot = this.opts.snapshot();
    if (!snapshot) {
      this.opts.observer?.unavailable();
      cb({ code: grpc.status.UNAVAILABLE, details: NOT_READY_MESSAGE });
      return;
    }
    const started = process.hrtime.bigint();
    const outcome = answerQuery(snapshot, call.request.msg ?? Buffer.alloc(0));
    this.opts.observer?.answered(outcome, Number(process.hrtime.bigint() - started) / 1e9);
    cb(null, { msg: outcome.reply });
  };

  /**
   * Binds every address; resolves to the bound addresses with real ports (":0" becomes the port chosen).
   * A unix socket path must be free: removing what lies there is the caller's decision, not the server's.
   */
  async start(): Promise<string[]> {
    const plain = grpc.ServerCredentials.createInsecure();
    const binds: [string, grpc.ServerCredentials][] = this.opts.listen.map((a) => [a, plain]);
    if (this.opts.tlsListen && this.opts.tlsListen.length > 0) {
      const certificates = this.opts.certificates;
      if (!certificates) throw new Error('TLS addresses need a certificate, key and client CA');
      const tls = grpc.experimental.createCertificateProviderServerCredentials(certificates, certificates, true);
      // A unix socket may need TLS too: CoreDNS's grpc plugin has one tls setting for all its targets,
      // so with peer clusters over mTLS the local target speaks TLS as well.
      for (const a of this.opts.tlsListen) binds.push([a, tls]);
    }
    for (const [addr, creds] of binds) {
      const unixPath = addr.startsWith('unix://') ? addr.slice('unix://'.length) : undefined;
      const bound = await this.bindOne(addr, creds);
      // CoreDNS usually runs as another user in the pod; the socket lives in a pod-private emptyDir.
      if (unixPath) await chmod(unixPath, 0o666);
      this.bound.push(bound);
    }
    return [...this.bound];
  }

  /**
   * grpc-js resolves an empty host to nothing at all, so ":PORT" is bound as "[::]:PORT", which
   * it listens on dual-stack, or as "0.0.0.0:PORT" on a host without IPv6.
   */
  private async bindOne(addr: string, creds: grpc.ServerCredentials): Promise<string> {
    const wildcard = /^:\d+$/.test(addr);
    const bind = (target: string) =>
      new Promise<string>((resolve, reject) => {
        this.server.bindAsync(target, creds, (err, port) => {
          if (err) return reject(err);
          resolve(target.startsWith('unix://') ? target : target.replace(/:0$/, `:${port}`));
        });
      });
    try {
      return await bind(wildcard ? `[::]${addr}` : addr);
    } catch (err) {
      const first = bindReason((err as Error).message);
      if (wildcard && (first.code === 'EAFNOSUPPORT' || first.code === 'EADDRNOTAVAIL')) {
        try {
          return await bind(`0.0.0.0${addr}`);
        } catch (again) {
          throw new ListenError(addr, bindReason((again as Error).message).reason);
        }
      }
      throw new ListenError(addr, first.reason);
    }
  }

  /** Stops taking calls, lets running ones finish for up to `graceMs`, then cuts the rest. */
  async stop(graceMs = 5000): Promise<void> {
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.server.forceShutdown();
        resolve();
      }, graceMs);
      this.server.tryShutdown(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }
}
