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
    records.push({ name: h, type: 'AAAA', ttl: 300, target: `fd00::${i.toString(16)}` });
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

export function toManifest(z: SyntheticZone, objectSize = 100): string {
  const docs: string[] = [];
  const byKey = new Map<string, SyntheticRecord[]>();
  for (const r of z.records) {
    const key = `${r.name}|${r.type}`;
    byKey.set(key, [...(byKey.get(key) ?? []), r]);
  }
  const endpoints = [...byKey.values()].map((rs) => ({ dnsName: rs[0]?.name, recordType: rs[0]?.type, recordTTL: rs[0]?.ttl, targets: rs.map((r) => r.target) }));
  for (let i = 0; i < endpoints.length; i += objectSize) {
    const doc = { apiVersion: 'externaldns.k8s.io/v1alpha1', kind: 'DNSEndpoint', metadata: { name: `bench-${i / objectSize}`, namespace: 'bench' }, spec: { endpoints: endpoints.slice(i, i + objectSize) } };
    docs.push(JSON.stringify(doc));
  }
  return docs.join('\n---\n');
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
