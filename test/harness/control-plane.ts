/**
 * A real Kubernetes control plane for integration tests: etcd and
 * kube-apiserver on loopback, the way controller-runtime's envtest starts
 * them (kubernetes-sigs/controller-runtime pkg/internal/testing/controlplane), with
 * no controllers, scheduler or kubelet.
 *
 * - Everything lives in one temp dir: etcd data, the API server's
 *   self-generated serving cert (--cert-dir), the service-account key pair,
 *   a token file with two users, kubeconfigs and logs.
 * - Users: "admin" (system:masters) and "crdns", which has no rights until
 *   grantCrdnsRbac() binds the rules of helm/crdns/files/rbac-rules.yaml.
 * - Each process runs in its own process group (detached) and is killed as a
 *   group, so nothing outlives the test run, not even after a crash (an exit
 *   hook SIGKILLs whatever is still running).
 * - etcd and the API server can be stopped and started again separately, on
 *   the same ports and data, to test how clients live through outages.
 */

import { spawn, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { closeSync, existsSync, openSync, readFileSync, statSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { peerBin, repoRoot } from './peers.js';
import { freeStablePort } from './ports.js';

export interface ControlPlaneOptions {
  /** kube-apiserver --min-request-timeout: watches without timeoutSeconds end after 1-2x this. */
  minRequestTimeoutSeconds?: number;
  /** More kube-apiserver flags, e.g. ['--watch-cache=false']. */
  extraApiserverArgs?: string[];
  /** Per process start. Default 180 s (2 cores, Go builds may run next to us). */
  startTimeoutMs?: number;
  /** Install helm/crdns/files/crd-dnsendpoints.yaml and wait until it is served. Default true. */
  installCrd?: boolean;
}

export type UserName = 'admin' | 'crdns';

export interface ControlPlaneTimings {
  /** ms from spawn to healthy, one entry per start. */
  etcdStartMs: number[];
  /** ms from spawn to /readyz 200, one entry per start. */
  apiserverStartMs: number[];
  /** ms from `kubectl apply` of the CRD to the list endpoint answering. */
  crdReadyMs?: number;
}

export const CRD_FILE = (): string => join(repoRoot(), 'helm', 'crdns', 'files', 'crd-dnsendpoints.yaml');
export const RBAC_RULES_FILE = (): string => join(repoRoot(), 'helm', 'crdns', 'files', 'rbac-rules.yaml');

const live = new Set<ManagedProcess>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const p of live) p.killGroupNow('SIGKILL');
  });
}

class ManagedProcess {
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();

  constructor(
    readonly name: string,
    private readonly bin: string,
    private readonly args: () => string[],
    readonly logFile: string,
  ) {}

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  get exitDescription(): string {
    const c = this.child;
    return c ? `exit code ${c.exitCode ?? '-'}, signal ${c.signalCode ?? '-'}` : 'never started';
  }

  start(): void {
    if (this.running) throw new Error(`${this.name} already running`);
    installExitHook();
    const fd = openSync(this.logFile, 'a');
    try {
      // detached: own process group, so stop() reaches any children too.
      this.child = spawn(this.bin, this.args(), { detached: true, stdio: ['ignore', fd, fd] });
    } finally {
      closeSync(fd);
    }
    const child = this.child;
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    child.once('exit', () => live.delete(this));
    child.once('error', () => live.delete(this));
    live.add(this);
  }

  /** SIGTERM to the group, SIGKILL after graceMs. */
  async stop(graceMs = 20_000): Promise<void> {
    if (!this.running) return;
    this.killGroupNow('SIGTERM');
    const timer = setTimeout(() => this.killGroupNow('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
  }

  killGroupNow(signal: NodeJS.Signals): void {
    const pid = this.child?.pid;
    if (pid === undefined || !this.running) return;
    try {
      process.kill(-pid, signal);
    } catch {
      // Already gone.
    }
  }

  logSize(): number {
    try {
      return statSync(this.logFile).size;
    } catch {
      return 0;
    }
  }

  logSince(offset: number): string {
    try {
      return readFileSync(this.logFile).subarray(offset).toString('utf8');
    } catch {
      return '';
    }
  }

  logTail(lines = 40): string {
    try {
      return readFileSync(this.logFile, 'utf8').split('\n').slice(-lines).join('\n');
    } catch {
      return '(no log)';
    }
  }
}

interface HttpResult {
  status: number;
  body: string;
}

function get(url: string, headers: Record<string, string> = {}, timeoutMs = 5_000): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const req = (url.startsWith('https:') ? httpsRequest : httpRequest)(
      url,
      { method: 'GET', headers, rejectUnauthorized: false, timeout: timeoutMs },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`GET ${url} timed out`)));
    req.on('error', reject);
    req.end();
  });
}

export interface KubectlResult {
  code: number;
  stdout: string;
  stderr: string;
}

export class ControlPlane {
  readonly timings: ControlPlaneTimings = { etcdStartMs: [], apiserverStartMs: [] };
  readonly server: string;
  readonly tokens: Record<UserName, string>;
  private readonly etcd: ManagedProcess;
  private readonly apiserver: ManagedProcess;
  private readonly startTimeoutMs: number;

  private constructor(
    readonly dir: string,
    private readonly ports: { etcdClient: number; etcdPeer: number; apiserver: number },
    options: ControlPlaneOptions,
  ) {
    this.startTimeoutMs = options.startTimeoutMs ?? 180_000;
    this.server = `https://127.0.0.1:${ports.apiserver}`;
    this.tokens = { admin: randomBytes(24).toString('hex'), crdns: randomBytes(24).toString('hex') };
    const etcdUrl = `http://127.0.0.1:${ports.etcdClient}`;
    const peerUrl = `http://127.0.0.1:${ports.etcdPeer}`;
    this.etcd = new ManagedProcess(
      'etcd',
      peerBin('etcd'),
      () => [
        '--name=harness',
        `--data-dir=${join(dir, 'etcd')}`,
        `--listen-client-urls=${etcdUrl}`,
        `--advertise-client-urls=${etcdUrl}`,
        `--listen-peer-urls=${peerUrl}`,
        `--initial-advertise-peer-urls=${peerUrl}`,
        `--initial-cluster=harness=${peerUrl}`,
        '--unsafe-no-fsync',
        '--log-level=warn',
      ],
      join(dir, 'etcd.log'),
    );
    this.apiserver = new ManagedProcess(
      'kube-apiserver',
      peerBin('kube-apiserver'),
      () => [
        `--etcd-servers=${etcdUrl}`,
        '--bind-address=127.0.0.1',
        // Without it the API server looks for a default route and refuses to start on hosts without one.
        '--advertise-address=127.0.0.1',
        `--secure-port=${ports.apiserver}`,
        `--cert-dir=${join(dir, 'pki')}`,
        '--service-cluster-ip-range=10.0.0.0/24',
        '--allow-privileged=true',
        '--authorization-mode=RBAC',
        `--token-auth-file=${join(dir, 'tokens.csv')}`,
        `--service-account-issuer=https://127.0.0.1:${ports.apiserver}`,
        `--service-account-key-file=${join(dir, 'sa.pub')}`,
        `--service-account-signing-key-file=${join(dir, 'sa.key')}`,
        // No controller-manager creates default service accounts.
        '--disable-admission-plugins=ServiceAccount',
        ...(options.minRequestTimeoutSeconds !== undefined ? [`--min-request-timeout=${options.minRequestTimeoutSeconds}`] : []),
        '--v=1',
        ...(options.extraApiserverArgs ?? []),
      ],
      join(dir, 'kube-apiserver.log'),
    );
  }

  /**
   * Starts etcd and kube-apiserver, writes kubeconfigs, installs the CRD
   * (unless told not to). Ports are probed free before the peers bind them, so
   * another process can take one first; a start that fails that way begins
   * again on fresh ports (a restart later keeps its ports: see startApiserver).
   */
  static async start(options: ControlPlaneOptions = {}): Promise<ControlPlane> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await ControlPlane.startOnce(options);
      } catch (err) {
        if (attempt >= 3 || !(err as Error).message.includes('address already in use')) throw err;
      }
    }
  }

  private static async startOnce(options: ControlPlaneOptions): Promise<ControlPlane> {
    // Fail before creating anything if a peer is missing.
    peerBin('etcd');
    peerBin('kube-apiserver');
    peerBin('kubectl');
    const dir = await mkdtemp(join(tmpdir(), 'crdns-k8s-'));
    const ports = { etcdClient: await freeStablePort(), etcdPeer: await freeStablePort(), apiserver: await freeStablePort() };
    const plane = new ControlPlane(dir, ports, options);
    try {
      await plane.writeFiles();
      await plane.startEtcd();
      await plane.startApiserver();
      await plane.writeKubeconfigs();
      if (options.installCrd !== false) await plane.installCrd();
    } catch (err) {
      await plane.stop({ keepDir: true });
      throw new Error(`control plane failed to start (files kept in ${dir}): ${(err as Error).message}`);
    }
    return plane;
  }

  kubeconfigPath(user: UserName = 'admin'): string {
    return join(this.dir, `kubeconfig-${user}.yaml`);
  }

  /** client-node credentials for a user; `server` reaches the API server another way (e.g. through a proxy). */
  kubeConfig(user: UserName = 'admin', server?: string): KubeConfig {
    const kc = new KubeConfig();
    kc.loadFromFile(this.kubeconfigPath(user));
    if (server) {
      kc.loadFromString(readFileSync(this.kubeconfigPath(user), 'utf8').replace(`server: ${this.server}`, `server: ${server}`));
      kc.makePathsAbsolute(this.dir);
    }
    return kc;
  }

  get apiserverPort(): number {
    return this.ports.apiserver;
  }

  get etcdRunning(): boolean {
    return this.etcd.running;
  }

  get apiserverRunning(): boolean {
    return this.apiserver.running;
  }

  async startEtcd(): Promise<void> {
    const started = Date.now();
    this.etcd.start();
    const url = `http://127.0.0.1:${this.ports.etcdClient}/health`;
    await this.until('etcd healthy', this.etcd, async () => {
      const r = await get(url);
      return r.status === 200 && r.body.includes('"health":"true"');
    });
    this.timings.etcdStartMs.push(Date.now() - started);
  }

  async stopEtcd(): Promise<void> {
    await this.etcd.stop();
  }

  async startApiserver(): Promise<void> {
    const started = Date.now();
    const url = `${this.server}/readyz`;
    for (let attempt = 1; ; attempt++) {
      const logStart = this.apiserver.logSize();
      this.apiserver.start();
      try {
        await this.until('kube-apiserver ready', this.apiserver, async () => {
          const r = await get(url, { Authorization: `Bearer ${this.tokens.admin}` });
          return r.status === 200;
        });
        break;
      } catch (err) {
        // A restart on the same port can lose a race for it (e.g. a client's
        // outgoing connection got it as its local port); try again shortly.
        if (attempt >= 3 || !this.apiserver.logSince(logStart).includes('address already in use')) throw err;
        await new Promise((res) => setTimeout(res, 1_000));
      }
    }
    this.timings.apiserverStartMs.push(Date.now() - started);
  }

  async stopApiserver(): Promise<void> {
    await this.apiserver.stop();
  }

  async restartApiserver(): Promise<void> {
    await this.stopApiserver();
    await this.startApiserver();
  }

  /** Runs kubectl as a user; never throws for a non-zero exit. */
  kubectlResult(args: string[], options: { user?: UserName; input?: string; timeoutMs?: number } = {}): Promise<KubectlResult> {
    const child = spawn(peerBin('kubectl'), [`--kubeconfig=${this.kubeconfigPath(options.user ?? 'admin')}`, '--request-timeout=60s', ...args], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.stdin.end(options.input ?? '');
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 120_000);
    return new Promise((resolve, reject) => {
      child.once('error', reject);
      child.once('close', (code) => {
        clearTimeout(timer);
        resolve({ code: code ?? -1, stdout, stderr });
      });
    });
  }

  /** Runs kubectl as a user; throws with its stderr on a non-zero exit. */
  async kubectl(args: string[], options: { user?: UserName; input?: string; timeoutMs?: number } = {}): Promise<string> {
    const r = await this.kubectlResult(args, options);
    if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')} failed (${r.code}): ${r.stderr.trim()}`);
    return r.stdout;
  }

  /** kubectl apply -f - */
  async apply(manifest: string, user: UserName = 'admin'): Promise<string> {
    return this.kubectl(['apply', '-f', '-'], { user, input: manifest });
  }

  /** kubectl get -o json, parsed. */
  async getJson<T = unknown>(args: string[], user: UserName = 'admin'): Promise<T> {
    return JSON.parse(await this.kubectl(['get', '-o', 'json', ...args], { user })) as T;
  }

  /** Applies a CRD (default: ours) and waits until it is Established and its list endpoint answers. */
  async installCrd(manifest: string = readFileSync(CRD_FILE(), 'utf8')): Promise<void> {
    const started = Date.now();
    await this.apply(manifest);
    await this.kubectl(['wait', '--for=condition=Established', '--timeout=120s', 'crd/dnsendpoints.externaldns.k8s.io']);
    const deadline = Date.now() + 120_000;
    for (;;) {
      const r = await this.kubectlResult(['get', 'dnsendpoints.externaldns.k8s.io', '--all-namespaces']);
      if (r.code === 0) break;
      if (Date.now() > deadline) throw new Error(`dnsendpoints not served: ${r.stderr}`);
      await new Promise((res) => setTimeout(res, 250));
    }
    this.timings.crdReadyMs ??= Date.now() - started;
  }

  /**
   * Gives user "crdns" exactly the rules of helm/crdns/files/rbac-rules.yaml,
   * cluster-wide, as the chart's ClusterRole does.
   */
  async grantCrdnsRbac(): Promise<void> {
    const rules = readFileSync(RBAC_RULES_FILE(), 'utf8')
      .split('\n')
      .filter((l) => !l.startsWith('#'))
      .map((l) => `  ${l}`)
      .join('\n');
    await this.apply(`apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: crdns
rules:
${rules}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: crdns
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: crdns
subjects:
  - apiGroup: rbac.authorization.k8s.io
    kind: User
    name: crdns
`);
  }

  /** Creates a namespace (there is no namespace controller: never wait for deletions). */
  async createNamespace(name: string): Promise<void> {
    await this.kubectl(['create', 'namespace', name]);
  }

  /** Stops the API server, then etcd, and removes the temp dir (set CRDNS_KEEP_K8S=1 to keep it). */
  async stop(options: { keepDir?: boolean } = {}): Promise<void> {
    await this.apiserver.stop();
    await this.etcd.stop();
    if (!options.keepDir && process.env['CRDNS_KEEP_K8S'] !== '1') await rm(this.dir, { recursive: true, force: true });
  }

  /** The last lines of a process log, for failure messages. */
  logTail(which: 'etcd' | 'kube-apiserver', lines = 40): string {
    return (which === 'etcd' ? this.etcd : this.apiserver).logTail(lines);
  }

  private async writeFiles(): Promise<void> {
    await mkdir(join(this.dir, 'pki'), { recursive: true });
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    await writeFile(join(this.dir, 'sa.key'), privateKey.export({ type: 'pkcs8', format: 'pem' }));
    await writeFile(join(this.dir, 'sa.pub'), publicKey.export({ type: 'spki', format: 'pem' }));
    // token,user,uid,"groups"
    await writeFile(
      join(this.dir, 'tokens.csv'),
      `${this.tokens.admin},admin,admin-uid,"system:masters"\n${this.tokens.crdns},crdns,crdns-uid\n`,
      { mode: 0o600 },
    );
  }

  private async writeKubeconfigs(): Promise<void> {
    const ca = join(this.dir, 'pki', 'apiserver.crt');
    if (!existsSync(ca)) throw new Error(`kube-apiserver wrote no ${ca}`);
    for (const user of ['admin', 'crdns'] as const) {
      await writeFile(
        this.kubeconfigPath(user),
        `apiVersion: v1
kind: Config
clusters:
  - name: harness
    cluster:
      server: ${this.server}
      certificate-authority: ${ca}
users:
  - name: ${user}
    user:
      token: ${this.tokens[user]}
contexts:
  - name: ${user}
    context:
      cluster: harness
      user: ${user}
      namespace: default
current-context: ${user}
`,
        { mode: 0o600 },
      );
    }
  }

  private async until(what: string, proc: ManagedProcess, check: () => Promise<boolean>): Promise<void> {
    const deadline = Date.now() + this.startTimeoutMs;
    for (;;) {
      if (!proc.running) throw new Error(`${proc.name} exited (${proc.exitDescription}) before ${what}:\n${proc.logTail()}`);
      try {
        if (await check()) return;
      } catch {
        // Not listening yet.
      }
      if (Date.now() > deadline) {
        await proc.stop();
        throw new Error(`timed out after ${this.startTimeoutMs} ms waiting for ${what}:\n${proc.logTail()}`);
      }
      await new Promise((res) => setTimeout(res, 200));
    }
  }
}
