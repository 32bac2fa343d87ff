/**
 * Shared pieces of the CoreDNS end-to-end tests: the test zone as DNSEndpoint
 * manifests, starting crdns + CoreDNS together, and comparing what a DNS
 * client got through CoreDNS with what crdns itself answers over gRPC.
 */
import { dnsEndpointManifest } from '../../support/dnsendpoint-manifests.js';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { DecodedPacket } from 'dns-packet';
import { presentRecord } from '../../../src/dns/presentation.js';
import { queryClient, rcodeOf } from '../../../src/cli/query.js';
import { rcodeName } from '../../../src/dns/codes.js';
import { startCrdns, type CrdnsProcess } from '../../harness/crdns-process.js';
import { startCoreDNS, parseRecordLine, type CorednsOptions, type CorednsProcess, type DigRecord, type DigResult } from '../../harness/coredns.js';

export const ZONE = 'e2e.test';
export const REVERSE_ZONE = '2.0.192.in-addr.arpa';

export interface EndpointSpec {
  dnsName: string;
  recordType: string;
  targets: string[];
  recordTTL?: number;
}

/** A DNSEndpoint in the e2e namespace. */
export function manifest(name: string, endpoints: EndpointSpec[]): string {
  return dnsEndpointManifest({ name, namespace: 'e2e', endpoints });
}

/** NAPTRs whose answer is far over 512 bytes (about 1.7 KB): needs TC over UDP without EDNS. */
export const BIG_NAPTR = Array.from({ length: 24 }, (_, i) => `${100 + i} ${10 + i} "S" "SIP+D2U+E2U+x-crdns-test-service-${i}" "" _sip._udp.big.${ZONE}.`);
/** SRVs, also over 512 bytes, with distinct long targets so that compression cannot save it. */
export const BIG_SRV = Array.from({ length: 24 }, (_, i) => `${i} ${100 - i} ${5060 + i} pcscf-instance-${String(i).padStart(2, '0')}.big.${ZONE}.`);

/** One endpoint per served record type, plus the shapes that exercise the resolver (CNAME chain, DNAME, wildcard, delegation). */
export function e2eEndpoints(): EndpointSpec[] {
  const z = ZONE;
  return [
    { dnsName: `www.${z}`, recordType: 'A', targets: ['192.0.2.10', '192.0.2.11'], recordTTL: 120 },
    { dnsName: `www.${z}`, recordType: 'AAAA', targets: ['2001:db8::10', '::ffff:192.0.2.10'], recordTTL: 120 },
    { dnsName: `alias.${z}`, recordType: 'CNAME', targets: [`alias2.${z}`] },
    { dnsName: `alias2.${z}`, recordType: 'CNAME', targets: [`www.${z}`] },
    { dnsName: `away.${z}`, recordType: 'CNAME', targets: ['www.example.net'] },
    { dnsName: `old.${z}`, recordType: 'DNAME', targets: [`new.${z}`] },
    { dnsName: `host.new.${z}`, recordType: 'A', targets: ['192.0.2.20'] },
    { dnsName: `mail.${z}`, recordType: 'A', targets: ['192.0.2.25'] },
    { dnsName: `mx.${z}`, recordType: 'MX', targets: [`10 mail.${z}`, `20 backup.example.net`] },
    { dnsName: `_sip._udp.pcscf.${z}`, recordType: 'SRV', targets: [`10 60 5060 pcscf1.${z}.`, `10 40 5060 pcscf2.${z}.`, '20 0 5060 pcscf.example.net.'] },
    { dnsName: `pcscf1.${z}`, recordType: 'A', targets: ['192.0.2.31'] },
    { dnsName: `pcscf2.${z}`, recordType: 'AAAA', targets: ['2001:db8::32'] },
    { dnsName: `pcscf.${z}`, recordType: 'NAPTR', targets: [`10 50 "s" "SIP+D2U" "" _sip._udp.pcscf.${z}.`, `20 50 "s" "SIP+D2T" "" _sip._tcp.pcscf.${z}.`] },
    { dnsName: `enum.${z}`, recordType: 'NAPTR', targets: ['100 10 "u" "E2U+sip" "!^.*$!sip:info@example.net!" .'] },
    { dnsName: `txt.${z}`, recordType: 'TXT', targets: ['v=spf1 ip4:192.0.2.0/24 -all', `long ${'x'.repeat(300)} end`, 'quote " and backslash \\ and ünïcode'] },
    { dnsName: `10.${REVERSE_ZONE}`, recordType: 'PTR', targets: [`www.${z}`] },
    { dnsName: `sub.${z}`, recordType: 'NS', targets: [`ns1.sub.${z}`, 'ns.example.net'] },
    { dnsName: `ns1.sub.${z}`, recordType: 'A', targets: ['192.0.2.53'] },
    { dnsName: z, recordType: 'CAA', targets: ['0 issue "letsencrypt.org"', '128 iodef "mailto:security@e2e.test"'] },
    { dnsName: `*.wild.${z}`, recordType: 'A', targets: ['192.0.2.99'], recordTTL: 30 },
    { dnsName: `*.wild.${z}`, recordType: 'TXT', targets: ['wildcard'] },
    { dnsName: `big.${z}`, recordType: 'NAPTR', targets: BIG_NAPTR },
    { dnsName: `_sip._udp.big.${z}`, recordType: 'SRV', targets: BIG_SRV },
  ];
}

/** Questions covering every record type and outcome; [name, type, what it checks]. */
export function e2eQuestions(): [string, string, string][] {
  const z = ZONE;
  return [
    [`www.${z}`, 'A', 'A, two records'],
    [`www.${z}`, 'AAAA', 'AAAA incl. IPv4-mapped'],
    [`alias.${z}`, 'A', 'CNAME chain chased in-zone'],
    [`alias.${z}`, 'CNAME', 'CNAME itself'],
    [`away.${z}`, 'A', 'CNAME to outside the zone'],
    [`host.old.${z}`, 'A', 'DNAME synthesis'],
    [`old.${z}`, 'DNAME', 'DNAME itself'],
    [`mx.${z}`, 'MX', 'MX'],
    [`_sip._udp.pcscf.${z}`, 'SRV', 'SRV with in-zone targets'],
    [`pcscf.${z}`, 'NAPTR', 'NAPTR S-flag'],
    [`enum.${z}`, 'NAPTR', 'NAPTR with regexp'],
    [`txt.${z}`, 'TXT', 'TXT: long, quotes, backslash, UTF-8'],
    [`10.${REVERSE_ZONE}`, 'PTR', 'PTR in the reverse zone'],
    [z, 'CAA', 'CAA at the apex'],
    [z, 'SOA', 'synthesized SOA'],
    [z, 'NS', 'synthesized apex NS'],
    [`host.sub.${z}`, 'A', 'referral below a delegation'],
    [`sub.${z}`, 'NS', 'delegation point NS'],
    [`x.wild.${z}`, 'A', 'wildcard A'],
    [`x.wild.${z}`, 'TXT', 'wildcard TXT'],
    [`x.wild.${z}`, 'MX', 'wildcard NODATA'],
    [`nothing.${z}`, 'A', 'NXDOMAIN'],
    [`www.${z}`, 'MX', 'NODATA'],
    [`new.${z}`, 'A', 'empty non-terminal'],
    [`www.example.net`, 'A', 'outside every zone: REFUSED'],
    [`WwW.E2e.TeSt`, 'A', 'mixed-case question'],
  ];
}

export async function writeManifests(files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'crdns-e2e-manifests-'));
  for (const [name, text] of Object.entries(files)) await writeFile(path.join(dir, name), text);
  return dir;
}

/** crdns's default unix socket address as a path, for CRDNS_SOCKET. */
export function socketPath(crdns: CrdnsProcess): string {
  const addr = crdns.addresses.find((a) => a.startsWith('unix://'));
  if (!addr) throw new Error(`crdns has no unix socket address: ${crdns.addresses.join(', ')}`);
  return addr.slice('unix://'.length);
}

export interface Stack {
  crdns: CrdnsProcess;
  coredns: CorednsProcess;
  manifests: string;
  stop(): Promise<void>;
}

/** crdns on a unix socket with these manifests, and CoreDNS in front with the given Corefile. */
export async function startStack(opts: { files: Record<string, string>; crdnsArgs?: string[]; http?: string; coredns: CorednsOptions; zones?: string[] }): Promise<Stack> {
  const manifests = await writeManifests(opts.files);
  const crdns = await startCrdns({ zones: opts.zones ?? [ZONE, REVERSE_ZONE], manifests, args: opts.crdnsArgs ?? [], ...(opts.http ? { http: opts.http } : {}) });
  let coredns: CorednsProcess;
  try {
    coredns = await startCoreDNS({ ...opts.coredns, env: { CRDNS_SOCKET: socketPath(crdns), ...opts.coredns.env } });
  } catch (err) {
    await crdns.stop();
    throw err;
  }
  return {
    crdns,
    coredns,
    manifests,
    stop: async () => {
      await coredns.stop();
      await crdns.stop();
      await rm(manifests, { recursive: true, force: true });
    },
  };
}

// ---- comparing answers --------------------------------------------------------------------

export interface Comparable {
  status: string;
  flags: string[];
  answer: DigRecord[];
  authority: DigRecord[];
  additional: DigRecord[];
}

const FLAG_BITS: [string, number][] = [['qr', 0x8000], ['aa', 0x400], ['tc', 0x200], ['rd', 0x100], ['ra', 0x80], ['ad', 0x20], ['cd', 0x10]];

export function fromGrpc(reply: DecodedPacket): Comparable {
  const flags = reply.flags ?? 0;
  const recs = (rrs: readonly unknown[] | undefined) => (rrs ?? []).filter((r) => (r as { type: string }).type !== 'OPT').map((r) => parseRecordLine(presentRecord(r as never)));
  return {
    status: rcodeName(rcodeOf(reply)),
    // dns-packet keeps QR out of `flags` and reports it as the packet type.
    flags: FLAG_BITS.filter(([n, bit]) => (n === 'qr' ? reply.type === 'response' : flags & bit)).map(([n]) => n),
    answer: recs(reply.answers),
    authority: recs(reply.authorities),
    additional: recs(reply.additionals),
  };
}

export function fromDig(r: DigResult): Comparable {
  return { status: r.status, flags: [...r.flags].sort(byFlagOrder), answer: r.answer, authority: r.authority, additional: r.additional };
}

function byFlagOrder(a: string, b: string): number {
  const i = (f: string) => FLAG_BITS.findIndex(([n]) => n === f);
  return i(a) - i(b);
}

/** One record without its TTL, in a form both sides print the same way (AAAA as hex, names lowercase). */
export function canonical(r: DigRecord): string {
  let rdata = r.rdata;
  if (r.type === 'AAAA') rdata = ipv6Hex(rdata);
  return `${r.name.toLowerCase()} ${r.class} ${r.type} ${rdata}`;
}

function ipv6Hex(text: string): string {
  let s = text;
  const v4 = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(s);
  if (v4) {
    const [a, b, c, d] = v4.slice(1).map(Number) as [number, number, number, number];
    s = s.slice(0, v4.index) + `${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = '', tail] = s.split('::');
  const h = head === '' ? [] : head.split(':');
  const t = tail === undefined || tail === '' ? [] : tail.split(':');
  const groups = tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
  return groups.map((g) => g.padStart(4, '0')).join('').toLowerCase();
}

/**
 * Differences between crdns's own answer and what came through CoreDNS.
 *
 * TTLs: without a cache (maxAgeS undefined) they must be equal. Through the
 * cache plugin every record of a message carries one TTL, the lowest TTL of
 * the message as crdns sent it, capped at the cache's maximum and then aged
 * by the seconds the message has been cached (CoreDNS rewrites them all,
 * plugin/cache filterRRSlice); maxAgeS bounds that age. A referral is a
 * "delegation" to the cache, kept for a fixed 5 s whatever its TTLs. And an
 * answer served from the cache always has AA set (plugin/cache item.go does
 * it on purpose for old stub resolvers), so a referral gains AA.
 */
export function differences(crdns: Comparable, via: Comparable, maxAgeS?: number, capS = 3600): string[] {
  const out: string[] = [];
  if (crdns.status !== via.status) out.push(`status ${crdns.status} vs ${via.status}`);
  const referral = crdns.status === 'NOERROR' && crdns.answer.length === 0 && crdns.authority.some((r) => r.type === 'NS') && !crdns.flags.includes('aa');
  const viaFlags = maxAgeS !== undefined && referral ? via.flags.filter((f) => f !== 'aa') : via.flags;
  if (crdns.flags.join(' ') !== viaFlags.join(' ')) out.push(`flags [${crdns.flags.join(' ')}] vs [${via.flags.join(' ')}]`);
  const sections = ['answer', 'authority', 'additional'] as const;
  for (const s of sections) {
    const a = crdns[s].map(canonical);
    const b = via[s].map(canonical);
    if (a.join('\n') !== b.join('\n')) out.push(`${s}:\n  crdns:  ${a.join('\n          ')}\n  coredns: ${b.join('\n           ')}`);
  }
  const ttls = (c: Comparable) => sections.flatMap((s) => c[s].map((r) => r.ttl));
  const mine = ttls(crdns);
  const theirs = ttls(via);
  if (maxAgeS === undefined) {
    if (mine.join(' ') !== theirs.join(' ')) out.push(`TTLs ${mine.join(' ')} vs ${theirs.join(' ')}`);
  } else if (mine.length > 0) {
    const top = referral ? 5 : Math.min(capS, ...mine);
    const bad = theirs.filter((t) => t > top || t < top - maxAgeS);
    if (bad.length) out.push(`TTLs through the cache ${theirs.join(' ')}: expected all in ${Math.max(0, top - maxAgeS)}..${top} (crdns: ${mine.join(' ')})`);
  }
  return out;
}

/** crdns's own answer over gRPC, for the same question dig asks (EDNS 1232, DO=0, RD=0). */
export async function askCrdns(address: string, name: string, type: string): Promise<Comparable> {
  const client = queryClient(address, 5000, true);
  try {
    return fromGrpc(await client.ask(name, type));
  } finally {
    client.close();
  }
}

export { pollUntil } from '../../support/eventually.js';

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
