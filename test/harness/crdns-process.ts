/**
 * Starts the real `crdns serve` process (the compiled CLI) for integration
 * tests, waits until it answers over gRPC, and stops it again. Tests that
 * need to kill crdns mid-flight use `kill()`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import { healthServiceClient } from '../../src/server/protos.js';

/** dist/src/cli/main.js, found from this file's compiled location (dist/test/harness). */
export const CRDNS_MAIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../src/cli/main.js');

export interface CrdnsOptions {
  zones: string[];
  manifests?: string;
  /** gRPC listen addresses; default one unix socket in a temp dir. */
  listen?: string[];
  http?: string;
  /** Extra serve flags. The harness reads the "grpc listening" info line, so keep --log-level at info or debug. */
  args?: string[];
  env?: NodeJS.ProcessEnv;
  /** Wait until the health service reports SERVING (default true). */
  waitReady?: boolean;
  timeoutMs?: number;
}

export interface CrdnsProcess {
  /** The addresses as a gRPC client dials them (unix:///… or 127.0.0.1:port). */
  addresses: string[];
  child: ChildProcess;
  /** Everything crdns logged so far (JSON lines). */
  logs(): string;
  /** host:port of the --http listener (when one was asked for; ":0" resolved). */
  httpAddress(): string;
  stop(): Promise<void>;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

export async function startCrdns(opts: CrdnsOptions): Promise<CrdnsProcess> {
  const sockDir = opts.listen ? undefined : await mkdtemp(path.join(tmpdir(), 'crdns-sock-'));
  const listen = opts.listen ?? [`unix://${path.join(sockDir as string, 'crdns.sock')}`];
  const args = [CRDNS_MAIN, 'serve', ...opts.zones.flatMap((z) => ['--zone', z]), ...listen.flatMap((l) => ['--listen', l])];
  if (opts.manifests) args.push('--manifests', opts.manifests);
  if (opts.http) args.push('--http', opts.http);
  args.push(...(opts.args ?? []));
  const child = spawn(process.execPath, args, { env: { ...process.env, ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  child.stdout?.on('data', (d: Buffer) => (log += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (log += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  // Only a graceful stop() removes the socket folder: tests that kill crdns restart it on the same socket.
  const removeSockDir = () => (sockDir ? rm(sockDir, { recursive: true, force: true }) : Promise.resolve());

  const deadline = Date.now() + (opts.timeoutMs ?? 30000);
  let addresses: string[] | undefined;
  while (!addresses) {
    const line = log.split('\n').find((l) => l.includes('"grpc listening"'));
    if (line) addresses = (JSON.parse(line) as { addresses: string[] }).addresses;
    else {
      if (child.exitCode !== null) throw new Error(`crdns exited with ${child.exitCode} before listening:\n${log}`);
      if (Date.now() > deadline) throw new Error(`crdns did not start listening in time:\n${log}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  const proc: CrdnsProcess = {
    addresses,
    child,
    logs: () => log,
    httpAddress: () => {
      const line = log.split('\n').find((l) => l.includes('"http listening"'));
      if (!line) throw new Error('crdns has no --http listener');
      return (JSON.parse(line) as { address: string }).address;
    },
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
      await removeSockDir();
    },
    kill: async (signal = 'SIGKILL') => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited;
    },
  };
  if (opts.waitReady !== false) {
    try {
      await waitServing(addresses[0] as string, deadline);
    } catch (err) {
      await proc.kill();
      throw new Error(`${(err as Error).message}\n${log}`);
    }
  }
  return proc;
}

/** Polls grpc.health.v1 Check until SERVING. */
export async function waitServing(address: string, deadline: number): Promise<void> {
  const Health = healthServiceClient();
  const client = new Health(address, grpc.credentials.createInsecure()) as unknown as grpc.Client & {
    Check: (req: { service: string }, opts: grpc.CallOptions, cb: (err: grpc.ServiceError | null, res?: { status: string }) => void) => void;
  };
  try {
    for (;;) {
      const status = await new Promise<string>((resolve) =>
        client.Check({ service: '' }, { deadline: Date.now() + 1000 }, (err, res) => resolve(err ? `error: ${err.message}` : (res?.status ?? 'none'))),
      );
      if (status === 'SERVING') return;
      if (Date.now() > deadline) throw new Error(`crdns at ${address} not SERVING in time (last: ${status})`);
      await new Promise((r) => setTimeout(r, 100));
    }
  } finally {
    client.close();
  }
}
