/**
 * Starts the PowerDNS Authoritative Server (Debian's `pdns_server` with the
 * bind backend, found through requireTool) on a loopback port, serving zone
 * files: the authoritative half of the path crdns replaces (ExternalDNS →
 * PowerDNS, with CoreDNS `forward` in front), for benchmarks. Its own
 * defaults are kept (packet cache included), as a production install runs
 * it. Resolves once it answers the SOA of every zone (over TCP, as startNsd waits).
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort } from './ports.js';
import { answersAll, type NsdProcess, type NsdZone } from './nsd.js';
import { requireTool } from './peers.js';

/** The same shapes as NSD's: both are reference servers loaded from zone files. */
export type PdnsZone = NsdZone;
export type PdnsProcess = NsdProcess;

const HOST = '127.0.0.1';

export async function startPdns(opts: { zones: PdnsZone[]; timeoutMs?: number }): Promise<PdnsProcess> {
  const bin = requireTool('pdns_server');
  const dir = await mkdtemp(path.join(tmpdir(), 'crdns-pdns-'));
  const named = path.join(dir, 'named.conf');
  await writeFile(named, opts.zones.map((z) => `zone "${z.name.replace(/\.$/, '')}" { type master; file "${z.file}"; };\n`).join(''));
  const port = await freePort();
  const args = [
    '--no-config', '--launch=bind', `--bind-config=${named}`,
    `--local-address=${HOST}:${port}`, `--socket-dir=${dir}`,
    '--daemon=no', '--guardian=no', '--disable-syslog', '--write-pid=no', '--loglevel=3',
  ];
  const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  child.stdout?.on('data', (d: Buffer) => (log += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (log += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const alive = () => child.exitCode === null && child.signalCode === null;
  const proc: PdnsProcess = {
    host: HOST,
    port,
    child,
    logs: () => log,
    stop: async () => {
      if (alive()) child.kill('SIGTERM');
      await exited;
      await rm(dir, { recursive: true, force: true });
    },
  };
  const deadline = Date.now() + (opts.timeoutMs ?? 30_000);
  for (;;) {
    if (!alive()) {
      await proc.stop();
      throw new Error(`pdns_server exited (${child.exitCode ?? child.signalCode}) before answering:\n${log}`);
    }
    if (await answersAll(port, opts.zones.map((z) => z.name))) break;
    if (Date.now() > deadline) {
      await proc.stop();
      throw new Error(`pdns_server did not answer the SOA of ${opts.zones.map((z) => z.name).join(', ')}:\n${log}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return proc;
}
