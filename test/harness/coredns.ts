/**
 * Stock CoreDNS for integration tests: start it on loopback ports with one of
 * the committed Corefiles (corefiles/*.Corefile, configured through {$ENV}) or
 * with a Corefile written by the test, wait until it answers, stop it. Also
 * the clients the tests talk to it with: `dig` (a real, independent DNS
 * client, parsed), and raw UDP/TCP exchanges for load loops and wire-level
 * comparisons.
 *
 * The committed Corefiles read these variables; startCoreDNS always sets the
 * first five to loopback values with fresh ports, the caller adds the rest:
 *   COREDNS_PORT, COREDNS_BIND, COREDNS_HEALTH, COREDNS_READY, COREDNS_METRICS
 *   CRDNS_SOCKET                                (all Corefiles)
 *   COREDNS_PEER_1, COREDNS_PEER_2, COREDNS_TLS_CERT, COREDNS_TLS_KEY,
 *   COREDNS_TLS_CA, COREDNS_TLS_SERVERNAME       (multi-cluster.Corefile)
 *   COREDNS_DNSSEC_ZONE, COREDNS_DNSSEC_KEY      (dnssec.Corefile)
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createConnection, isIPv6 } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { peerBin, repoRoot, requireTool } from './peers.js';
import { freePort } from './ports.js';

const HOST = '127.0.0.1';

/** Path of a committed Corefile, e.g. corefile('single-cluster'). */
export function corefile(name: 'single-cluster' | 'multi-cluster' | 'dnssec'): string {
  return path.join(repoRoot(), 'corefiles', `${name}.Corefile`);
}

export interface CorednsOptions {
  /** A Corefile on disk (loaded unchanged) ... */
  corefile?: string;
  /** ... or the text of one, written to a temp file. */
  corefileText?: string;
  /** Extra environment, typically CRDNS_SOCKET and friends. */
  env?: Record<string, string>;
  /** Until it answers DNS (default 30 s). */
  timeoutMs?: number;
}

export interface CorednsProcess {
  host: string;
  /** UDP and TCP port of the DNS listener. */
  port: number;
  /** host:port of /health, /ready and /metrics (only when the Corefile uses them). */
  health: string;
  ready: string;
  metrics: string;
  /** The environment CoreDNS was started with (the variables set here). */
  env: Record<string, string>;
  child: ChildProcess;
  logs(): string;
  /** Prometheus text from /metrics. */
  scrape(): Promise<string>;
  /** SIGKILL: nothing to clean up, and it skips the 5 s health lameduck of the Corefiles. */
  stop(): Promise<void>;
  /** SIGTERM and wait (lameduck included). */
  stopGracefully(): Promise<void>;
}

export async function startCoreDNS(opts: CorednsOptions): Promise<CorednsProcess> {
  // Ports are picked before CoreDNS binds them; another process can win the
  // race, so a start that fails with "address already in use" is retried.
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(opts);
    } catch (err) {
      if (attempt >= 3 || !/address already in use/i.test((err as Error).message)) throw err;
    }
  }
}

async function startOnce(opts: CorednsOptions): Promise<CorednsProcess> {
  const bin = peerBin('coredns');
  let tempDir: string | undefined;
  let conf = opts.corefile;
  if (opts.corefileText !== undefined) {
    tempDir = await mkdtemp(path.join(tmpdir(), 'crdns-coredns-'));
    conf = path.join(tempDir, 'Corefile');
    await writeFile(conf, opts.corefileText);
  }
  if (conf === undefined) throw new Error('startCoreDNS needs corefile or corefileText');

  const port = await freePort();
  const [health, ready, metrics] = [`${HOST}:${await freePort()}`, `${HOST}:${await freePort()}`, `${HOST}:${await freePort()}`];
  const env: Record<string, string> = {
    COREDNS_PORT: String(port),
    COREDNS_BIND: HOST,
    COREDNS_HEALTH: health,
    COREDNS_READY: ready,
    COREDNS_METRICS: metrics,
    ...opts.env,
  };
  // cwd is the Corefile's folder so that relative paths in a test's Corefile work.
  const child = spawn(bin, ['-conf', conf], { cwd: path.dirname(conf), env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  child.stdout?.on('data', (d: Buffer) => (log += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (log += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const alive = () => child.exitCode === null && child.signalCode === null;
  const cleanup = async () => {
    if (tempDir) await rm(tempDir, { recursive: true, force: true });
  };

  const proc: CorednsProcess = {
    host: HOST,
    port,
    health,
    ready,
    metrics,
    env,
    child,
    logs: () => log,
    scrape: async () => {
      const res = await fetch(`http://${metrics}/metrics`);
      return res.text();
    },
    stop: async () => {
      if (alive()) child.kill('SIGKILL');
      await exited;
      await cleanup();
    },
    stopGracefully: async () => {
      if (alive()) child.kill('SIGTERM');
      await exited;
      await cleanup();
    },
  };

  const deadline = Date.now() + (opts.timeoutMs ?? 30000);
  try {
    await waitAnswering(proc, deadline, alive);
  } catch (err) {
    await proc.stop();
    throw new Error(`${(err as Error).message}\n--- CoreDNS output (${conf}) ---\n${log}`);
  }
  return proc;
}

/**
 * Ready when a UDP and a TCP query both get any DNS reply. /ready is not
 * enough on its own (it does not cover the listeners, and Corefiles written
 * by tests may not have it). The probe name is under .invalid, which crdns
 * refuses and CoreDNS does not cache.
 */
async function waitAnswering(proc: CorednsProcess, deadline: number, alive: () => boolean): Promise<void> {
  const probe = encodeQuery({ name: 'coredns-probe.invalid', type: 1, id: 4242, edns: false });
  let last = 'no attempt';
  for (;;) {
    if (!alive()) throw new Error(`CoreDNS exited (${proc.child.exitCode ?? proc.child.signalCode}) before answering`);
    try {
      await udpExchange(proc.port, probe, 500);
      await tcpExchange(proc.port, probe, 1000);
      return;
    } catch (err) {
      last = (err as Error).message;
    }
    if (Date.now() > deadline) throw new Error(`CoreDNS on ${HOST}:${proc.port} did not answer in time (last: ${last})`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

// ---- raw DNS over UDP and TCP --------------------------------------------------------------

export interface RawQuery {
  name: string;
  type: number;
  id?: number;
  /** Add an OPT record (default true). */
  edns?: boolean;
  udpSize?: number;
  /** DNSSEC OK bit (needs edns). */
  do?: boolean;
  rd?: boolean;
}

/** A DNS query in wire form; just enough for the tests' needs (one question, class IN). */
export function encodeQuery(q: RawQuery): Buffer {
  const labels = q.name.replace(/\.$/, '').split('.').filter((l) => l !== '');
  const name = Buffer.concat([...labels.map((l) => Buffer.concat([Buffer.from([Buffer.byteLength(l)]), Buffer.from(l)])), Buffer.from([0])]);
  const edns = q.edns ?? true;
  const header = Buffer.alloc(12);
  header.writeUInt16BE(q.id ?? Math.floor(Math.random() * 65536), 0);
  header.writeUInt16BE(q.rd ? 0x0100 : 0, 2);
  header.writeUInt16BE(1, 4);
  header.writeUInt16BE(edns ? 1 : 0, 10);
  const tail = Buffer.alloc(4);
  tail.writeUInt16BE(q.type, 0);
  tail.writeUInt16BE(1, 2);
  const parts = [header, name, tail];
  if (edns) {
    const opt = Buffer.alloc(11);
    opt.writeUInt8(0, 0); // root owner
    opt.writeUInt16BE(41, 1);
    opt.writeUInt16BE(q.udpSize ?? 1232, 3);
    opt.writeUInt32BE(q.do ? 0x8000 : 0, 5); // ext-rcode 0, version 0, DO flag
    opt.writeUInt16BE(0, 9);
    parts.push(opt);
  }
  return Buffer.concat(parts);
}

/**
 * Sends one query over UDP from a fresh socket and resolves with the first reply carrying the
 * same ID. With `strictSource`, a reply counts only from
 * host:port, as dig and stub resolvers accept it: a reply that lost its NAT on the way (a
 * Service's conntrack entry deleted while the query was in flight) is then a timeout.
 */
export function udpExchange(port: number, query: Buffer, timeoutMs: number, host = HOST, strictSource = false): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const sock = createSocket(isIPv6(host) ? 'udp6' : 'udp4');
    const id = query.readUInt16BE(0);
    const timer = setTimeout(() => done(new Error(`UDP query to ${host}:${port} timed out after ${timeoutMs} ms`)), timeoutMs);
    const done = (err: Error | null, msg?: Buffer) => {
      clearTimeout(timer);
      sock.close();
      if (err) reject(err);
      else resolve(msg as Buffer);
    };
    sock.on('error', (e) => done(e));
    sock.on('message', (msg, from) => {
      if (strictSource && (from.address !== host || from.port !== port)) return;
      if (msg.length >= 2 && msg.readUInt16BE(0) === id) done(null, msg);
    });
    sock.send(query, port, host);
  });
}

/** One query over a fresh TCP connection (2-byte length framing). */
export function tcpExchange(port: number, query: Buffer, timeoutMs: number, host = HOST): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const conn = createConnection({ host, port });
    let buf = Buffer.alloc(0);
    const timer = setTimeout(() => done(new Error(`TCP query to ${host}:${port} timed out after ${timeoutMs} ms`)), timeoutMs);
    const done = (err: Error | null, msg?: Buffer) => {
      clearTimeout(timer);
      conn.destroy();
      if (err) reject(err);
      else resolve(msg as Buffer);
    };
    conn.on('error', (e) => done(e));
    conn.on('connect', () => {
      const len = Buffer.alloc(2);
      len.writeUInt16BE(query.length, 0);
      conn.write(Buffer.concat([len, query]));
    });
    conn.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      if (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) done(null, buf.subarray(2, 2 + buf.readUInt16BE(0)));
    });
    conn.on('end', () => done(new Error(`TCP connection to ${host}:${port} closed before a full reply`)));
  });
}

/** Rcode (header part) and a few header bits of a wire reply. */
export function replyHeader(msg: Buffer): { id: number; rcode: number; qr: boolean; aa: boolean; tc: boolean; ancount: number } {
  const flags = msg.readUInt16BE(2);
  return { id: msg.readUInt16BE(0), rcode: flags & 0xf, qr: (flags & 0x8000) !== 0, aa: (flags & 0x0400) !== 0, tc: (flags & 0x0200) !== 0, ancount: msg.readUInt16BE(6) };
}

// ---- dig ----------------------------------------------------------------------------------

export interface DigOptions {
  port: number;
  host?: string;
  tcp?: boolean;
  /** false: no OPT record (+noedns). A number: EDNS with that buffer size. Default: dig's (EDNS, 1232). */
  edns?: boolean | number;
  dnssec?: boolean;
  /** Keep a truncated UDP reply instead of retrying over TCP (+ignore). */
  ignoreTruncation?: boolean;
  timeoutS?: number;
}

export interface DigRecord {
  name: string;
  ttl: number;
  class: string;
  type: string;
  /** Rdata as dig prints it (RFC 1035 presentation form, +nosplit). */
  rdata: string;
}

export interface DigResult {
  status: string;
  flags: string[];
  id: number;
  answer: DigRecord[];
  authority: DigRecord[];
  /** Without the OPT pseudo-record. */
  additional: DigRecord[];
  /** The EDNS line (udp size, flags) when the reply had an OPT record. */
  edns?: { udp: number; flags: string[] };
  /** "MSG SIZE rcvd". */
  size: number;
  output: string;
}

export async function dig(name: string, type: string, o: DigOptions): Promise<DigResult> {
  const args = [
    `@${o.host ?? HOST}`, '-p', String(o.port),
    '+norec', '+nocookie', '+nosplit', '+nomultiline', '+noidnout', '+noidnin', '+nosearch',
    `+time=${o.timeoutS ?? 5}`, '+tries=1', '+retry=0',
    o.tcp ? '+tcp' : '+notcp',
  ];
  if (o.edns === false) args.push('+noedns');
  else if (typeof o.edns === 'number') args.push(`+bufsize=${o.edns}`);
  if (o.dnssec) args.push('+dnssec');
  if (o.ignoreTruncation) args.push('+ignore');
  args.push(name, type);
  const { code, stdout, stderr } = await run(requireTool('dig'), args);
  if (code !== 0) throw new Error(`dig ${args.join(' ')} exited ${code}: ${stdout}${stderr}`);
  return parseDig(stdout);
}

/** Parses dig's default output. Throws when it does not look like a reply. */
export function parseDig(out: string): DigResult {
  const header = /->>HEADER<<- opcode: \S+, status: (\S+), id: (\d+)/.exec(out);
  const flags = /;; flags:([^;]*);/.exec(out);
  if (!header || !flags) throw new Error(`no DNS reply in dig output:\n${out}`);
  const sections: Record<string, DigRecord[]> = { ANSWER: [], AUTHORITY: [], ADDITIONAL: [] };
  let current: DigRecord[] | undefined;
  for (const line of out.split('\n')) {
    const heading = /^;; (ANSWER|AUTHORITY|ADDITIONAL) SECTION:/.exec(line);
    if (heading) {
      current = sections[heading[1] as string];
      continue;
    }
    if (line.trim() === '' || line.startsWith(';')) {
      if (line.trim() === '') current = undefined;
      continue;
    }
    if (current) current.push(parseRecordLine(line));
  }
  const ednsLine = /; EDNS: version: \d+, flags:([^;]*); udp: (\d+)/.exec(out);
  const size = /MSG SIZE\s+rcvd: (\d+)/.exec(out);
  return {
    status: header[1] as string,
    id: Number(header[2]),
    flags: (flags[1] as string).trim().split(/\s+/).filter((f) => f !== ''),
    answer: sections['ANSWER'] as DigRecord[],
    authority: sections['AUTHORITY'] as DigRecord[],
    additional: sections['ADDITIONAL'] as DigRecord[],
    ...(ednsLine ? { edns: { udp: Number(ednsLine[2]), flags: (ednsLine[1] as string).trim().split(/\s+/).filter((f) => f !== '') } } : {}),
    size: size ? Number(size[1]) : 0,
    output: out,
  };
}

/** "owner TTL CLASS TYPE rdata…" as dig prints a record (fields separated by whitespace). */
export function parseRecordLine(line: string): DigRecord {
  const m = /^(\S+)\s+(\d+)\s+(\S+)\s+(\S+)\s*(.*)$/.exec(line);
  if (!m) throw new Error(`cannot parse record line: ${line}`);
  return { name: m[1] as string, ttl: Number(m[2]), class: m[3] as string, type: m[4] as string, rdata: (m[5] as string).trim() };
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a command to completion, with an optional stdin text, environment and time limit (SIGKILL). */
export function run(cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv; input?: string; timeoutMs?: number } = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: opts.cwd, env: opts.env ?? process.env, stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    if (child.stdin) {
      // A command that exits without reading its input closes the pipe: the EPIPE is no error of the
      // test's, and unhandled it would fail whichever test runs at that moment.
      child.stdin.on('error', () => undefined);
      child.stdin.end(opts.input);
    }
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 60000);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? (signal ? 128 : 1), stdout, stderr });
    });
  });
}
