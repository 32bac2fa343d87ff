/**
 * `crdns serve`: wires a source, the zone store, the gRPC server and the
 * operator's HTTP port together. Start-up runs in three steps, so nothing is
 * reported as listening unless all of it works: check every flag (and the
 * files they name), bind every address, then start the source.
 */
import type { WiringContext } from './kubernetes-flags.js';
import { registerManifestMetrics } from '../observe/source-metrics.js';
import type { SourceWiring } from './source-wiring.js';
import { createLogger, type Logger } from '../logger.js';
import { HeapTrim } from '../heap-trim.js';
import { Metrics } from '../observe/metrics.js';
import { startHttpServer } from '../observe/http-server.js';
import { GrpcServer, ListenError } from '../server/grpc-server.js';
import { HealthState } from '../server/health-service.js';
import { ManifestFolderSource } from '../sources/manifests/folder-source.js';
import { ZoneStore } from '../store/zone-store.js';
import { helpText, parseFlags, UsageError, type FlagSpec, type FlagValues } from './options.js';
import { PEER_FLAGS } from './peer-flags.js';
import { SOURCE_FLAGS } from './source-flags.js';
import { POLICY_FLAGS, policyFromFlags } from './policy-flags.js';
import { serveConfig, type ServeConfig } from './serve-config.js';
import { TlsFileError, TlsFileProvider } from './tls-files.js';
import { claimUnixSocket } from './unix-socket.js';
import { crdnsVersion } from './version.js';
import { ZONE_FLAGS } from './zone-flags.js';
import { fqdn } from '../dns/name.js';
import { WarmStart } from './warm-start.js';
import { snapshotScope } from './snapshot-flags.js';
import type { WorkerPool } from '../server/workers/worker-pool.js';

/** How often the TLS files are re-read: cert-manager renews well ahead of expiry, so a minute is prompt. */
const TLS_RELOAD_MS = 60_000;

export const SERVE_FLAGS: FlagSpec[] = [
  ...ZONE_FLAGS,
  ...POLICY_FLAGS,
  ...PEER_FLAGS,
  ...SOURCE_FLAGS,
  { name: 'manifests', kind: 'string', arg: 'DIR', help: 'serve the DNSEndpoint, Service and Ingress manifests in this folder, watched live, instead of the Kubernetes API (Services and Ingresses without readiness)' },
  { name: 'kubeconfig', kind: 'string', arg: 'PATH', help: 'kubeconfig for the Kubernetes API (default: in-cluster config, then ~/.kube/config)' },
  { name: 'namespace', kind: 'list', arg: 'NS', help: 'watch only this namespace, for every enabled --source and its EndpointSlices (repeatable; default all namespaces)' },
  { name: 'label-selector', kind: 'string', arg: 'SELECTOR', help: 'watch only DNSEndpoints matching this label selector' },
  // Kept in milliseconds for setTimeout, whose limit is 2^31-1 ms.
  { name: 'watch-idle-timeout', kind: 'int', arg: 'SECONDS', default: '600', min: 1, max: Math.floor((2 ** 31 - 1) / 1000), help: 'restart a Kubernetes watch that has been silent this long' },
  { name: 'listen', kind: 'list', arg: 'ADDR', default: '127.0.0.1:8053', help: 'gRPC address, host:port, :port (all addresses, IPv4 and IPv6) or unix:///path (repeatable); with --workers, {worker} in it is replaced by each worker\'s index' },
  { name: 'workers', kind: 'int', arg: 'N', default: '1', min: 1, max: 64, help: 'serving worker threads, each answering on its own --listen addresses (those with {worker}); one source and one store feed them all' },
  { name: 'tls-listen', kind: 'list', arg: 'ADDR', help: 'host:port, :port or unix:///path served with mutual TLS, for CoreDNS with peer clusters (repeatable)' },
  { name: 'tls-cert', kind: 'string', arg: 'FILE', help: 'PEM certificate chain for --tls-listen (re-read every minute and on SIGHUP)' },
  { name: 'tls-key', kind: 'string', arg: 'FILE', help: 'PEM private key for --tls-listen' },
  { name: 'tls-client-ca', kind: 'string', arg: 'FILE', help: 'PEM CA bundle that client certificates must chain to' },
  { name: 'http', kind: 'string', arg: 'ADDR', help: 'host:port or :port for /metrics, /healthz and /readyz (default: off)' },
  { name: 'snapshot-file', kind: 'string', arg: 'PATH', help: 'keep the last good state in this file (written atomically about a second after a change) and serve it at start until the source lists' },
  { name: 'snapshot-wait', kind: 'int', arg: 'SECONDS', default: '3', max: 3600, help: 'with --snapshot-file: how long a start waits for the source to list before serving the file' },
  { name: 'log-level', kind: 'string', arg: 'LEVEL', default: 'info', help: 'debug, info, warn or error' },
];

export const SERVE_USAGE = helpText(
  'crdns serve --zone ZONE [--zone ZONE ...] (--manifests DIR | [--kubeconfig PATH] [--namespace NS ...]) [flags]',
  'Answers authoritative DNS for the given zones over CoreDNS\'s grpc plugin contract\n(coredns.dns.DnsService/Query), from ExternalDNS DNSEndpoint resources.\nSIGHUP re-reads the TLS files and rescans the manifest folder; SIGTERM and SIGINT stop gracefully.',
  SERVE_FLAGS,
);

export async function serve(argv: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  const parsed = parseFlags(SERVE_FLAGS, argv, env);
  if (parsed.values.help) {
    process.stdout.write(SERVE_USAGE);
    return 0;
  }
  const cfg = await serveConfig(parsed);
  const logger = createLogger(cfg.logLevel);

  const policy = policyFromFlags(parsed.values);
  const store = new ZoneStore({ zones: cfg.zones, defaultTtl: cfg.defaultTtl, logger, ...(policy ? { policy } : {}) });
  const health = new HealthState();
  let warm: WarmStart | undefined;
  const metrics = new Metrics(() => store.current, () => store.ready, { version: crdnsVersion(), dataTime: () => warm?.dataTime() });
  const certificates = cfg.tls ? await openTlsFiles(cfg, logger, metrics) : undefined;
  const wiring = await makeSource(cfg, parsed.values, logger, { store, registry: metrics.registry });
  const source = wiring.source;
  // Read before the source starts (after its partitions exist), so the file is there to serve the moment the wait is over.
  if (cfg.snapshot) {
    warm = await WarmStart.open({
      path: cfg.snapshot.path,
      waitMs: cfg.snapshot.waitMs,
      store,
      scope: snapshotScope(cfg, parsed.values),
      crdns: crdnsVersion(),
      logger: logger.child({ component: 'snapshot-file' }),
      registry: metrics.registry,
    });
  }
  for (const a of [...cfg.listen, ...cfg.tlsListen, ...cfg.workerListen.flat()]) if (a.kind === 'unix') await claimUnixSocket(a.flag, a.text, a.path);

  const grpcServer = new GrpcServer({
    listen: cfg.listen.map((a) => a.text),
    tlsListen: cfg.tlsListen.map((a) => a.text),
    ...(certificates ? { certificates } : {}),
    snapshot: () => store.current,
    health,
    observer: metrics,
  });
  const pool = cfg.workers > 1 ? await workerPool(cfg, store, logger, metrics) : undefined;
  const bound = await Promise.all([grpcServer.start(), pool?.start() ?? []]).then(([main, workers]) => [...main, ...workers]).catch(async (err: unknown) => {
    await grpcServer.stop(0);
    await pool?.stop(0);
    if (!(err instanceof ListenError)) throw err;
    const flag = [...cfg.listen, ...cfg.workerListen.flat()].some((a) => a.text === err.address) ? 'listen' : 'tls-listen';
    throw new UsageError(`--${flag} ${JSON.stringify(err.address)}: ${err.reason}`, false);
  });
  const http = cfg.http
    ? await startHttpServer({
        listen: cfg.http.text,
        registry: metrics.registry,
        readiness: () => {
          const s = store.current;
          const dataTime = warm?.dataTime() ?? s?.builtAt;
          return {
            ready: store.ready && (pool?.ready ?? true),
            details: { source: source.name, generation: s?.generation ?? 0, snapshotAgeSeconds: dataTime !== undefined ? (Date.now() - dataTime) / 1000 : null, ...wiring.details?.(), ...warm?.details(), ...(pool ? { workers: pool.details() } : {}) },
          };
        },
      }).catch(async (err: NodeJS.ErrnoException) => {
        await grpcServer.stop(0);
        const reason = err.code === 'EADDRINUSE' ? 'address already in use' : err.code === 'EACCES' ? 'permission denied' : err.message;
        throw new UsageError(`--http ${JSON.stringify(cfg.http?.text)}: cannot listen: ${reason}`, false);
      })
    : undefined;
  logger.info('grpc listening', { addresses: bound, zones: cfg.zones.map((z) => fqdn(z.apex)) });
  if (http) logger.info('http listening', { address: http.address });

  let first = true;
  const heapTrim = new HeapTrim();
  store.onRebuild((e) => {
    if (e.build.kind === 'full') heapTrim.afterFullBuild();
    // Workers first: they then build their replicas while this thread does its bookkeeping.
    pool?.rebuilt(e);
    pool?.setServing(true);
    health.set(true);
    metrics.rebuilt(e);
    wiring.onRebuild?.(e);
    const fields = { generation: e.snapshot.generation, serial: e.snapshot.serial, objects: e.objectCount, rrsets: e.snapshot.stats.rrsets, buildMs: e.buildMs };
    if (first) logger.info('serving first snapshot', fields);
    else logger.debug('serving new snapshot', fields);
    first = false;
  });
  warm?.begin();
  await source.start(store);

  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = async (signal: string) => {
      if (stopping) return;
      stopping = true;
      logger.info('stopping', { signal });
      process.removeListener('SIGHUP', hangup);
      health.set(false);
      pool?.setServing(false);
      certificates?.stop();
      await source.stop().catch((err: unknown) => logger.warn('source did not stop cleanly', { error: err }));
      await wiring.stop?.().catch((err: unknown) => logger.warn('status reporter did not stop cleanly', { error: err }));
      // Last, so what was pending is in the file when the next crdns starts.
      await warm?.close().catch((err: unknown) => logger.warn('snapshot file not written on stop', { error: err }));
      store.close();
      heapTrim.stop();
      await Promise.all([grpcServer.stop(), pool?.stop()]);
      await http?.close();
      resolve(0);
    };
    // SIGHUP's default action would kill the process without a graceful stop; here it means "look again".
    const hangup = () => {
      if (stopping) return;
      logger.info('SIGHUP: reloading', { tls: certificates !== undefined, manifests: source instanceof ManifestFolderSource });
      if (certificates) void certificates.reload().then((r) => logger.info('SIGHUP: TLS files checked', { result: r }));
      if (source instanceof ManifestFolderSource) void source.rescan().then(() => logger.info('SIGHUP: manifest folder rescanned'));
    };
    process.on('SIGHUP', hangup);
    process.once('SIGTERM', () => void stop('SIGTERM'));
    process.once('SIGINT', () => void stop('SIGINT'));
  });
}

async function workerPool(cfg: ServeConfig, store: ZoneStore, logger: Logger, metrics: Metrics): Promise<WorkerPool> {
  const { WorkerPool } = await import('../server/workers/worker-pool.js');
  return new WorkerPool({
    zones: cfg.zones,
    listen: cfg.workerListen.map((addresses) => addresses.map((a) => a.text)),
    logLevel: cfg.logLevel,
    logger: logger.child({ component: 'workers' }),
    currentBuild: () => store.currentBuild(),
    // A dead worker's unix socket file stays behind; the same check as at start removes only that.
    beforeRestart: async (listen) => {
      for (const a of cfg.workerListen.flat()) if (a.kind === 'unix' && listen.includes(a.text)) await claimUnixSocket(a.flag, a.text, a.path);
    },
    onTally: (t) => metrics.tallied(t),
    onRestart: () => metrics.workerRestarted(),
  });
}

async function openTlsFiles(cfg: ServeConfig, logger: Logger, metrics: Metrics): Promise<TlsFileProvider> {
  try {
    return await TlsFileProvider.open(cfg.tls as NonNullable<ServeConfig['tls']>, {
      intervalMs: TLS_RELOAD_MS,
      logger: logger.child({ component: 'tls' }),
      onReloadFailure: () => metrics.tlsReloadFailed(),
    });
  } catch (err) {
    if (err instanceof TlsFileError) throw new UsageError(err.message, false);
    throw err;
  }
}

async function makeSource(cfg: ServeConfig, v: FlagValues, logger: Logger, ctx: WiringContext): Promise<SourceWiring> {
  if (cfg.manifests !== undefined) {
    const log = logger.child({ source: 'manifests', dir: cfg.manifests });
    const source = new ManifestFolderSource({ dir: cfg.manifests, logger: log, annotationPrefixes: cfg.annotationPrefixes });
    registerManifestMetrics(ctx.registry, () => source.problems());
    return { source };
  }
  const { kubernetesSourceFromFlags } = await import('./kubernetes-flags.js');
  try {
    return await kubernetesSourceFromFlags(v, logger, ctx);
  } catch (err) {
    if (err instanceof UsageError) throw err;
    // Only the kubeconfig is read here; the API itself is not contacted before the listeners are up.
    const where = v.kubeconfig ? `--kubeconfig ${JSON.stringify(v.kubeconfig)}: ` : '';
    throw new UsageError(`${where}${(err as Error).message}`, false);
  }
}
