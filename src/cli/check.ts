/**
 * `crdns check`: validates manifests offline with the same code `serve`
 * uses, cross-object conflicts included, and says precisely what is wrong.
 * Exit status 1 when anything would be rejected, so it fits a CI pipeline.
 * Documents of other kinds are listed as ignored, on lines of their own.
 */
import { stat } from 'node:fs/promises';
import { zoneConfig, DEFAULT_ZONE_SETTINGS } from '../dns/zone-config.js';
import { formatManifestProblem } from '../sources/manifests/documents.js';
import { loadManifests } from '../sources/manifests/read-files.js';
import { ZoneStore } from '../store/zone-store.js';
import { helpText, parseFlags, UsageError } from './options.js';
import { POLICY_FLAGS, policyFromFlags } from './policy-flags.js';
import { ZONE_FLAGS, zonesFromFlags } from './zone-flags.js';

const CHECK_FLAGS = [...ZONE_FLAGS, ...POLICY_FLAGS];

export const CHECK_USAGE = helpText(
  'crdns check [--zone ZONE ...] FILE|DIR ...',
  'Validates DNSEndpoint manifests offline and prints every endpoint that crdns would reject.\nWithout --zone, names are not checked against served zones.',
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

  for (const p of positionals) {
    if (!(await stat(p).catch(() => undefined))) throw new UsageError(`${p}: no such file or folder`);
  }
  // One set for every argument, so a key defined twice is caught across files as `serve` would.
  const { objects, problems: fileProblems, ignored } = await loadManifests(positionals);
  const policy = policyFromFlags(v);
  const store = new ZoneStore({ zones, defaultTtl: v['default-ttl'] as number, ...(policy ? { policy } : {}) });
  store.replaceAll(objects);
  store.synced();
  const built = store.flush();
  let bad = fileProblems.length;
  for (const p of fileProblems) out(`${formatManifestProblem(p)}\n`);
  const byKey = new Map(objects.map((o) => [o.key, o]));
  for (const [key, list] of built?.problems ?? []) {
    const origin = byKey.get(key)?.origin;
    for (const p of list) {
      bad++;
      out(`${origin?.file ?? key}: ${key} endpoints[${p.index}].${p.field}: ${p.reason}\n`);
    }
  }
  // Not problems (a ConfigMap next to the DNSEndpoints is normal), but said, so nothing is skipped unseen.
  for (const d of ignored) out(`ignored: ${d.origin} kind=${d.kind}\n`);
  const rrsets = built?.snapshot.stats.rrsets ?? 0;
  out(`${objects.length} DNSEndpoint objects, ${rrsets} RRsets served, ${bad} problem${bad === 1 ? '' : 's'}\n`);
  return bad === 0 ? 0 : 1;
}
