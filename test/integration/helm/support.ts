/**
 * Helpers for the chart tests: run the real helm, parse what it renders, and
 * run the real CoreDNS on a Corefile rendered by the chart.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { encodeQuery, run, tcpExchange, udpExchange, type RunResult } from '../../harness/coredns.js';
import { peerBin, repoRoot } from '../../harness/peers.js';

export const CHART = (): string => path.join(repoRoot(), 'helm', 'crdns');
export const CI_VALUES = (name: string): string => path.join(CHART(), 'ci', `${name}-values.yaml`);

/** The Kubernetes version the peers are built at; helm template assumes it. */
export const KUBE_VERSION = 'v1.36.3';

export { run, type RunResult };

let helmHome: string | undefined;

/** Runs helm with its cache/config/data in a temp dir, so tests never touch ~/.config/helm. */
export async function helm(args: string[], opts: { kubeconfig?: string; timeoutMs?: number } = {}): Promise<RunResult> {
  helmHome ??= await mkdtemp(path.join(tmpdir(), 'crdns-helm-home-'));
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    HELM_CACHE_HOME: path.join(helmHome, 'cache'),
    HELM_CONFIG_HOME: path.join(helmHome, 'config'),
    HELM_DATA_HOME: path.join(helmHome, 'data'),
    ...(opts.kubeconfig ? { KUBECONFIG: opts.kubeconfig } : { KUBECONFIG: path.join(helmHome, 'no-kubeconfig') }),
  };
  return run(peerBin('helm'), args, { env, timeoutMs: opts.timeoutMs ?? 120_000 });
}

export async function helmOk(args: string[], opts: { kubeconfig?: string } = {}): Promise<string> {
  const r = await helm(args, opts);
  if (r.code !== 0) throw new Error(`helm ${args.join(' ')} exited ${r.code}:\n${r.stderr}${r.stdout}`);
  return r.stdout;
}

export async function cleanupHelmHome(): Promise<void> {
  if (helmHome) await rm(helmHome, { recursive: true, force: true });
  helmHome = undefined;
}

/** `--set`-style flags from a flat map, string values with --set-string. */
export function setFlags(values: Record<string, string | number | boolean>): string[] {
  return Object.entries(values).flatMap(([k, v]) => (typeof v === 'string' ? ['--set-string', `${k}=${v}`] : ['--set', `${k}=${v}`]));
}

export interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [key: string]: unknown;
}

/** helm template, parsed into objects (empty documents dropped). */
export async function render(args: string[], release = 'crdns', namespace = 'crdns-system'): Promise<Manifest[]> {
  const out = await helmOk(['template', release, CHART(), '--namespace', namespace, '--kube-version', KUBE_VERSION, ...args]);
  return parseManifests(out);
}

export function parseManifests(text: string): Manifest[] {
  const docs = parseAllDocuments(text);
  const out: Manifest[] = [];
  for (const d of docs) {
    if (d.errors.length > 0) throw new Error(`rendered YAML does not parse: ${d.errors[0]?.message}`);
    const v = d.toJS() as Manifest | null;
    if (v !== null && v !== undefined) out.push(v);
  }
  return out;
}

export function find(manifests: Manifest[], kind: string, name?: string): Manifest {
  const m = manifests.find((x) => x.kind === kind && (name === undefined || x.metadata.name === name));
  if (!m) throw new Error(`no ${kind}${name ? ` ${name}` : ''} among: ${manifests.map((x) => `${x.kind}/${x.metadata.name}`).join(', ')}`);
  return m;
}

export function kinds(manifests: Manifest[]): string[] {
  return manifests.map((m) => m.kind).sort();
}

/** The Corefile out of the chart's ConfigMap. */
export function corefileOf(manifests: Manifest[]): string {
  const cm = manifests.find((m) => m.kind === 'ConfigMap' && m.metadata.name.endsWith('-corefile'));
  const text = (cm as { data?: { Corefile?: string } } | undefined)?.data?.Corefile;
  if (typeof text !== 'string') throw new Error('no ConfigMap with a Corefile among the rendered manifests');
  return text;
}

export interface Container {
  name: string;
  image: string;
  args?: string[];
  restartPolicy?: string;
  ports?: Array<{ name: string; containerPort: number; protocol: string }>;
  startupProbe?: unknown;
  readinessProbe?: unknown;
  livenessProbe?: unknown;
  securityContext?: Record<string, unknown>;
  volumeMounts?: Array<{ name: string; mountPath: string; readOnly?: boolean }>;
  resources?: unknown;
}

export interface PodSpec {
  initContainers?: Container[];
  containers: Container[];
  volumes?: Array<Record<string, unknown> & { name: string }>;
  securityContext?: Record<string, unknown>;
  serviceAccountName?: string;
  automountServiceAccountToken?: boolean;
  topologySpreadConstraints?: unknown[];
}

export function podSpec(deployment: Manifest): PodSpec {
  return (deployment as unknown as { spec: { template: { spec: PodSpec } } }).spec.template.spec;
}

/**
 * Makes a rendered Corefile listen on loopback only: the chart's health,
 * ready and prometheus lines take every interface (the kubelet probes the
 * pod IP), tests must not. Throws if a line to rewrite is missing, so a
 * template change cannot silently leave a wildcard listener in a test.
 */
export function loopbackOnly(corefile: string): string {
  let out = corefile;
  for (const directive of ['health', 'ready', 'prometheus']) {
    const re = new RegExp(`^(\\s*${directive}) :(\\d+)`, 'gm');
    if (!re.test(out)) throw new Error(`rendered Corefile has no "${directive} :PORT" line:\n${corefile}`);
    out = out.replace(re, '$1 127.0.0.1:$2');
  }
  return out;
}

export interface CorednsRun {
  child: ChildProcess;
  port: number;
  logs(): string;
  stop(): Promise<void>;
}

/**
 * Starts CoreDNS on a Corefile as it is (ports already in it) and waits
 * until `port` answers a UDP and a TCP query (any reply).
 */
export async function runCoredns(corefile: string, port: number, timeoutMs = 60_000): Promise<CorednsRun> {
  const dir = await mkdtemp(path.join(tmpdir(), 'crdns-helm-coredns-'));
  const conf = path.join(dir, 'Corefile');
  await writeFile(conf, corefile);
  const child = spawn(peerBin('coredns'), ['-conf', conf], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  child.stdout?.on('data', (d: Buffer) => (log += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (log += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const alive = (): boolean => child.exitCode === null && child.signalCode === null;
  const stop = async (): Promise<void> => {
    if (alive()) child.kill('SIGKILL');
    await exited;
    await rm(dir, { recursive: true, force: true });
  };
  const probe = encodeQuery({ name: 'helm-probe.invalid', type: 1, id: 4343, edns: false });
  const deadline = Date.now() + timeoutMs;
  let last = 'no attempt';
  for (;;) {
    if (!alive()) {
      await stop();
      throw new Error(`CoreDNS exited (${child.exitCode ?? child.signalCode}) on the rendered Corefile:\n${log}\n--- Corefile ---\n${corefile}`);
    }
    try {
      await udpExchange(port, probe, 500);
      await tcpExchange(port, probe, 1000);
      break;
    } catch (err) {
      last = (err as Error).message;
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`CoreDNS did not answer on 127.0.0.1:${port} (last: ${last}):\n${log}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { child, port, logs: () => log, stop };
}


/**
 * A CA and one certificate for both ends of peering (serverAuth +
 * clientAuth, SAN = serverName), made with openssl, as the chart's
 * peering.tls.secretName Secret would hold them.
 */
export async function makePeeringTls(dir: string, serverName: string): Promise<{ crt: string; key: string; ca: string }> {
  const openssl = '/usr/bin/openssl';
  const ca = path.join(dir, 'ca.crt');
  const caKey = path.join(dir, 'ca.key');
  const key = path.join(dir, 'tls.key');
  const csr = path.join(dir, 'tls.csr');
  const crt = path.join(dir, 'tls.crt');
  const ext = path.join(dir, 'ext.cnf');
  await writeFile(ext, `subjectAltName=DNS:${serverName}\nextendedKeyUsage=serverAuth,clientAuth\nkeyUsage=digitalSignature,keyEncipherment\n`);
  const steps: string[][] = [
    ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', caKey, '-out', ca, '-days', '2', '-subj', '/CN=crdns-test-peering-ca'],
    ['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', key, '-out', csr, '-subj', `/CN=${serverName}`],
    ['x509', '-req', '-in', csr, '-CA', ca, '-CAkey', caKey, '-CAcreateserial', '-out', crt, '-days', '2', '-extfile', ext],
  ];
  for (const args of steps) {
    const r = await run(openssl, args);
    if (r.code !== 0) throw new Error(`openssl ${args.join(' ')} failed: ${r.stderr}`);
  }
  return { crt, key, ca };
}
