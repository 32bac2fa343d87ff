/**
 * Which namespaces may publish which names. Without a policy any object may
 * publish any name in the served zones (ExternalDNS's own model); with one, a
 * record whose owner is outside every name its namespace is granted is
 * rejected, with a reason its owner sees on the object. Rules grant, never
 * deny: a name is allowed when any rule for the object's namespace (and
 * cluster) covers it.
 *
 * Policy file (YAML or JSON):
 *
 *   rules:
 *     - namespaces: [ims, "ims-*"]       # globs over namespace names
 *       names: ["*.ims.example.org"]     # "*.zone": any name below zone; "zone": that name only
 *     - namespaces: ["*"]
 *       clusters: [lab]                  # optional: only objects from these clusters
 *       names: ["*.lab.example.org", "lab.example.org"]
 */
import { yamlPackage } from '../yaml-package.js';
import { fqdn, isInZone, parseName } from '../dns/name.js';

interface Rule {
  namespaces: RegExp[];
  clusters: string[] | undefined;
  /** Canonical names granted exactly. */
  exact: string[];
  /** Canonical names whose every descendant is granted. */
  below: string[];
  text: string;
}

export class NamePolicy {
  private constructor(private readonly rules: readonly Rule[]) {}

  /** Parses a policy file's text; throws an Error naming the first problem. */
  static parse(text: string, file = 'name policy'): NamePolicy {
    let doc: unknown;
    try {
      doc = yamlPackage().parse(text, { uniqueKeys: true });
    } catch (err) {
      throw new Error(`${file}: ${(err as Error).message.split('\n')[0]}`);
    }
    const rules = (doc as { rules?: unknown } | null)?.rules;
    if (!Array.isArray(rules) || rules.length === 0) throw new Error(`${file}: needs a non-empty "rules" list`);
    return new NamePolicy(rules.map((r, i) => parseRule(r, `${file}: rules[${i}]`)));
  }

  /** Undefined when `namespace` (from `cluster`) may publish `name`; otherwise why not. */
  check(name: string, namespace: string, cluster?: string): string | undefined {
    for (const r of this.rules) {
      if (!r.namespaces.some((re) => re.test(namespace))) continue;
      if (r.clusters && (cluster === undefined || !r.clusters.includes(cluster))) continue;
      if (r.exact.includes(name) || r.below.some((z) => name !== z && isInZone(name, z))) return undefined;
    }
    const from = cluster !== undefined ? ` of cluster ${JSON.stringify(cluster)}` : '';
    return `namespace ${JSON.stringify(namespace)}${from} may not publish ${fqdn(name)}: no rule of the name policy grants it`;
  }
}

function parseRule(raw: unknown, where: string): Rule {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new Error(`${where} must be a map`);
  const r = raw as Record<string, unknown>;
  const strings = (key: string, required: boolean): string[] | undefined => {
    const v = r[key];
    if (v === undefined || v === null) {
      if (required) throw new Error(`${where}.${key} is required`);
      return undefined;
    }
    if (!Array.isArray(v) || v.length === 0 || v.some((s) => typeof s !== 'string' || s === '')) throw new Error(`${where}.${key} must be a non-empty list of strings`);
    return v as string[];
  };
  for (const key of Object.keys(r)) if (!['namespaces', 'clusters', 'names'].includes(key)) throw new Error(`${where}: unknown field ${JSON.stringify(key)}`);
  const namespaces = (strings('namespaces', true) as string[]).map(globToRegExp);
  const exact: string[] = [];
  const below: string[] = [];
  for (const pattern of strings('names', true) as string[]) {
    const sub = pattern.startsWith('*.');
    const parsed = parseName(sub ? pattern.slice(2) : pattern);
    if (!parsed.ok) throw new Error(`${where}.names: ${parsed.reason}`);
    (sub ? below : exact).push(parsed.name);
  }
  return { namespaces, clusters: strings('clusters', false), exact, below, text: JSON.stringify(r) };
}

function globToRegExp(glob: string): RegExp {
  return new RegExp(`^${glob.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
}
