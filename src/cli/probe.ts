/**
 * `crdns probe`: the grading client of a resilience run. It owns records
 * (DNSEndpoints under its label, in clusters or manifest folders), changes
 * them at set rates, asks DNS servers about them at a set rate, grades every
 * answer against what it intended, and reports accuracy, latency and
 * propagation: live on --http, and at the end as text, --json and an SVG
 * --plot with the chaos events of --events marked.
 *
 * The modules under src/probe/ do the work; this file reads flags and wires
 * the gRPC transport (crdns query's client) next to the UDP and TCP ones.
 */
import { randomBytes } from 'node:crypto';
import { stat, readFile, writeFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import * as grpc from '@grpc/grpc-js';
import { parseName } from '../dns/name.js';
import { loadKubeConfig } from '../kubernetes/client.js';
import { startHttpServer } from '../observe/http-server.js';
import { parseEventLine, parseEvents, type ProbeEvent } from '../probe/events.js';
import { FolderWriter } from '../probe/folder-writer.js';
import { KubernetesWriter } from '../probe/kubernetes-writer.js';
import { ProbeMetrics } from '../probe/metrics.js';
import type { RecordWriter } from '../probe/record-writer.js';
import { probeNames } from '../probe/records.js';
import { ProbeRun, type ProbeServer } from '../probe/run.js';
import { formatSummary, summarize } from '../probe/summary.js';
import { renderSvg } from '../probe/svg-plot.js';
import { dialDns, parseServer, replyOf, type ServerTarget, type Transport } from '../probe/transport.js';
import { parseAddress } from './addresses.js';
import { helpText, parseFlags, UsageError, type FlagSpec, type FlagValues } from './options.js';
import { NoReplyError, queryClient } from './query.js';

export const PROBE_FLAGS: FlagSpec[] = [
  { name: 'zone', kind: 'string', arg: 'ZONE', help: 'the zone the probe names live in (required)' },
  { name: 'cluster', kind: 'list', arg: 'NAME=KUBECONFIG', help: 'write DNSEndpoints in this cluster (repeatable)' },
  { name: 'manifests', kind: 'list', arg: '[NAME=]DIR', help: 'write manifests in this folder, as cluster NAME (default local) (repeatable)' },
  { name: 'namespace', kind: 'string', arg: 'NS', default: 'default', help: 'namespace of the DNSEndpoints' },
  { name: 'id', kind: 'string', arg: 'ID', default: 'probe', help: 'label value (crdns.io/probe=ID) and name prefix; what carries it is deleted at start and exit' },
  { name: 'server', kind: 'list', arg: 'URL', default: 'udp://127.0.0.1:53', help: 'udp://IP[:PORT], tcp://IP[:PORT], grpc://IP:PORT or unix:///PATH, optionally ?clusters=A,B (repeatable; each graded separately)' },
  { name: 'names', kind: 'int', arg: 'N', default: '50', max: 10_000, help: 'names per cluster that always exist and are updated' },
  { name: 'churn-names', kind: 'int', arg: 'N', default: '4', max: 10_000, help: 'names per cluster that are created and deleted in turn' },
  { name: 'absent-names', kind: 'int', arg: 'N', default: '4', max: 10_000, help: 'names per cluster that never exist (must be NXDOMAIN)' },
  { name: 'qps', kind: 'int', arg: 'N', default: '50', min: 1, max: 100_000, help: 'queries per second, per server' },
  { name: 'timeout', kind: 'int', arg: 'MS', default: '1000', min: 1, max: 60_000, help: 'a reply later than this is a timeout' },
  { name: 'update-every', kind: 'int', arg: 'SECONDS', default: '10', max: 86_400, help: 'update one name per cluster this often; 0: never' },
  { name: 'create-delete-every', kind: 'int', arg: 'SECONDS', default: '30', max: 86_400, help: 'create or delete one churn name per cluster this often; 0: never' },
  { name: 'duration', kind: 'int', arg: 'SECONDS', default: '0', help: 'graded time; 0: until SIGINT or SIGTERM' },
  { name: 'settle-timeout', kind: 'int', arg: 'SECONDS', default: '60', max: 86_400, help: 'longest wait, before grading, for every server to show every record' },
  { name: 'write-timeout', kind: 'int', arg: 'SECONDS', default: '10', min: 1, max: 3600, help: 'a write not acknowledged by then has failed' },
  { name: 'ttl', kind: 'int', arg: 'SECONDS', default: '5', help: 'recordTTL of the probe records' },
  { name: 'keep', kind: 'boolean', help: 'leave the records in place at exit' },
  { name: 'http', kind: 'string', arg: 'ADDR', help: 'host:port for /metrics and /healthz, /readyz (ready once grading)' },
  { name: 'json', kind: 'string', arg: 'FILE', help: 'write the summary as JSON' },
  { name: 'plot', kind: 'string', arg: 'FILE.svg', help: 'write accuracy, latency and propagation over time as SVG' },
  { name: 'events', kind: 'string', arg: 'FILE|-', help: 'chaos events, "ISO-TIME LABEL" per line (start ... / end ...): marked on the plot, windows in the summary' },
  { name: 'progress', kind: 'int', arg: 'SECONDS', default: '10', max: 86_400, help: 'a progress line on stderr this often; 0: none' },
];

export const PROBE_USAGE = helpText(
  'crdns probe --zone ZONE (--cluster NAME=KUBECONFIG ... | --manifests [NAME=]DIR ...) [--server URL ...] [flags]',
  'Owns probe records, changes them at set rates, queries DNS servers about them and grades every answer\n(match, stale, wrong, missing, unexpected, servfail, timeout, error); reports accuracy, latency and propagation.',
  PROBE_FLAGS,
);

// Short, so `<id>-<cluster>-churn-<i>` stays a valid object name and `<id>-churn-<i>` a DNS label.
const LABEL = /^[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?$/;
const NAMESPACE = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

function split(flag: string, text: string, nameOptional: boolean): { name: string; value: string } {
  const i = text.indexOf('=');
  if (i < 0) {
    if (nameOptional) return { name: 'local', value: text };
    throw new UsageError(`--${flag} ${JSON.stringify(text)}: expected NAME=PATH`);
  }
  return { name: text.slice(0, i), value: text.slice(i + 1) };
}

function checkLabel(what: string, v: string): void {
  if (!LABEL.test(v)) throw new UsageError(`${what} ${JSON.stringify(v)}: lowercase letters, digits and '-', at most 32 characters, starting and ending with a letter or digit`);
}

/** gRPC through `crdns query`'s client; DEADLINE_EXCEEDED is a timeout, every other failure an error. */
function grpcTransport(target: ServerTarget, timeoutMs: number): Transport {
  const address = target.scheme === 'unix' ? `unix://${target.path}` : target.host.includes(':') ? `[${target.host}]:${target.port}` : `${target.host}:${target.port}`;
  const client = queryClient(address, timeoutMs, false);
  return {
    ask: async (name) => {
      try {
        return replyOf(await client.ask(name, 'A'), name);
      } catch (err) {
        if (err instanceof NoReplyError && err.code === grpc.status.DEADLINE_EXCEEDED) return { kind: 'timeout' };
        return { kind: 'error', reason: (err as Error).message };
      }
    },
    close: () => client.close(),
  };
}

function settingsOf(v: FlagValues): Record<string, string | number | boolean | string[]> {
  const out: Record<string, string | number | boolean | string[]> = {};
  for (const s of PROBE_FLAGS) {
    const x = v[s.name];
    if (x !== undefined && !['json', 'plot', 'http', 'events'].includes(s.name)) out[s.name] = x;
  }
  return out;
}

export async function probe(argv: readonly string[], env: NodeJS.ProcessEnv, out: (s: string) => void = (s) => process.stdout.write(s)): Promise<number> {
  const { values: v, positionals } = parseFlags(PROBE_FLAGS, argv, env);
  if (v.help) {
    out(PROBE_USAGE);
    return 0;
  }
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
  if (!v.zone) throw new UsageError('--zone is required');
  const zoneName = parseName(v.zone as string);
  if (!zoneName.ok) throw new UsageError(`--zone: ${zoneName.reason}`);
  const id = v.id as string;
  checkLabel('--id', id);
  const namespace = v.namespace as string;
  if (!NAMESPACE.test(namespace)) throw new UsageError(`--namespace ${JSON.stringify(namespace)} is not a namespace name (RFC 1123 label)`);
  const runId = `${new Date().toISOString().replace(/[-:]|\.\d+/g, '')}-${randomBytes(3).toString('hex')}`;
  const ttl = v.ttl as number;
  const writeTimeoutMs = (v['write-timeout'] as number) * 1000;

  const writers: RecordWriter[] = [];
  for (const text of v.cluster as string[]) {
    const { name, value } = split('cluster', text, false);
    checkLabel('--cluster name', name);
    let kubeConfig;
    try {
      kubeConfig = loadKubeConfig(value);
    } catch (err) {
      throw new UsageError(`--cluster ${name}: ${(err as Error).message}`, false);
    }
    writers.push(new KubernetesWriter({ cluster: name, kubeConfig, namespace, id, runId, ttl, timeoutMs: writeTimeoutMs }));
  }
  for (const text of v.manifests as string[]) {
    const { name, value } = split('manifests', text, true);
    checkLabel('--manifests name', name);
    if (!(await stat(value).catch(() => undefined))?.isDirectory()) throw new UsageError(`--manifests ${value}: no such folder`, false);
    writers.push(new FolderWriter({ cluster: name, dir: value, namespace, id, runId, ttl }));
  }
  if (writers.length === 0) throw new UsageError('name at least one --cluster NAME=KUBECONFIG or --manifests DIR to write to');
  const clusters = writers.map((w) => w.cluster);
  if (new Set(clusters).size !== clusters.length) throw new UsageError(`a cluster name is given twice: ${clusters.join(', ')}`);

  const names = probeNames({ id, zone: zoneName.name, clusters, steady: v.names as number, churn: v['churn-names'] as number, absent: v['absent-names'] as number });
  if (names.length === 0) throw new UsageError('--names, --churn-names and --absent-names are all 0: nothing to probe');
  for (const n of [names[0], names.at(-1)]) {
    const ok = n ? parseName(n.fqdn) : undefined;
    if (ok && !ok.ok) throw new UsageError(`probe name ${n?.fqdn}: ${ok.reason}`);
  }

  const targets = (v.server as string[]).map((text) => {
    try {
      return parseServer(text);
    } catch (err) {
      throw new UsageError(`--server ${(err as Error).message}`);
    }
  });
  if (targets.length === 0) throw new UsageError('name at least one --server');
  for (const t of targets) for (const c of t.clusters ?? []) if (!clusters.includes(c)) throw new UsageError(`--server ${t.text}: no cluster "${c}" (clusters: ${clusters.join(', ')})`);
  if (v.http) parseAddress('http', v.http as string, { unix: false });
  const plot = v.plot as string | undefined;
  if (plot && !plot.endsWith('.svg')) throw new UsageError('--plot writes SVG: name a FILE.svg');
  const eventsArg = v.events as string | undefined;
  if (eventsArg && eventsArg !== '-' && !(await stat(eventsArg).catch(() => undefined))) {
    // The chaos tool may create the file later: only its absence at the end is a problem.
    process.stderr.write(`crdns probe: --events ${eventsArg} does not exist yet; it is read at the end of the run\n`);
  }

  const timeoutMs = v.timeout as number;
  const servers: ProbeServer[] = targets.map((target) => ({ target, transport: target.scheme === 'grpc' || target.scheme === 'unix' ? grpcTransport(target, timeoutMs) : dialDns(target, timeoutMs) }));
  const metrics = new ProbeMetrics();
  const log = (line: string) => process.stderr.write(`${line}\n`);
  const run = new ProbeRun({
    id,
    runId,
    names,
    writers,
    servers,
    qps: v.qps as number,
    timeoutMs,
    updateEveryMs: (v['update-every'] as number) * 1000,
    createDeleteEveryMs: (v['create-delete-every'] as number) * 1000,
    durationMs: (v.duration as number) * 1000,
    settleTimeoutMs: (v['settle-timeout'] as number) * 1000,
    keep: v.keep as boolean,
    progressEveryMs: (v.progress as number) * 1000,
    metrics,
    log,
  });

  const http = v.http
    ? await startHttpServer({ listen: v.http as string, registry: metrics.registry, readiness: () => ({ ready: run.isGrading, details: { id, runId } }) }).catch((err: Error) => {
        throw new UsageError(`--http ${v.http as string}: ${err.message}`, false);
      })
    : undefined;
  if (http) log(`probe: metrics on http://${http.address}/metrics`);
  const liveEvents: ProbeEvent[] = [];
  const stdinEvents =
    eventsArg === '-'
      ? createInterface({ input: process.stdin }).on('line', (line) => {
          try {
            const e = parseEventLine(line, Date.now());
            if (e) {
              liveEvents.push(e);
              log(`probe: event ${new Date(e.at).toISOString()} ${e.kind}: ${e.label}`);
            }
          } catch (err) {
            log(`probe: --events: ${(err as Error).message}; line ignored`);
          }
        })
      : undefined;
  let signals = 0;
  const onSignal = () => {
    if (++signals > 1) process.exit(130);
    log('probe: stopping (again to quit at once, without cleaning up)');
    run.stop();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  let result;
  try {
    result = await run.run();
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    stdinEvents?.close();
    for (const s of servers) s.transport.close();
    await http?.close();
  }
  let events = liveEvents;
  if (eventsArg && eventsArg !== '-') {
    try {
      events = parseEvents(await readFile(eventsArg, 'utf8'), Date.now());
    } catch (err) {
      log(`probe: --events ${eventsArg}: ${(err as Error).message}; summary without events`);
    }
  }
  const input = { ...result, settings: settingsOf(v), events };
  const summary = summarize(input);
  out(formatSummary(summary));
  if (v.json) await writeFile(v.json as string, `${JSON.stringify(summary, null, 2)}\n`);
  if (plot) {
    await writeFile(
      plot,
      renderSvg({ title: `crdns probe ${id}, run ${runId}`, from: result.gradedFrom, to: result.endedAt, servers: result.servers.map((s) => s.text), queries: result.queries, propagation: result.propagation, events }),
    );
  }
  return 0;
}
