/**
 * The resilience study's topology, as real processes on loopback: two
 * clusters, each with its own control plane (etcd + kube-apiserver), a DNS
 * pod (stock CoreDNS in front of crdns over a unix socket, the chart's default
 * cache block) and a cluster resolver (stock CoreDNS forwarding to the local
 * DNS pod first, then the other cluster's: `policy sequential`). Each crdns
 * watches its own API server through a TCP proxy (so a watch can be silently
 * stalled) and the other cluster's as a peer.
 *
 *   probe ──▶ resolver a ──▶ DNS pod a (CoreDNS ─▶ crdns a ──▶ API a, peer API b)
 *                       └──▶ DNS pod b (CoreDNS ─▶ crdns b ──▶ API b, peer API a)
 *
 * Every process can be killed, paused and started again on the same address,
 * which is what the chaos scenarios (bench/chaos.ts) do to it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CRDNS_MAIN } from './crdns-process.js';
import { ControlPlane } from './control-plane.js';
import { udpExchange, encodeQuery } from './coredns.js';
import { freePort } from './ports.js';
import { peerBin } from './peers.js';
import { TcpProxy } from './tcp-proxy.js';

export const CHAOS_ZONE = 'chaos.test';

/** Resolver cache profiles of the talk: none, or a 5 s cap. */
export type CacheProfile = 'off' | '5s';

/** A long-running process that can be killed, paused and started again with the same command. */
export class Restartable {
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  private log = '';

  constructor(
    readonly name: string,
    private readonly command: string,
    private readonly args: readonly string[],
    private readonly ready: () => Promise<boolean>,
    private readonly env: NodeJS.ProcessEnv = {},
  ) {}

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  logs(): string {
    return this.log;
  }

  /** Starts it and waits until `ready` says so (or it exits, or the timeout passes). */
  async start(timeoutMs = 60_000): Promise<void> {
    if (this.running) throw new Error(`${this.name} is running already`);
    const child = spawn(this.command, [...this.args], { env: { ...process.env, ...this.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    // Only the tail is kept: a long scenario logs a lot.
    const keep = (d: Buffer) => (this.log = (this.log + d.toString()).slice(-200_000));
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (!this.running) throw new Error(`${this.name} exited (${child.exitCode ?? child.signalCode}) while starting:\n${this.log.slice(-4000)}`);
      if (await this.ready().catch(() => false)) return;
      if (Date.now() > deadline) throw new Error(`${this.name} not ready after ${timeoutMs} ms:\n${this.log.slice(-4000)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** SIGKILL (default) or another signal, and wait for the exit. */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    if (this.running) this.child?.kill(signal);
    await this.exited;
  }

  pause(): void {
    if (this.running) this.child?.kill('SIGSTOP');
  }

  resume(): void {
    if (this.running) this.child?.kill('SIGCONT');
  }
}

/** Any DNS reply on UDP counts as up (a SERVFAIL from a resolver whose upstreams are down included). */
async function answersDns(port: number): Promise<boolean> {
  await udpExchange(port, encodeQuery({ name: `up.${CHAOS_ZONE}`, type: 1, id: 77, edns: false }), 300);
  return true;
}

/** The DNS pod's Corefile: the chart's default cache block (1 s cap, serve_stale verify) and grpc to the socket. */
function podCorefile(port: number, socket: string): string {
  return `${CHAOS_ZONE}:${port} {
    bind 127.0.0.1
    errors
    cache {
        success 9984 1 1
        denial 9984 1 1
        serve_stale 1h verify 250ms 30s 2s
    }
    grpc . unix://${socket}
}
`;
}

/** The cluster resolver: local DNS pod first, the other cluster's when that fails. */
function resolverCorefile(port: number, local: number, remote: number, cache: CacheProfile): string {
  return `.:${port} {
    bind 127.0.0.1
    errors
${cache === '5s' ? '    cache 5\n' : ''}    forward . 127.0.0.1:${local} 127.0.0.1:${remote} {
        policy sequential
        health_check 500ms
        max_fails 1
        expire 10s
    }
}
`;
}

export interface ChaosCluster {
  name: string;
  plane: ControlPlane;
  /** crdns's way to its own API server; freeze() stalls its watch silently. */
  proxy: TcpProxy;
  crdns: Restartable;
  pod: Restartable;
  resolver: Restartable;
  podPort: number;
  resolverPort: number;
  /** crdns's gRPC address, unix:///… */
  socketAddress: string;
  /** The admin kubeconfig: what the probe writes with (not through the proxy). */
  kubeconfig: string;
}

export interface ChaosTopology {
  clusters: [ChaosCluster, ChaosCluster];
  stop(): Promise<void>;
}

export interface TopologyOptions {
  cache: CacheProfile;
  /** crdns --watch-idle-timeout, seconds: how long a silently stalled watch goes unnoticed. */
  watchIdleTimeoutS?: number;
  /** crdns --peer-grace, seconds. */
  peerGraceS?: number;
  /** Give each crdns a --snapshot-file (warm restart). */
  snapshots?: boolean;
}

export async function startTopology(options: TopologyOptions): Promise<ChaosTopology> {
  const dir = await mkdtemp(path.join(tmpdir(), 'crdns-chaos-'));
  const planes = await Promise.all([ControlPlane.start(), ControlPlane.start()]);
  const names = ['a', 'b'] as const;
  const ports = { pod: [await freePort(), await freePort()], resolver: [await freePort(), await freePort()] };
  const clusters: ChaosCluster[] = [];
  for (let i = 0; i < 2; i++) {
    const plane = planes[i] as ControlPlane;
    const other = planes[1 - i] as ControlPlane;
    const name = names[i] as string;
    const proxy = await TcpProxy.start(plane.apiserverPort);
    const kubeconfig = plane.kubeconfigPath('admin');
    const viaProxy = path.join(dir, `${name}-via-proxy.yaml`);
    const text = await readFile(kubeconfig, 'utf8');
    await writeFile(viaProxy, text.replaceAll(`https://127.0.0.1:${plane.apiserverPort}`, `https://127.0.0.1:${proxy.port}`));
    const socket = path.join(dir, `${name}.sock`);
    const crdnsArgs = [
      CRDNS_MAIN, 'serve', '--zone', CHAOS_ZONE, '--listen', `unix://${socket}`,
      '--kubeconfig', viaProxy, '--cluster', name, '--peer', `${names[1 - i]}=${other.kubeconfigPath('admin')}`,
      '--peer-grace', String(options.peerGraceS ?? 10),
      '--log-level', 'info',
    ];
    if (options.watchIdleTimeoutS !== undefined) crdnsArgs.push('--watch-idle-timeout', String(options.watchIdleTimeoutS));
    if (options.snapshots) crdnsArgs.push('--snapshot-file', path.join(dir, `${name}.snapshot`));
    const podPort = ports.pod[i] as number;
    const resolverPort = ports.resolver[i] as number;
    const podConf = path.join(dir, `${name}-pod.Corefile`);
    const resolverConf = path.join(dir, `${name}-resolver.Corefile`);
    await writeFile(podConf, podCorefile(podPort, socket));
    await writeFile(resolverConf, resolverCorefile(resolverPort, podPort, ports.pod[1 - i] as number, options.cache));
    // Listening is enough: a crdns cold-started while its API server is down listens but is not ready yet.
    // (A connect, not a stat: a SIGKILLed crdns leaves its socket file behind.)
    const socketUp = () =>
      new Promise<boolean>((resolve) => {
        const c = connect({ path: socket }, () => {
          c.destroy();
          resolve(true);
        });
        c.once('error', () => resolve(false));
      });
    clusters.push({
      name,
      plane,
      proxy,
      crdns: new Restartable(`crdns ${name}`, process.execPath, crdnsArgs, socketUp),
      pod: new Restartable(`DNS pod CoreDNS ${name}`, peerBin('coredns'), ['-conf', podConf], () => answersDns(podPort)),
      resolver: new Restartable(`resolver CoreDNS ${name}`, peerBin('coredns'), ['-conf', resolverConf], () => answersDns(resolverPort)),
      podPort,
      resolverPort,
      socketAddress: `unix://${socket}`,
      kubeconfig,
    });
  }
  const started: Restartable[] = [];
  const stop = async (): Promise<void> => {
    for (const p of started.reverse()) await p.kill();
    for (const c of clusters) await c.proxy.stop();
    await Promise.all(planes.map((p) => p.stop()));
    await rm(dir, { recursive: true, force: true });
  };
  try {
    for (const c of clusters) for (const p of [c.crdns, c.pod, c.resolver]) {
      await p.start();
      started.push(p);
    }
  } catch (err) {
    await stop();
    throw err;
  }
  return { clusters: clusters as [ChaosCluster, ChaosCluster], stop };
}
