/**
 * A synthetic telco-shaped zone, written two ways from one list of records:
 * as DNSEndpoint manifests for crdns and as an RFC 1035 zone file for the
 * peers (CoreDNS file, NSD). Both forms carry the same SOA and NS as crdns
 * synthesizes with its default flags.
 */
export interface SyntheticRecord {
  name: string;
  type: string;
  ttl: number;
  /** Target as ExternalDNS writes it. */
  target: string;
}

export interface SyntheticZone {
  zone: string;
  records: SyntheticRecord[];
  /** (name, type) pairs to query: hits, NODATA and NXDOMAIN mixed. */
  queries: [string, string][];
}

export function syntheticZone(zone: string, hosts: number): SyntheticZone {
  const records: SyntheticRecord[] = [];
  const queries: [string, string][] = [];
  for (let i = 0; i < hosts; i++) {
    const h = `nf${i}.${zone}`;
    records.push({ name: h, type: 'A', ttl: 300, target: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}` });
    records.push({ name: h, type: 'AAAA', ttl: 300, target: ipv6Of(i) });
    queries.push([h, 'A'], [h, 'AAAA'], [h, 'TXT'], [`missing${i}.${zone}`, 'A']);
    if (i % 10 === 0) {
      records.push({ name: `_sip._udp.svc${i}.${zone}`, type: 'SRV', ttl: 300, target: `10 60 5060 ${h}.` });
      records.push({ name: `svc${i}.${zone}`, type: 'NAPTR', ttl: 300, target: `10 50 "S" "SIP+D2U" "" _sip._udp.svc${i}.${zone}.` });
      records.push({ name: `alias${i}.${zone}`, type: 'CNAME', ttl: 300, target: `${h}` });
      queries.push([`_sip._udp.svc${i}.${zone}`, 'SRV'], [`svc${i}.${zone}`, 'NAPTR'], [`alias${i}.${zone}`, 'A']);
    }
  }
  return { zone, records, queries };
}

/** fd00::<i>, in two groups past 65,535 (a group holds four hex digits); unchanged for smaller zones. */
function ipv6Of(i: number): string {
  return i < 0x10000 ? `fd00::${i.toString(16)}` : `fd00::${(i >>> 16).toString(16)}:${(i & 0xffff).toString(16)}`;
}

/**
 * How the manifests are written: `json-in-yaml` (one JSON document per YAML
 * document; what these benchmarks used first), `yaml` (block style, as
 * `kubectl get -o yaml` and Helm write it) or `json` (one `List`, for a
 * `.json` file).
 */
export type ManifestFormat = 'json-in-yaml' | 'yaml' | 'json';

export function manifestFileName(format: ManifestFormat): string {
  return format === 'json' ? 'zone.json' : 'zone.yaml';
}

/**
 * DNSEndpoints per manifest file in toManifestFiles: about 10 MB at 100
 * endpoints each, under the folder source's limit per file (read-files.ts),
 * so a zone of a million records is a folder of files, as an operator would
 * keep it, and one of 100k records is still one file.
 */
const OBJECTS_PER_FILE = 1000;

export function toManifest(z: SyntheticZone, objectSize = 100, format: ManifestFormat = 'json-in-yaml'): string {
  return formatManifest(dnsEndpoints(z, objectSize), format);
}

/** The same DNSEndpoints as toManifest, in files of at most OBJECTS_PER_FILE; one file named manifestFileName when they fit. */
export function toManifestFiles(z: SyntheticZone, objectSize = 100, format: ManifestFormat = 'json-in-yaml'): { name: string; text: string }[] {
  const docs = dnsEndpoints(z, objectSize);
  if (docs.length <= OBJECTS_PER_FILE) return [{ name: manifestFileName(format), text: formatManifest(docs, format) }];
  const files: { name: string; text: string }[] = [];
  const ext = format === 'json' ? 'json' : 'yaml';
  for (let i = 0; i < docs.length; i += OBJECTS_PER_FILE) {
    files.push({ name: `zone-${String(i / OBJECTS_PER_FILE).padStart(4, '0')}.${ext}`, text: formatManifest(docs.slice(i, i + OBJECTS_PER_FILE), format) });
  }
  return files;
}

interface BenchEndpoint {
  dnsName?: string;
  recordType?: string;
  recordTTL?: number;
  targets: string[];
}

interface BenchObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace: string };
  spec: { endpoints: BenchEndpoint[] };
}

function dnsEndpoints(z: SyntheticZone, objectSize: number): BenchObject[] {
  const byKey = new Map<string, SyntheticRecord[]>();
  for (const r of z.records) {
    const key = `${r.name}|${r.type}`;
    const list = byKey.get(key);
    if (list) list.push(r);
    else byKey.set(key, [r]);
  }
  const endpoints = [...byKey.values()].map((rs) => ({ dnsName: rs[0]?.name, recordType: rs[0]?.type, recordTTL: rs[0]?.ttl, targets: rs.map((r) => r.target) }));
  const docs: BenchObject[] = [];
  for (let i = 0; i < endpoints.length; i += objectSize) {
    docs.push({ apiVersion: 'externaldns.k8s.io/v1alpha1', kind: 'DNSEndpoint', metadata: { name: `bench-${i / objectSize}`, namespace: 'bench' }, spec: { endpoints: endpoints.slice(i, i + objectSize) } });
  }
  return docs;
}

function formatManifest(docs: BenchObject[], format: ManifestFormat): string {
  if (format === 'json') return JSON.stringify({ apiVersion: 'v1', kind: 'List', items: docs });
  if (format === 'json-in-yaml') return docs.map((d) => JSON.stringify(d)).join('\n---\n');
  return docs.map(blockYaml).join('---\n');
}

/** One DNSEndpoint in block-style YAML; the benchmark's values need no quoting beyond what is done here. */
function blockYaml(d: BenchObject): string {
  const lines = ['apiVersion: externaldns.k8s.io/v1alpha1', 'kind: DNSEndpoint', 'metadata:', `  name: ${d.metadata.name}`, `  namespace: ${d.metadata.namespace}`, 'spec:', '  endpoints:'];
  for (const e of d.spec.endpoints) {
    lines.push(`  - dnsName: ${e.dnsName}`, `    recordType: ${e.recordType}`, `    recordTTL: ${e.recordTTL}`, '    targets:');
    for (const t of e.targets) lines.push(`    - ${/^[0-9a-zA-Z._:-]+$/.test(t) ? t : JSON.stringify(t)}`);
  }
  return `${lines.join('\n')}\n`;
}

/** The zone file the peers load; SOA and NS match crdns's defaults for this zone. */
export function toZoneFile(z: SyntheticZone, serial: number): string {
  const lines = [
    `${z.zone}. 3600 IN SOA ns1.${z.zone}. hostmaster.${z.zone}. ${serial} 3600 600 604800 60`,
    `${z.zone}. 3600 IN NS ns1.${z.zone}.`,
  ];
  for (const r of z.records) {
    const target = r.type === 'CNAME' ? `${r.target}.` : r.target;
    lines.push(`${r.name}. ${r.ttl} IN ${r.type} ${target}`);
  }
  return `${lines.join('\n')}\n`;
}
