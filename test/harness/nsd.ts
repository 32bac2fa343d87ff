/**
 * Starts NSD (Debian's `nsd`, found through requireTool) as a reference
 * authoritative server for integration tests: a private config, pid, xfrd
 * and zonelist file in a temp folder, one server process, response-rate
 * limiting off (it would answer a fast test with TC=1 and empty sections),
 * listening on an ephemeral loopback port over UDP and TCP. `startNsd`
 * resolves once NSD answers the SOA of every zone over TCP, and `stop()`
 * ends only the process it started.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createConnection } from 'node:net';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort } from './ports.js';
import { requireTool } from './peers.js';

export interface NsdZone {
  /** Zone apex, with or without the trailing dot. */
  name: string;
  /** Absolute path of the RFC 1035 zone file. */
  file: string;
}

export interface NsdOptions {
  zones: NsdZone[];
  /**
   * Extra `server:` lines, e.g. ['minimal-responses: yes']. NSD's defaults
   * are kept otherwise, so a test states every deviation it depends on.
   */
  serverOptions?: string[];
  timeoutMs?: number;
}

export interface NsdProcess {
  host: string;
  port: number;
  child: ChildProcess;
  /** What NSD wrote to stdout and stderr so far. */
  logs(): string;
  stop(): Promise<void>;
}

const HOST = '127.0.0.1';

export async function startNsd(opts: NsdOptions): Promise<NsdProcess> {
  const nsd = requireTool('nsd');
  const deadline = Date.now() + (opts.timeoutMs ?? 30000);
  let lastError: Error | undefined;
  // A port found free can be taken by someone else before NSD binds it; then NSD exits and we try another.
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freePort();
    try {
      return await startOn(nsd, port, opts, deadline);
    } catch (err) {
      lastError = err as Error;
      if (!/address already in use|can't bind|could not bind/i.test(lastError.message) || Date.now() > deadline) break;
    }
  }
  throw lastError ?? new Error('NSD did not start');
}

async function startOn(nsd: string, port: number, opts: NsdOptions, deadline: number): Promise<NsdProcess> {
  const dir = await mkdtemp(path.join(tmpdir(), 'crdns-nsd-'));
  const conf = path.join(dir, 'nsd.conf');
  await writeFile(conf, nsdConfig(dir, port, opts));

  const child = spawn(nsd, ['-d', '-c', conf], { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  child.stdout?.on('data', (d: Buffer) => (log += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (log += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let spawnError: Error | undefined;
  child.once('error', (e) => (spawnError = e));

  const proc: NsdProcess = {
    host: HOST,
    port,
    child,
    logs: () => log,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
      await rm(dir, { recursive: true, force: true });
    },
  };

  const apexes = opts.zones.map((z) => z.name);
  for (;;) {
    if (spawnError) {
      await rm(dir, { recursive: true, force: true });
      throw new Error(`cannot run ${nsd}: ${spawnError.message}`);
    }
    if (child.exitCode !== null || child.signalCode !== null) {
      await rm(dir, { recursive: true, force: true });
      throw new Error(`nsd exited with ${child.exitCode ?? child.signalCode} before answering on port ${port}:\n${log}`);
    }
    if (await answersAll(port, apexes)) return proc;
    if (Date.now() > deadline) {
      await proc.stop();
      throw new Error(`nsd did not answer the SOA of ${apexes.join(', ')} on ${HOST}:${port} in time:\n${log}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}


/** NSD's configuration for one private instance in `dir`, on loopback `port`: also what benchmarks start NSD with. */
export function nsdConfig(dir: string, port: number, opts: Pick<NsdOptions, 'zones' | 'serverOptions'>): string {
  const q = (s: string) => JSON.stringify(s);
  const lines = [
    'server:',
    `  ip-address: ${HOST}@${port}`,
    `  port: ${port}`,
    '  do-ip6: no',
    '  username: ""',
    '  chroot: ""',
    '  database: ""',
    `  pidfile: ${q(path.join(dir, 'nsd.pid'))}`,
    `  xfrdfile: ${q(path.join(dir, 'xfrd.state'))}`,
    `  zonelistfile: ${q(path.join(dir, 'zone.list'))}`,
    `  xfrdir: ${q(dir)}`,
    '  server-count: 1',
    '  verbosity: 0',
    '  rrl-ratelimit: 0',
    '  rrl-whitelist-ratelimit: 0',
    ...(opts.serverOptions ?? []).map((l) => `  ${l}`),
    'remote-control:',
    '  control-enable: no',
    ...opts.zones.flatMap((z) => ['zone:', `  name: ${q(z.name)}`, `  zonefile: ${q(z.file)}`]),
    '',
  ];
  return lines.join('\n');
}

/** True when the server on `port` answers NOERROR with an SOA for every apex over TCP (i.e. every zone file loaded). */
export async function answersAll(port: number, apexes: readonly string[]): Promise<boolean> {
  for (const apex of apexes) {
    const reply = await tcpExchange(port, soaQuery(apex)).catch(() => undefined);
    if (!reply || reply.length < 12) return false;
    const rcode = reply.readUInt16BE(2) & 0xf;
    const answers = reply.readUInt16BE(6);
    if (rcode !== 0 || answers === 0) return false;
  }
  return true;
}

function soaQuery(apex: string): Buffer {
  const labels = apex.replace(/\.$/, '').split('.').filter((l) => l !== '');
  const name = Buffer.concat([...labels.map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l, 'ascii')])), Buffer.from([0])]);
  const header = Buffer.from([0x12, 0x34, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0]);
  return Buffer.concat([header, name, Buffer.from([0, 6, 0, 1])]);
}

/** One query over a fresh TCP connection (RFC 1035 §4.2.2 two-byte length prefix). */
function tcpExchange(port: number, msg: Buffer, timeoutMs = 2000): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const sock = createConnection({ host: HOST, port });
    let buf = Buffer.alloc(0);
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error('timeout'));
    }, timeoutMs);
    sock.on('connect', () => {
      const len = Buffer.alloc(2);
      len.writeUInt16BE(msg.length);
      sock.write(Buffer.concat([len, msg]));
    });
    sock.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      if (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        clearTimeout(timer);
        sock.destroy();
        resolve(buf.subarray(2, 2 + buf.readUInt16BE(0)));
      }
    });
    sock.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
}

