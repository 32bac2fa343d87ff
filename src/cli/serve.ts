/** `crdns serve`: wires a source, the zone store, the gRPC server and the operator's HTTP port together. */
import type { WiringContext } from './kubernetes-flags.js';
import { registerManifestMetrics } from '../observe/source-metrics.js';
import type { SourceWiring } from './source-wiring.js';
import { isLogLevel, createLogger, type Logger } from '../logger.js';
import { Metrics } from '../observe/metrics.js';
import { startHttpServer } from '../observe/http-server.js';
import { GrpcServer } from '../server/grpc-server.js';
import { HealthState } from '../server/health-service.js';
import { ManifestFolderSource } from '../sources/manifests/folder-source.js';
import { ZoneStore } from '../store/zone-store.js';
import { helpText, parseFlags, UsageError, type FlagSpec, type FlagValues } from './options.js';
import { PEER_FLAGS } from './peer-flags.js';
import { SOURCE_FLAGS } from './source-flags.js';
import { POLICY_FLAGS, policyFromFlags } from './policy-flags.js';
import { ZONE_FLAGS, zonesFromFlags } from './zone-flags.js';
import { fqdn } from '../dns/name.js';

export const SERVE_FLAGS: FlagSpec[] = [
  ...ZONE_FLAGS,
  ...POLICY_FLAGS,
  ...PEER_FLAGS,
  ...SOURCE_FLAGS,
  { name: 'manifests', kind: 'string', arg: 'DIR', help: 'serve DNSEndpoint manifests from this folder, watched live, instead of the Kubernetes API' },
  { name: 'kubeconfig', kind: 'string', arg: 'PATH', help: 'kubeconfig for the Kubernetes API (default: in-cluster config, then ~/.kube/config)' },
  { name: 'namespace', kind: 'list', arg: 'NS', help: 'watch DNSEndpoints in this namespace only (repeatable; default all namespaces)' },
  { name: 'label-selector', kind: 'string', arg: 'SELECTOR', help: 'watch only DNSEndpoints matching this label selector' },
  { name: 'watch-idle-timeout', kind: 'int', arg: 'SECONDS', default: '600', help: 'restart a Kubernetes watch that has been silent this long' },
  { name: 'listen', kind: 'list', arg: 'ADDR', default: '127.0.0.1:8053', help: 'gRPC address, host:port or unix:///path (repeatable)' },
  { name: 'tls-listen', kind: 'list', arg: 'ADDR', help: 'host:port or unix:///path served with mutual TLS, for CoreDNS with peer clusters (repeatable)' },
  { name: 'tls-cert', kind: 'string', arg: 'FILE', help: 'PEM certificate chain for --tls-listen (re-read every minute)' },
  { name: 'tls-key', kind: 'string', arg: 'FILE', help: 'PEM private key for --tls-listen' },
  { name: 'tls-client-ca', kind: 'string', arg: 'FILE', help: 'PEM CA bundle that client certificates must chain to' },
  { name: 'http', kind: 'string', arg: 'ADDR', help: 'host:port for /metrics, /healthz and /readyz (default: off)' },
  { name: 'log-level', kind: 'string', arg: 'LEVEL', default: 'info', help: 'debug, info, warn or error' },
];

export const SERVE_USAGE = helpText(
  'crdns serve --zone ZONE [--zone ZONE ...] (--manifests DIR | [--kubeconfig PATH] [--namespace NS ...]) [flags]',
  'Answers authoritative DNS for the given zones over CoreDNS\'s grpc plugin contract\n(coredns.dns.DnsService/Query), from ExternalDNS DNSEndpoint resources.',
  SERVE_FLAGS,
);

export async function serve(argv: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  const { values: v, positionals } = parseFlags(SERVE_FLAGS, argv, env);
  if (v.help) {
    process.stdout.write(SERVE_USAGE);
    return 0;
  }
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
  const zones = zonesFromFlags(v);
  if (zones.length === 0) throw new UsageError('at least one --zone is required');
  const level = v['log-level'] as string;
  if (!isLogLevel(level)) throw new UsageError(`--log-level must be debug, info, warn or error, not "${level}"`);
  const logger = createLogger(level);

  const policy = policyFromFlags(v);
  const store = new ZoneStore({ zones, defaultTtl: v['default-ttl'] as number, logger, ...(policy ? { policy } : {}) });
  const health = new HealthState();
  const metrics = new Metrics(() => store.current, () => store.ready);
  const wiring = await makeSource(v, logger, { store, registry: metrics.registry });
  const source = wiring.source;
  let first = true;
  store.onRebuild((e) => {
    health.set(true);
    metrics.rebuilt(e);
    wiring.onRebuild?.(e);
    const fields = { generation: e.snapshot.generation, serial: e.snapshot.serial, objects: e.objectCount, rrsets: e.snapshot.stats.rrsets, buildMs: e.buildMs };
    if (first) logger.info('serving first snapshot', fields);
    else logger.debug('serving new snapshot', fields);
    first = false;
  });

  const tlsListen = v['tls-listen'] as string[];
  const tlsFiles = [v['tls-cert'], v['tls-key'], v['tls-client-ca']];
  if (tlsListen.length > 0 && tlsFiles.some((f) => !f)) throw new UsageError('--tls-listen needs --tls-cert, --tls-key and --tls-client-ca');
  const grpcServer = new GrpcServer({
    listen: v.listen as string[],
    tlsListen,
    ...(tlsListen.length > 0 ? { tls: { cert: v['tls-cert'] as string, key: v['tls-key'] as string, clientCa: v['tls-client-ca'] as string } } : {}),
    snapshot: () => store.current,
    health,
    observer: metrics,
  });
  const bound = await grpcServer.start();
  logger.info('grpc listening', { addresses: bound, zones: zones.map((z) => fqdn(z.apex)) });
  const http = v.http
    ? await startHttpServer({
        listen: v.http as string,
        registry: metrics.registry,
        readiness: () => {
          const s = store.current;
          return { ready: store.ready, details: { source: source.name, generation: s?.generation ?? 0, snapshotAgeSeconds: s ? (Date.now() - s.builtAt) / 1000 : null, ...wiring.details?.() } };
        },
      })
    : undefined;
  if (http) logger.info('http listening', { address: http.address });

  await source.start(store);

  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = async (signal: string) => {
      if (stopping) return;
      stopping = true;
      logger.info('stopping', { signal });
      health.set(false);
      await source.stop().catch((err: unknown) => logger.warn('source did not stop cleanly', { error: err }));
      await wiring.stop?.().catch((err: unknown) => logger.warn('status reporter did not stop cleanly', { error: err }));
      store.close();
      await grpcServer.stop();
      await http?.close();
      resolve(0);
    };
    process.once('SIGTERM', () => void stop('SIGTERM'));
    process.once('SIGINT', () => void stop('SIGINT'));
  });
}

async function makeSource(v: FlagValues, logger: Logger, ctx: WiringContext): Promise<SourceWiring> {
  if (v.manifests) {
    if ((v.peer as string[]).length > 0) throw new UsageError('--peer watches Kubernetes API servers; it cannot be combined with --manifests');
    const dir = v.manifests as string;
    const log = logger.child({ source: 'manifests', dir });
    const source = new ManifestFolderSource({ dir, logger: log });
    registerManifestMetrics(ctx.registry, () => source.problems());
    return { source };
  }
  const { kubernetesSourceFromFlags } = await import('./kubernetes-flags.js');
  return kubernetesSourceFromFlags(v, logger, ctx);
}
