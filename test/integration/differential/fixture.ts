/**
 * The differential fixture: the zone files under test/fixtures/differential/zones
 * (NSD reads them as they are), the crdns flags that make crdns synthesize the
 * same SOA and apex NS, and the DNSEndpoint manifests converted from the zone
 * files for crdns.
 */
import { readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { repoRoot } from '../../harness/peers.js';
import { parseZoneFile, toDnsEndpoint, type ApexData, type DnsEndpointManifest, type ZoneRecord } from './zone-file.js';

export interface FixtureZone {
  apex: string;
  /** Absolute path of the zone file. */
  file: string;
  records: ZoneRecord[];
  apexData: ApexData;
  manifest: DnsEndpointManifest;
}

export interface Fixture {
  zones: FixtureZone[];
}

/** Zone apexes and their files; the order is the order of the --zone flags. */
export const FIXTURE_ZONES: readonly { apex: string; file: string }[] = [
  { apex: 'example.test', file: 'example.test.zone' },
  { apex: 'sub.example.test', file: 'sub.example.test.zone' },
  { apex: 'kid.nest.example.test', file: 'kid.nest.example.test.zone' },
  { apex: 'other.test', file: 'other.test.zone' },
  { apex: '2.0.192.in-addr.arpa', file: '2.0.192.in-addr.arpa.zone' },
];

/** What crdns is told to synthesize; every zone file's SOA and apex NS must say the same. */
export const CRDNS_APEX = {
  ns: ['ns1.example.test', 'ns2.other.test'],
  mname: 'ns1.example.test',
  rname: 'hostmaster.example.test',
  refresh: 7200,
  retry: 900,
  expire: 1209600,
  minimum: 120,
  /** crdns gives the SOA and the apex NS this one TTL. */
  ttl: 1800,
} as const;

export function crdnsZoneArgs(): string[] {
  const a = CRDNS_APEX;
  return [
    ...a.ns.flatMap((n) => ['--ns', n]),
    '--soa-mname', a.mname,
    '--soa-rname', a.rname,
    '--soa-refresh', String(a.refresh),
    '--soa-retry', String(a.retry),
    '--soa-expire', String(a.expire),
    '--soa-minimum', String(a.minimum),
    '--soa-ttl', String(a.ttl),
  ];
}

export function fixtureDir(): string {
  return path.join(repoRoot(), 'test', 'fixtures', 'differential', 'zones');
}

export function loadFixture(): Fixture {
  const dir = fixtureDir();
  const zones = FIXTURE_ZONES.map(({ apex, file }) => {
    const full = path.join(dir, file);
    const records = parseZoneFile(readFileSync(full, 'utf8'), apex, file);
    const outside = records.find((r) => r.owner !== apex && !r.owner.endsWith(`.${apex}`));
    if (outside) throw new Error(`${outside.where}: ${outside.owner} is outside the zone ${apex}`);
    const { manifest, apexData } = toDnsEndpoint(apex, records, `zone-${apex.replace(/\./g, '-')}`);
    return { apex, file: full, records, apexData, manifest };
  });
  // A record of a served child zone must not appear in its parent's file: crdns would file it under the child.
  for (const z of zones) {
    for (const r of z.records) {
      const deeper = zones.find((o) => o.apex !== z.apex && o.apex.endsWith(`.${z.apex}`) && (r.owner === o.apex || r.owner.endsWith(`.${o.apex}`)));
      if (deeper) throw new Error(`${r.where}: ${r.owner} belongs to the served child zone ${deeper.apex}`);
    }
  }
  return { zones };
}

/** Differences between the zone files' apex records and what crdns synthesizes from CRDNS_APEX; empty when they agree. */
export function apexDisagreements(fixture: Fixture): string[] {
  const a = CRDNS_APEX;
  const out: string[] = [];
  for (const z of fixture.zones) {
    const { soa, soaTtl, ns, nsTtl } = z.apexData;
    const want = { mname: a.mname, rname: a.rname, refresh: a.refresh, retry: a.retry, expire: a.expire, minimum: a.minimum };
    for (const [k, v] of Object.entries(want)) {
      const got = soa[k as keyof typeof want];
      if (got !== v) out.push(`${z.apex}: SOA ${k} is ${got} in the zone file, crdns says ${v}`);
    }
    if (soaTtl !== a.ttl) out.push(`${z.apex}: SOA TTL is ${soaTtl} in the zone file, crdns says ${a.ttl}`);
    if (nsTtl !== a.ttl) out.push(`${z.apex}: apex NS TTL is ${nsTtl} in the zone file, crdns says ${a.ttl}`);
    if ([...ns].sort().join(' ') !== [...a.ns].sort().join(' ')) out.push(`${z.apex}: apex NS is ${ns.join(' ')} in the zone file, crdns says ${a.ns.join(' ')}`);
  }
  return out;
}

/** Writes one JSON manifest per zone into `dir` (the crdns manifest folder). */
export async function writeManifests(fixture: Fixture, dir: string): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  const files: string[] = [];
  for (const z of fixture.zones) {
    const file = path.join(dir, `${z.manifest.metadata.name}.json`);
    await writeFile(file, `${JSON.stringify(z.manifest, null, 2)}\n`);
    files.push(file);
  }
  return files;
}
