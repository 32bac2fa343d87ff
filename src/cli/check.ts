/**
 * `crdns check`: validates manifests offline with the same code `serve`
 * uses, cross-object conflicts included, and says precisely what is wrong.
 * Exit status 1 when anything would be rejected, so it fits a CI pipeline.
 * Documents of other kinds are listed as ignored, on lines of their own.
 * Services and Ingresses are checked with the live source's conversion, and
 * the output says they would be served without readiness.
 */
import { stat } from 'node:fs/promises';
import { zoneConfig, DEFAULT_ZONE_SETTINGS } from '../dns/zone-config.js';
import { formatManifestProblem } from '../sources/manifests/documents.js';
import { loadManifests } from '../sources/manifests/read-files.js';
import { manifestKindOfKey } from '../sources/manifests/workload-documents.js';
import { describeDerivedProblem } from '../sources/services/derived-problem.js';
import { ZoneStore } from '../store/zone-store.js';
import { helpText, parseFlags, UsageError } from './options.js';
import { POLICY_FLAGS, policyFromFlags } from './policy-flags.js';
import { ANNOTATION_PREFIX_FLAG, annotationPrefixesFromFlags } from './source-flags.js';
import { ZONE_FLAGS, zonesFromFlags } from './zone-flags.js';

const CHECK_FLAGS = [...ZONE_FLAGS, ...POLICY_FLAGS, ANNOTATION_PREFIX_FLAG];

export const CHECK_USAGE = helpText(
  'crdns check [--zone ZONE ...] FILE|DIR ...',
  'Validates DNSEndpoint, Service and Ingress manifests offline and prints every endpoint that crdns would reject.\nWithout --zone, names are not checked against served zones. Services and Ingresses from files are\nserved without readiness (a folder has no EndpointSlices).',
  CHECK_FLAGS,
);

export async function check(argv: readonly string[], env: NodeJS.ProcessEnv, out: (s: string) => void = (s) => process.stdout.write(s)): Promise<number> {
  const { values: v, positionals } = parseFlags(CHECK_FLAGS, argv, env);
  if (v.help) {
    out(CHECK_USAGE);
    return 0;
  }
  if (positionals.length === 0) throw new UsageError('name at least one manifest FILE or DIR');
  let zones = zonesFromFlags(v);
  // Without zones, check everything as if the root were served, so every other rule still applies.
  if (zones.length === 0) zones = [zoneConfig('', DEFAULT_ZONE_SETTINGS)];
  const annotationPrefixes = annotationPrefixesFromFlags(v);

  for (const p of positionals) {
    if (!(await stat(p).catch(() => undefined))) throw new UsageError(`${p}: no such file or folder`);
  }
  // One set for every argument, so a key defined twice is caught across files as `serve` would.
  const { objects, problems: fileProblems, ignored, notes } = await loadManifests(positionals, { annotationPrefixes });
  const policy = policyFromFlags(v);
  const store = new ZoneStore({ zones, defaultTtl: v['default-ttl'] as number, ...(policy ? { policy } : {}) });
  store.replaceAll(objects);
  store.synced();
  const built = store.flush();
  let bad = fileProblems.length;
  for (const p of fileProblems) out(`${formatManifestProblem(p)}\n`);
  const byKey = new Map(objects.map((o) => [o.key, o]));
  for (const [key, list] of built?.problems ?? []) {
    const object = byKey.get(key);
    for (const p of list) {
      bad++;
      // A Service's entries were derived, not written: name the record, not an index the author never saw.
      const what = manifestKindOfKey(key) === 'dnsendpoint' ? `endpoints[${p.index}].${p.field}: ${p.reason}` : describeDerivedProblem(object?.endpoints ?? [], p);
      out(`${object?.origin.file ?? key}: ${key} ${what}\n`);
    }
  }
  for (const n of notes) out(`note: ${n.origin}: ${n.object}: ${n.message}\n`);
  // Not problems (a ConfigMap next to the DNSEndpoints is normal), but said, so nothing is skipped unseen.
  for (const d of ignored) out(`ignored: ${d.origin} kind=${d.kind}${d.note ? ` (${d.note})` : ''}\n`);
  const count = { dnsendpoint: 0, service: 0, ingress: 0 };
  for (const o of objects) count[manifestKindOfKey(o.key)]++;
  if (count.service + count.ingress > 0) {
    out('note: Services and Ingresses from files are served without readiness: a folder has no EndpointSlices, so nothing tells crdns whether anything behind them is ready\n');
  }
  const rrsets = built?.snapshot.stats.rrsets ?? 0;
  const workloads = count.service + count.ingress > 0 ? `${count.service} Service${count.service === 1 ? '' : 's'}, ${count.ingress} Ingress${count.ingress === 1 ? '' : 'es'}, ` : '';
  out(`${count.dnsendpoint} DNSEndpoint objects, ${workloads}${rrsets} RRsets served, ${bad} problem${bad === 1 ? '' : 's'}\n`);
  return bad === 0 ? 0 : 1;
}
