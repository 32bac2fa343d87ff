/**
 * The records a probe owns: which names exist in which cluster, and the
 * address a version of a record carries. Every write gets a new version from
 * one counter per run, and the address spells that version, so an answer says
 * by itself which write it came from: the current one (match), an earlier one
 * of the same name (stale), or one nobody wrote for that name (wrong).
 */

/** What a name is for: updated in place, created and deleted in turn, or never created. */
export type NameKind = 'steady' | 'churn' | 'absent';

export interface ProbeName {
  /** Canonical DNS name, as queried. */
  fqdn: string;
  /** The cluster (or folder) whose records hold it; absent names are "of" a cluster too, for cross-cluster reads. */
  cluster: string;
  kind: NameKind;
  /** The DNSEndpoint's metadata.name, also the manifest file's base name. */
  object: string;
}

/** The label that marks a probe's DNSEndpoints; its value is the probe's --id. */
export const OWNER_LABEL = 'crdns.io/probe';
/** Which run wrote an object, for a human reading `kubectl get -o yaml`; never used to select. */
export const RUN_ANNOTATION = 'crdns.io/probe-run';

export interface NamePlan {
  id: string;
  zone: string;
  clusters: readonly string[];
  steady: number;
  churn: number;
  absent: number;
}

/**
 * Names per cluster: `<id>-<i>.<cluster>.<zone>` (steady), `<id>-churn-<i>…`
 * and `<id>-absent-<i>…`. Clusters are interleaved so a round robin over the
 * list visits every cluster at the same pace.
 */
export function probeNames(plan: NamePlan): ProbeName[] {
  const perCluster = plan.clusters.map((cluster) => {
    const suffix = plan.zone === '' ? cluster : `${cluster}.${plan.zone}`;
    const list: ProbeName[] = [];
    for (let i = 0; i < plan.steady; i++) list.push({ fqdn: `${plan.id}-${i}.${suffix}`, cluster, kind: 'steady', object: `${plan.id}-${cluster}-${i}` });
    for (let i = 0; i < plan.churn; i++) list.push({ fqdn: `${plan.id}-churn-${i}.${suffix}`, cluster, kind: 'churn', object: `${plan.id}-${cluster}-churn-${i}` });
    for (let i = 0; i < plan.absent; i++) list.push({ fqdn: `${plan.id}-absent-${i}.${suffix}`, cluster, kind: 'absent', object: `${plan.id}-${cluster}-absent-${i}` });
    return list;
  });
  const out: ProbeName[] = [];
  const longest = Math.max(0, ...perCluster.map((l) => l.length));
  for (let i = 0; i < longest; i++) for (const l of perCluster) if (l[i]) out.push(l[i] as ProbeName);
  return out;
}

/** Versions live in 10.0.0.0/8 (private, so a probe never points anyone at a real host); 0 is never used. */
export const MAX_VERSION = 0xffffff;

export function addressOf(version: number): string {
  if (!Number.isInteger(version) || version < 1 || version > MAX_VERSION) throw new RangeError(`version ${version} outside 1..${MAX_VERSION}`);
  return `10.${(version >> 16) & 255}.${(version >> 8) & 255}.${version & 255}`;
}

/** The version an address spells, or undefined for an address no probe writes. */
export function versionOf(address: string): number | undefined {
  const m = /^10\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(address);
  if (!m) return undefined;
  const [a, b, c] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (a > 255 || b > 255 || c > 255) return undefined;
  const v = (a << 16) + (b << 8) + c;
  return v === 0 ? undefined : v;
}

export interface DnsEndpointBody {
  apiVersion: 'externaldns.k8s.io/v1alpha1';
  kind: 'DNSEndpoint';
  metadata: { name: string; namespace: string; labels: Record<string, string>; annotations: Record<string, string> };
  spec: { endpoints: { dnsName: string; recordType: 'A'; targets: string[]; recordTTL: number }[] };
}

/** One DNSEndpoint per name, as the talk's client had it: a write touches one record and nothing else. */
export function dnsEndpointFor(name: ProbeName, version: number, o: { id: string; runId: string; namespace: string; ttl: number }): DnsEndpointBody {
  return {
    apiVersion: 'externaldns.k8s.io/v1alpha1',
    kind: 'DNSEndpoint',
    metadata: { name: name.object, namespace: o.namespace, labels: { [OWNER_LABEL]: o.id }, annotations: { [RUN_ANNOTATION]: o.runId } },
    spec: { endpoints: [{ dnsName: name.fqdn, recordType: 'A', targets: [addressOf(version)], recordTTL: o.ttl }] },
  };
}
