/**
 * Zone-file text for tests: "owner TTL IN TYPE rdata" lines (absolute names,
 * no $ORIGIN, one record per line) turned into DNSEndpoint-style endpoints and
 * built into a snapshot the way crdns builds its own. Tests state their data
 * and their expectations in the same presentation form operators read.
 */
import dnsPacket from 'dns-packet';
import type { Answer } from 'dns-packet';
import { answerQuery } from '../../src/dns/answer-query.js';
import { presentRecord } from '../../src/dns/presentation.js';
import { parseName } from '../../src/dns/name.js';
import { buildSnapshot } from '../../src/dns/zone-builder.js';
import { DEFAULT_ZONE_SETTINGS, zoneConfig } from '../../src/dns/zone-config.js';
import type { Snapshot } from '../../src/dns/zone.js';
import type { EndpointObject } from '../../src/endpoint/endpoint.js';
import { validateObject } from '../../src/endpoint/validate-object.js';

interface RawEndpoint {
  dnsName: string;
  recordType: string;
  recordTTL: number;
  targets: string[];
}

/** Unquotes a TXT presentation string ("a \"b\"" → a "b"); ExternalDNS targets hold the raw text. */
function txtTarget(rdata: string): string {
  const m = /^"((?:[^"\\]|\\.)*)"$/.exec(rdata.trim());
  return m ? (m[1] as string).replace(/\\(.)/g, '$1') : rdata.trim();
}

export function endpointsFromZoneText(text: string): RawEndpoint[] {
  const byKey = new Map<string, RawEndpoint>();
  for (const raw of text.split('\n')) {
    const line = raw.replace(/;.*$/, '').trim();
    if (line === '') continue;
    const m = /^(\S+)\s+(\d+)\s+IN\s+([A-Z]+)\s+(.*)$/.exec(line);
    if (!m) throw new Error(`zone text line not understood: ${raw}`);
    const [, name, ttl, type, rdata] = m as unknown as [string, string, string, string, string];
    const key = `${name.toLowerCase()}|${type}`;
    let ep = byKey.get(key);
    if (!ep) byKey.set(key, (ep = { dnsName: name, recordType: type, recordTTL: Number(ttl), targets: [] }));
    ep.targets.push(type === 'TXT' ? txtTarget(rdata) : rdata.trim());
  }
  return [...byKey.values()];
}

export function snapshotFromZoneText(text: string, zones: string[], serial = 1): Snapshot {
  const apexes = zones.map((z) => {
    const r = parseName(z);
    if (!r.ok) throw new Error(r.reason);
    return r.name;
  });
  const object: EndpointObject = { key: 'test/zone', origin: { source: 'test', namespace: 'test', name: 'zone' }, endpoints: endpointsFromZoneText(text) };
  const { rrsets, problems } = validateObject(object, { zones: apexes, defaultTtl: 300 });
  if (problems.length > 0) throw new Error(`test zone is invalid: ${JSON.stringify(problems)}`);
  const { snapshot, rejections } = buildSnapshot(rrsets, apexes.map((a) => zoneConfig(a, DEFAULT_ZONE_SETTINGS)), serial, 1);
  if (rejections.length > 0) throw new Error(`test zone has conflicts: ${JSON.stringify(rejections)}`);
  return snapshot;
}

export interface Sections {
  rcode: string;
  flags: number;
  answer: string[];
  authority: string[];
  additional: string[];
  hasOpt: boolean;
  id: number;
  questionName: string;
}

const lower = (rr: Answer) => presentRecord(rr).toLowerCase();

export function sectionsOf(reply: Buffer, keepOrder = false): Sections {
  const d = dnsPacket.decode(reply);
  const additionals = d.additionals ?? [];
  return {
    rcode: (d as unknown as { rcode: string }).rcode,
    flags: d.flags ?? 0,
    answer: keepOrder ? (d.answers ?? []).map(lower) : (d.answers ?? []).map(lower).sort(),
    authority: (d.authorities ?? []).map(lower).sort(),
    additional: additionals.filter((r) => r.type !== 'OPT').map(lower).sort(),
    hasOpt: additionals.some((r) => r.type === 'OPT'),
    id: d.id ?? -1,
    questionName: d.questions?.[0]?.name ?? '',
  };
}

/** `keepOrder`: the answer section in wire order, for tests of the order inside an RRset. */
export function ask(snapshot: Snapshot, name: string, type: string, opts: { edns?: boolean; flags?: number; id?: number; keepOrder?: boolean } = {}): Sections {
  const msg = dnsPacket.encode({
    type: 'query',
    id: opts.id ?? 4242,
    flags: opts.flags ?? 0,
    questions: [{ name, type: type as never, class: 'IN' }],
    ...(opts.edns ? { additionals: [{ type: 'OPT', name: '.', udpPayloadSize: 1232 } as never] } : {}),
  });
  return sectionsOf(answerQuery(snapshot, msg).reply, opts.keepOrder);
}

/** Expected records in the same normalised form as sectionsOf. */
export function rrs(...lines: string[]): string[] {
  return lines.map((l) => l.trim().replace(/\s+/g, ' ').toLowerCase()).sort();
}
