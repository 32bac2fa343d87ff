/**
 * The gRPC face of crdns: coredns.dns.DnsService/Query plus grpc.health.v1,
 * on TCP (host:port) and unix sockets (unix:///path). Query never waits on
 * I/O: it reads the current snapshot or, before the first one exists, fails
 * at once with UNAVAILABLE so CoreDNS moves on to its next upstream.
 */
import * as grpc from '@grpc/grpc-js';
import { chmod, rm } from 'node:fs/promises';
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

export interface TlsFiles {
  cert: string;
  key: string;
  /** CA that client certificates must chain to: every TLS client must present one (mutual TLS). */
  clientCa: string;
}

export interface GrpcServerOptions {
  /** Plain-text addresses: loopback or a unix socket inside the pod. */
  listen: readonly string[];
  /** Addresses (host:port or unix://) served with mutual TLS, for CoreDNS in peer clusters. */
  tlsListen?: readonly string[];
  tls?: TlsFiles;
  snapshot: () => Snapshot | undefined;
  health: HealthState;
  observer?: QueryObserver;
}

export const NOT_READY_MESSAGE = 'crdns has not loaded its first complete set of DNSEndpoints yet';

export class GrpcServer {
  private readonly server: grpc.Server;
  private readonly bound: string[] = [];
  private certificates: grpc.experimental.FileWatcherCertificateProvider | undefined;

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

  /** Binds every address; resolves to the bound addresses with real ports (":0" becomes the port chosen). */
  async start(): Promise<string[]> {
    const plain = grpc.ServerCredentials.createInsecure();
    const binds: [string, grpc.ServerCredentials][] = this.opts.listen.map((a) => [a, plain]);
    if (this.opts.tlsListen && this.opts.tlsListen.length > 0) {
      const files = this.opts.tls;
      if (!files) throw new Error('TLS addresses need a certificate, key and client CA');
      // Files are re-read every minute, so a certificate rotated by cert-manager is picked up without a restart.
      this.certificates = new grpc.experimental.FileWatcherCertificateProvider({
        certificateFile: files.cert,
        privateKeyFile: files.key,
        caCertificateFile: files.clientCa,
        refreshIntervalMs: 60_000,
      });
      const tls = grpc.experimental.createCertificateProviderServerCredentials(this.certificates, this.certificates, true);
      // A unix socket may need TLS too: CoreDNS's grpc plugin has one tls setting for all its targets,
      // so with peer clusters over mTLS the local target speaks TLS as well.
      for (const a of this.opts.tlsListen) binds.push([a, tls]);
    }
    for (const [addr, creds] of binds) {
      const unixPath = addr.startsWith('unix://') ? addr.slice('unix://'.length) : undefined;
      // A socket file left by a killed predecessor would make the bind fail.
      if (unixPath) await rm(unixPath, { force: true });
      const port = await new Promise<number>((resolve, reject) => {
        this.server.bindAsync(addr, creds, (err, p) => (err ? reject(new Error(`cannot listen on ${addr}: ${err.message}`)) : resolve(p)));
      });
      // CoreDNS usually runs as another user in the pod; the socket lives in a pod-private emptyDir.
      if (unixPath) await chmod(unixPath, 0o666);
      this.bound.push(unixPath ? addr : addr.replace(/:0$/, `:${port}`));
    }
    return [...this.bound];
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
