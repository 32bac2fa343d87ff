/**
 * The gRPC face of crdns: coredns.dns.DnsService/Query plus grpc.health.v1
 * Check and Watch, on TCP (host:port, or :port for every address family) and
 * unix sockets (unix:///path), plain or with mutual TLS.
 *
 * It speaks gRPC over node:http2 itself rather than through grpc-js: these
 * three methods carry one small protobuf field each, and grpc-js's generic
 * call machinery cost a third of crdns's CPU per query (bench/transport-cost,
 * docs/benchmarks.md). What a gRPC server owes its clients is kept: status
 * codes in trailers, trailers-only errors, the 64 KiB message cap, refusing
 * compressed messages it cannot read, keepalive pings, a graceful stop with
 * GOAWAY, and certificate rotation without a restart.
 *
 * Query never waits on I/O: it reads the current snapshot or, before the
 * first one exists, fails at once with UNAVAILABLE so CoreDNS moves on to its
 * next upstream.
 */
import { lookup } from 'node:dns/promises';
import { chmod } from 'node:fs/promises';
import http2 from 'node:http2';
import { isIP, type AddressInfo, type Server as NetServer, type Socket } from 'node:net';
import { answerQuery, type QueryOutcome } from '../dns/answer-query.js';
import type { Snapshot } from '../dns/zone.js';
import { framedBytesField1, framedEnumField1, ProtobufError, readBytesField1, readStringField1 } from './grpc/protobuf.js';
import { encodeGrpcMessage, Status, type StatusCode } from './grpc/status.js';
import { HEALTH_STATUS_NUMBER, type HealthState, type HealthStatus } from './health-service.js';
import { MAX_GRPC_MESSAGE_BYTES } from './grpc/limits.js';

export interface QueryObserver {
  /** Called after every answered Query with how long the handler took. */
  answered(outcome: QueryOutcome, seconds: number): void;
  /** Called for every Query refused with a gRPC error. */
  unavailable(): void;
}

/** PEM server certificate chain, its key, and the CA bundle client certificates must chain to. */
export interface TlsMaterial {
  cert: Buffer;
  key: Buffer;
  ca: Buffer;
}

/** Where the TLS files come from; it decides when they change, e.g. when rotated files pass its checks. */
export interface TlsMaterialSource {
  current(): TlsMaterial;
  /** Calls `listener` with each new set; returns the unsubscribe. */
  onChange(listener: (m: TlsMaterial) => void): () => void;
}

export interface GrpcServerOptions {
  /** Plain-text addresses: loopback or a unix socket inside the pod. */
  listen: readonly string[];
  /** Addresses (host:port or unix://) served with mutual TLS, for CoreDNS in peer clusters. */
  tlsListen?: readonly string[];
  /** Every TLS client must present a certificate that chains to its CA (mutual TLS). */
  certificates?: TlsMaterialSource;
  snapshot: () => Snapshot | undefined;
  health: HealthState;
  observer?: QueryObserver;
  /** How often an idle or busy connection is pinged, and how long a ping may go unanswered (defaults 60 s, 20 s). */
  keepalive?: { timeMs: number; timeoutMs: number };
  /** How long a request message may take to arrive once its first bytes have (default 10 s). */
  receiveTimeoutMs?: number;
}

export const NOT_READY_MESSAGE = 'crdns has not loaded its first complete set of DNSEndpoints yet';

/** An address that could not be bound, with a reason a person can act on. */
export class ListenError extends Error {
  constructor(readonly address: string, readonly reason: string, readonly code?: string) {
    super(`cannot listen on ${address}: ${reason}`);
  }
}

const BIND_ERRORS: Record<string, string> = {
  EADDRINUSE: 'address already in use',
  EACCES: 'permission denied (a port below 1024 needs privileges)',
  EADDRNOTAVAIL: 'no such local address on this host',
  EAFNOSUPPORT: 'address family not supported on this host',
  ENOTFOUND: 'the host name does not resolve',
};

const QUERY_PATH = '/coredns.dns.DnsService/Query';
const CHECK_PATH = '/grpc.health.v1.Health/Check';
const WATCH_PATH = '/grpc.health.v1.Health/Watch';
/** application/grpc, optionally +proto or ;params; not application/grpc-web, a different protocol. */
const GRPC_CONTENT_TYPE = /^application\/grpc(?:$|[+;])/;
/** How long a request message may take to arrive once it began; checked every tenth of that. */
const RECEIVE_TIMEOUT_MS = 10_000;

/** CoreDNS keeps one long-lived HTTP/2 connection per upstream and sends no keepalive pings of its own. */
const KEEPALIVE_TIME_MS = 60_000;
const KEEPALIVE_TIMEOUT_MS = 20_000;

const HTTP2_OPTIONS: http2.ServerOptions = {
  // Node's default (10 MB) answers ENHANCE_YOUR_CALM to a busy but honest CoreDNS; this still bounds a hostile one.
  maxSessionMemory: 64,
  // Node's default is 2^32 - 1. CoreDNS has one call open per query in flight; several thousand
  // is far above what it reaches, and bounds the health watches one connection can hold.
  settings: { maxConcurrentStreams: 4096 },
};

// Reused for every reply: node copies header objects before encoding them.
const OK_HEADERS = { ':status': 200, 'content-type': 'application/grpc', 'grpc-accept-encoding': 'identity' };
const OK_TRAILERS = { 'grpc-status': '0' };
const WAIT_FOR_TRAILERS = { waitForTrailers: true };
const STOPPING = { code: Status.UNAVAILABLE, message: 'crdns is stopping' };

type Handler = (server: GrpcServer, stream: http2.ServerHttp2Stream, message: Buffer) => void;

function ignore(): void {}

function sendOkTrailers(this: http2.ServerHttp2Stream): void {
  this.sendTrailers(OK_TRAILERS);
}

function statusHeaders(code: StatusCode, message: string): http2.OutgoingHttpHeaders {
  return { 'grpc-status': String(code), 'grpc-message': encodeGrpcMessage(message) };
}

/** A call's end in failure: trailers-only when nothing was sent yet, else trailers after the messages. */
function fail(stream: http2.ServerHttp2Stream, code: StatusCode, message: string): void {
  // Once ended, its status is on its way: a second one would throw (trailers sent twice).
  if (stream.destroyed || stream.closed || stream.writableEnded) return;
  if (!stream.headersSent) {
    stream.respond({ ':status': 200, 'content-type': 'application/grpc', ...statusHeaders(code, message) }, { endStream: true });
  } else {
    stream.once('wantTrailers', () => stream.sendTrailers(statusHeaders(code, message)));
    stream.end();
  }
}

/** What a client sent, quoted in a status message: bounded, so an echo cannot outgrow the header limit and cost the connection. */
function quoted(text: string): string {
  return JSON.stringify(text.length > ECHO_MAX_CHARS ? `${text.slice(0, ECHO_MAX_CHARS)}…` : text);
}

const ECHO_MAX_CHARS = 200;

function replyOk(stream: http2.ServerHttp2Stream, body: Buffer): void {
  if (stream.destroyed || stream.closed) return;
  stream.respond(OK_HEADERS, WAIT_FOR_TRAILERS);
  stream.on('wantTrailers', sendOkTrailers);
  stream.end(body);
}

/**
 * Collects one length-prefixed request message from a stream's DATA frames
 * and hands it to the method's handler once the client half-closes. State
 * lives on this object, and the listeners are shared functions, so a call
 * costs no closures.
 *
 * The usual request comes in one DATA frame and is used as it came. Any other
 * is copied into one buffer of the size its prefix declares (at most 64 KiB),
 * so a client that sends a message a byte per frame costs a copy per byte, not
 * a list of frames; while incomplete, the reader is watched by the server's
 * receive deadline (GrpcServer.sweep), so a client that never finishes its
 * message cannot keep that buffer.
 */
class RequestReader {
  /** The first 5 bytes, while fewer have come. */
  private prefix: Buffer | undefined;
  /** The whole message with its prefix, once its length is known. */
  private body: Buffer | undefined;
  private got = 0;
  private done = false;
  /** When the message began to arrive in pieces; 0 while it is not in pieces. */
  startedAt = 0;

  constructor(private readonly server: GrpcServer, readonly stream: http2.ServerHttp2Stream, private readonly handler: Handler) {}

  static onData(this: http2.ServerHttp2Stream & { reader: RequestReader }, chunk: Buffer): void {
    this.reader.add(chunk);
  }

  static onEnd(this: http2.ServerHttp2Stream & { reader: RequestReader }): void {
    this.reader.finish();
  }

  static onClose(this: http2.ServerHttp2Stream & { reader: RequestReader }): void {
    this.reader.release();
  }

  private add(chunk: Buffer): void {
    if (this.done) return;
    let rest = chunk;
    if (this.body === undefined) {
      if (this.got === 0 && chunk.length >= 5) {
        const declared = chunk.readUInt32BE(1);
        if (!this.acceptable(declared)) return;
        if (chunk.length === 5 + declared) {
          this.body = chunk;
          this.got = chunk.length;
          return;
        }
        this.begin(Buffer.allocUnsafe(5 + declared));
      } else {
        const prefix = (this.prefix ??= Buffer.alloc(5));
        const n = chunk.copy(prefix, this.got);
        this.got += n;
        rest = chunk.subarray(n);
        if (this.got < 5) return;
        const declared = prefix.readUInt32BE(1);
        if (!this.acceptable(declared)) return;
        prefix.copy(this.begin(Buffer.allocUnsafe(5 + declared)), 0);
        this.prefix = undefined;
      }
    }
    const body = this.body as Buffer;
    if (this.got + rest.length > body.length) {
      // A unary call holds one message: bytes past it are refused, not buffered.
      this.end(Status.INTERNAL, 'more than one request message in a unary call');
      return;
    }
    this.got += rest.copy(body, this.got);
  }

  /** Whether a message of `declared` bytes may be received; refuses the call if not. */
  private acceptable(declared: number): boolean {
    if (declared <= MAX_GRPC_MESSAGE_BYTES) return true;
    this.end(Status.RESOURCE_EXHAUSTED, `request message of ${declared} bytes is over the limit of ${MAX_GRPC_MESSAGE_BYTES}`);
    return false;
  }

  /** The message arrives in pieces: into `body` (the `got` bytes so far go first), under the receive deadline. */
  private begin(body: Buffer): Buffer {
    this.body = body;
    this.startedAt = performance.now();
    this.server.partial.add(this);
    this.stream.once('close', RequestReader.onClose);
    return body;
  }

  /** Ends the call with `code` before its message is complete, and tells the client to stop sending the rest. */
  end(code: StatusCode, message: string): void {
    this.release();
    this.done = true;
    fail(this.stream, code, message);
    // The reply is complete; RST_STREAM(NO_ERROR) tells the client to stop sending the rest (RFC 9113 8.1).
    this.stream.close(http2.constants.NGHTTP2_NO_ERROR);
  }

  private release(): void {
    this.prefix = this.body = undefined;
    if (this.startedAt !== 0) this.server.partial.delete(this);
    this.startedAt = 0;
  }

  private finish(): void {
    if (this.done) return;
    this.done = true;
    const body = this.body;
    const got = this.got;
    this.release();
    if (body === undefined) {
      fail(this.stream, Status.INTERNAL, got === 0 ? 'the call carried no request message' : 'truncated gRPC message prefix');
      return;
    }
    if (got < body.length) {
      fail(this.stream, Status.INTERNAL, 'truncated request message');
      return;
    }
    if (body[0] !== 0) {
      // Flag 1 is a compressed message we cannot read; any other value is not gRPC.
      if (body[0] === 1) fail(this.stream, Status.UNIMPLEMENTED, 'compressed messages are not supported; send with grpc-encoding identity');
      else fail(this.stream, Status.INTERNAL, `invalid compressed flag ${body[0]} in the message prefix`);
      return;
    }
    try {
      this.handler(this.server, this.stream, body.subarray(5));
    } catch (err) {
      // A bug in a handler fails its call, never the process.
      fail(this.stream, Status.INTERNAL, `crdns failed to handle the call: ${(err as Error).message}`);
    }
  }
}

function handleQuery(server: GrpcServer, stream: http2.ServerHttp2Stream, message: Buffer): void {
  server.answer(stream, message);
}

function handleCheck(server: GrpcServer, stream: http2.ServerHttp2Stream, message: Buffer): void {
  const service = decodeOrFail(stream, message, 'grpc.health.v1.HealthCheckRequest');
  if (service === undefined) return;
  const status = server.health.statusOf(service);
  if (status === 'SERVICE_UNKNOWN') fail(stream, Status.NOT_FOUND, `unknown service ${quoted(service)}`);
  else replyOk(stream, framedEnumField1(HEALTH_STATUS_NUMBER[status]));
}

function handleWatch(server: GrpcServer, stream: http2.ServerHttp2Stream, message: Buffer): void {
  const service = decodeOrFail(stream, message, 'grpc.health.v1.HealthCheckRequest');
  if (service !== undefined) server.watch(stream, service);
}

function decodeOrFail(stream: http2.ServerHttp2Stream, message: Buffer, type: string): string | undefined {
  try {
    return readStringField1(message);
  } catch (err) {
    fail(stream, Status.INTERNAL, `the request does not parse as ${type}: ${(err as Error).message}`);
    return undefined;
  }
}

const HANDLERS: Record<string, Handler> = { [QUERY_PATH]: handleQuery, [CHECK_PATH]: handleCheck, [WATCH_PATH]: handleWatch };

interface Endpoint {
  text: string;
  tls: boolean;
}

export class GrpcServer {
  private readonly servers: NetServer[] = [];
  private readonly sessions = new Set<http2.ServerHttp2Session>();
  private readonly watches = new Set<http2.ServerHttp2Stream>();
  private readonly unsubscribe: Array<() => void> = [];
  /** Every accepted connection's socket, TLS handshakes still under way included: what a stop cuts at its deadline. */
  private readonly sockets = new Set<Socket>();
  /** Calls whose request message is arriving in pieces (RequestReader.begin). */
  readonly partial = new Set<RequestReader>();
  private sweeper: NodeJS.Timeout | undefined;
  private stopped: Promise<void> | undefined;
  private stopping = false;
  readonly health: HealthState;

  constructor(private readonly opts: GrpcServerOptions) {
    this.health = opts.health;
  }

  /** Query's work: the hot path, so no closure and no spread per call. */
  answer(stream: http2.ServerHttp2Stream, message: Buffer): void {
    const snapshot = this.opts.snapshot();
    if (!snapshot) {
      this.opts.observer?.unavailable();
      fail(stream, Status.UNAVAILABLE, NOT_READY_MESSAGE);
      return;
    }
    let wire: Buffer;
    try {
      wire = readBytesField1(message);
    } catch (err) {
      fail(stream, Status.INTERNAL, `the request does not parse as coredns.dns.DnsPacket: ${(err as ProtobufError).message}`);
      return;
    }
    // performance.now() returns a double; hrtime.bigint() would allocate two BigInts per query.
    const started = performance.now();
    const outcome = answerQuery(snapshot, wire);
    this.opts.observer?.answered(outcome, (performance.now() - started) / 1000);
    replyOk(stream, framedBytesField1(outcome.reply));
  }

  /** A Watch stream: the status now, then each change, until the client goes or the server stops. */
  watch(stream: http2.ServerHttp2Stream, service: string): void {
    if (stream.destroyed || stream.closed) return;
    if (this.stopping) {
      fail(stream, STOPPING.code, STOPPING.message);
      return;
    }
    let last: HealthStatus | undefined;
    const send = () => {
      const status = this.health.statusOf(service);
      if (status === last || stream.destroyed || stream.closed || stream.writableEnded) return;
      last = status;
      stream.write(framedEnumField1(HEALTH_STATUS_NUMBER[status]));
    };
    stream.respond(OK_HEADERS, WAIT_FOR_TRAILERS);
    send();
    const off = this.health.onChange(send);
    this.watches.add(stream);
    stream.on('close', () => {
      off();
      this.watches.delete(stream);
    });
  }

  /**
   * Binds every address; resolves to the bound addresses with real ports (":0" becomes the port chosen).
   * A unix socket path must be free: removing what lies there is the caller's decision, not the server's.
   */
  async start(): Promise<string[]> {
    const endpoints: Endpoint[] = this.opts.listen.map((text) => ({ text, tls: false }));
    if (this.opts.tlsListen && this.opts.tlsListen.length > 0) {
      if (!this.opts.certificates) throw new Error('TLS addresses need a certificate, key and client CA');
      // A unix socket may need TLS too: CoreDNS's grpc plugin has one tls setting for all its targets,
      // so with peer clusters over mTLS the local target speaks TLS as well.
      for (const text of this.opts.tlsListen) endpoints.push({ text, tls: true });
    }
    const bound: string[] = [];
    for (const e of endpoints) bound.push(await this.bind(e));
    this.sweeper = setInterval(() => this.sweep(), this.receiveTimeoutMs / 10);
    this.sweeper.unref();
    return bound;
  }

  /** The receive deadline: a request message still incomplete receiveTimeoutMs after it began is refused. */
  private sweep(): void {
    const now = performance.now();
    for (const r of this.partial) {
      if (now - r.startedAt > this.receiveTimeoutMs) r.end(Status.DEADLINE_EXCEEDED, `the request message did not arrive within ${this.receiveTimeoutMs / 1000} s`);
    }
  }

  private get receiveTimeoutMs(): number {
    return this.opts.receiveTimeoutMs ?? RECEIVE_TIMEOUT_MS;
  }

  private http2Server(tls: boolean): http2.Http2Server | http2.Http2SecureServer {
    let server: http2.Http2Server | http2.Http2SecureServer;
    if (tls) {
      const source = this.opts.certificates as TlsMaterialSource;
      const { cert, key, ca } = source.current();
      const secure = http2.createSecureServer({ ...HTTP2_OPTIONS, cert, key, ca, requestCert: true, rejectUnauthorized: true, minVersion: 'TLSv1.2' });
      // A throw here (Node refusing the new context) reaches the source, which logs it; the last context keeps serving.
      this.unsubscribe.push(source.onChange((m) => secure.setSecureContext({ cert: m.cert, key: m.key, ca: m.ca, minVersion: 'TLSv1.2' })));
      // A refused handshake (no or untrusted client certificate) is the client's problem, not a server error.
      secure.on('tlsClientError', ignore);
      server = secure;
    } else {
      server = http2.createServer(HTTP2_OPTIONS);
    }
    server.on('stream', (stream, headers) => this.onStream(stream, headers));
    server.on('session', (session) => this.track(session));
    server.on('connection', (socket: Socket) => {
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
    });
    server.on('sessionError', ignore);
    return server;
  }

  private onStream(stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders): void {
    // A reset or a vanished client surfaces here; the call is over, nothing to report.
    stream.on('error', ignore);
    const contentType = headers['content-type'];
    if (headers[':method'] !== 'POST' || typeof contentType !== 'string' || !GRPC_CONTENT_TYPE.test(contentType)) {
      // Not gRPC at all: plain HTTP status, as the gRPC spec asks of a server.
      stream.respond({ ':status': headers[':method'] !== 'POST' ? 405 : 415 }, { endStream: true });
      return;
    }
    const handler = HANDLERS[headers[':path'] as string];
    if (!handler) {
      fail(stream, Status.UNIMPLEMENTED, `crdns does not implement ${quoted(String(headers[':path']))}`);
      stream.close(http2.constants.NGHTTP2_NO_ERROR);
      return;
    }
    const s = stream as http2.ServerHttp2Stream & { reader: RequestReader };
    s.reader = new RequestReader(this, stream, handler);
    stream.on('data', RequestReader.onData);
    stream.on('end', RequestReader.onEnd);
  }

  /** Keepalive: a ping every minute, and a connection that does not answer within 20 s is closed. */
  private track(session: http2.ServerHttp2Session): void {
    this.sessions.add(session);
    session.on('error', ignore);
    if (this.stopping) session.close();
    const { timeMs, timeoutMs } = this.opts.keepalive ?? { timeMs: KEEPALIVE_TIME_MS, timeoutMs: KEEPALIVE_TIMEOUT_MS };
    const timer = setInterval(() => {
      if (session.destroyed) return;
      const deadline = setTimeout(() => session.destroy(), timeoutMs);
      deadline.unref();
      const sent = session.ping((err) => {
        clearTimeout(deadline);
        if (err && !session.destroyed) session.destroy();
      });
      if (!sent) clearTimeout(deadline);
    }, timeMs);
    timer.unref();
    session.on('close', () => {
      clearInterval(timer);
      this.sessions.delete(session);
    });
  }

  private async bind(e: Endpoint): Promise<string> {
    const { text } = e;
    if (text.startsWith('unix://')) {
      const path = text.slice('unix://'.length);
      await this.listen(e, { path });
      // CoreDNS usually runs as another user in the pod; the socket lives in a pod-private emptyDir.
      await chmod(path, 0o666);
      return text;
    }
    const m = /^(?:\[([^\]]*)\]|([^:[\]]*)):(\d+)$/.exec(text);
    if (!m) throw new ListenError(text, 'not host:port, [IPv6]:port, :port or unix:///path');
    const host = m[1] ?? m[2] ?? '';
    let port = Number(m[3]);
    if (host === '') {
      // ":PORT" is every address family: dual-stack "::" where the host has IPv6, else 0.0.0.0.
      try {
        port = await this.listen(e, { host: '::', port, ipv6Only: false });
        return `[::]:${port}`;
      } catch (err) {
        if (!(err instanceof ListenError && (err.code === 'EAFNOSUPPORT' || err.code === 'EADDRNOTAVAIL'))) throw err;
        port = await this.listen(e, { host: '0.0.0.0', port });
        return `0.0.0.0:${port}`;
      }
    }
    // A host name listens on every address it resolves to, all on the same port.
    const addresses = isIP(host) ? [host] : await lookup(host, { all: true }).then((r) => r.map((a) => a.address)).catch((err: NodeJS.ErrnoException) => {
      throw new ListenError(text, BIND_ERRORS[err.code ?? ''] ?? err.message);
    });
    for (const address of addresses) port = await this.listen(e, { host: address, port });
    return m[1] !== undefined ? `[${host}]:${port}` : `${host}:${port}`;
  }

  /** Starts one listener; resolves to the port it got. */
  private listen(e: Endpoint, options: { path: string } | { host: string; port: number; ipv6Only?: boolean }): Promise<number> {
    const server = this.http2Server(e.tls);
    return new Promise<number>((resolve, reject) => {
      const failed = (err: NodeJS.ErrnoException) => reject(new ListenError(e.text, BIND_ERRORS[err.code ?? ''] ?? err.message, err.code));
      server.once('error', failed);
      server.listen(options, () => {
        server.off('error', failed);
        this.servers.push(server);
        const address = server.address();
        resolve(typeof address === 'object' && address !== null ? (address as AddressInfo).port : 0);
      });
    });
  }

  /**
   * Stops taking connections and sends every client GOAWAY; calls running
   * finish for up to `graceMs`, then the rest are cut. Health watches end at
   * once with UNAVAILABLE (after NOT_SERVING, which the caller sets first).
   */
  stop(graceMs = 5000): Promise<void> {
    this.stopped ??= this.stopNow(graceMs);
    return this.stopped;
  }

  private async stopNow(graceMs: number): Promise<void> {
    this.stopping = true;
    if (this.sweeper) clearInterval(this.sweeper);
    for (const off of this.unsubscribe.splice(0)) off();
    const closed = this.servers.splice(0).map((s) => new Promise<void>((resolve) => s.close(() => resolve())));
    for (const w of this.watches) fail(w, STOPPING.code, STOPPING.message);
    for (const s of this.sessions) if (!s.closed) s.close();
    const drained = new Promise<void>((resolve) => {
      const check = setInterval(() => {
        if (this.sessions.size === 0 && this.sockets.size === 0) {
          clearInterval(check);
          clearTimeout(cut);
          resolve();
        }
      }, 10);
      const cut = setTimeout(() => {
        clearInterval(check);
        // A session told GOAWAY waits for its peer to close; a peer that never does, or a TLS handshake
        // that never finishes, is no session at all: their sockets are what is cut.
        for (const s of this.sessions) s.destroy();
        for (const socket of this.sockets) socket.destroy();
        resolve();
      }, graceMs);
    });
    await drained;
    await Promise.all(closed);
  }
}
