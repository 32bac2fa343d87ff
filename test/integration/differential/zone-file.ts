/**
 * A small RFC 1035 §5.1 master-file reader and the converter from zone-file
 * records to DNSEndpoint manifests. It is deliberately independent of crdns's
 * own endpoint parsing and zone builder: the differential test is only worth
 * something if the data crdns serves was produced without crdns's help.
 *
 * Supported: $ORIGIN, $TTL, "@", relative and absolute names, an omitted
 * owner (a line starting with white space repeats the previous owner),
 * TTL and class in either order, parentheses, ";" comments, quoted
 * character-strings with \" \\ \X and \DDD escapes; record types A, AAAA,
 * CNAME, DNAME, PTR, NS, MX, SRV, NAPTR, TXT, CAA and SOA. Anything else is
 * an error, never silently skipped.
 */

export interface ZoneRecord {
  /** Lowercase absolute name without the trailing dot; the root is ''. */
  owner: string;
  ttl: number;
  type: string;
  data: RData;
  /** "file:line" for messages. */
  where: string;
}

export type RData =
  | { type: 'A' | 'AAAA'; address: string }
  | { type: 'CNAME' | 'DNAME' | 'PTR' | 'NS'; target: string }
  | { type: 'MX'; preference: number; exchange: string }
  | { type: 'SRV'; priority: number; weight: number; port: number; target: string }
  | { type: 'NAPTR'; order: number; preference: number; flags: Buffer; services: Buffer; regexp: Buffer; replacement: string }
  | { type: 'TXT'; strings: Buffer[] }
  | { type: 'CAA'; flags: number; tag: string; value: Buffer }
  | { type: 'SOA'; mname: string; rname: string; serial: number; refresh: number; retry: number; expire: number; minimum: number };

interface Token {
  /** Decoded bytes (escapes resolved). */
  bytes: Buffer;
  /** Raw text as written, for names and numbers. */
  text: string;
  quoted: boolean;
}

const CLASSES = new Set(['IN']);
const TYPES = new Set(['A', 'AAAA', 'CNAME', 'DNAME', 'PTR', 'NS', 'MX', 'SRV', 'NAPTR', 'TXT', 'CAA', 'SOA']);

export function parseZoneFile(text: string, origin: string, file = 'zone'): ZoneRecord[] {
  let currentOrigin = lower(stripDot(origin));
  let defaultTtl: number | undefined;
  let lastOwner: string | undefined;
  const records: ZoneRecord[] = [];

  for (const { tokens, startsWithSpace, line } of logicalLines(text, file)) {
    const where = `${file}:${line}`;
    if (tokens.length === 0) continue;
    const first = tokens[0] as Token;
    if (!first.quoted && first.text.startsWith('$')) {
      const arg = tokens[1];
      if (!arg) throw new Error(`${where}: ${first.text} needs an argument`);
      if (first.text === '$ORIGIN') currentOrigin = absolute(arg.text, currentOrigin, where);
      else if (first.text === '$TTL') defaultTtl = uint(arg.text, where);
      else throw new Error(`${where}: unsupported directive ${first.text}`);
      continue;
    }
    let i = 0;
    let owner: string;
    if (startsWithSpace) {
      if (lastOwner === undefined) throw new Error(`${where}: a record without an owner before any owner was given`);
      owner = lastOwner;
    } else {
      owner = absolute(first.text, currentOrigin, where, true);
      i = 1;
    }
    lastOwner = owner;
    let ttl: number | undefined;
    for (let k = 0; k < 2; k++) {
      const t = tokens[i];
      if (!t || t.quoted) break;
      if (/^[0-9]+$/.test(t.text) && ttl === undefined) {
        ttl = Number(t.text);
        i++;
      } else if (CLASSES.has(t.text.toUpperCase())) {
        i++;
      } else {
        break;
      }
    }
    const typeTok = tokens[i++];
    if (!typeTok) throw new Error(`${where}: record type missing`);
    const type = typeTok.text.toUpperCase();
    if (!TYPES.has(type)) throw new Error(`${where}: unsupported record type ${typeTok.text}`);
    const effectiveTtl = ttl ?? defaultTtl;
    if (effectiveTtl === undefined) throw new Error(`${where}: no TTL and no $TTL`);
    const data = parseRData(type, tokens.slice(i), currentOrigin, where);
    records.push({ owner, ttl: effectiveTtl, type, data, where });
  }
  return records;
}

// ------------------------------------------------------------------ lexer

function* logicalLines(text: string, file: string): Generator<{ tokens: Token[]; startsWithSpace: boolean; line: number }> {
  const src = Buffer.from(text, 'utf8');
  let i = 0;
  let lineNo = 1;
  while (i < src.length) {
    const startLine = lineNo;
    const startsWithSpace = src[i] === 0x20 || src[i] === 0x09;
    const tokens: Token[] = [];
    let depth = 0;
    for (;;) {
      if (i >= src.length) break;
      const c = src[i] as number;
      if (c === 0x0a) {
        lineNo++;
        i++;
        if (depth === 0) break;
        continue;
      }
      if (c === 0x20 || c === 0x09 || c === 0x0d) { i++; continue; }
      if (c === 0x3b) { // ';' comment to end of line
        while (i < src.length && src[i] !== 0x0a) i++;
        continue;
      }
      if (c === 0x28) { depth++; i++; continue; }
      if (c === 0x29) {
        if (depth === 0) throw new Error(`${file}:${lineNo}: unbalanced ")"`);
        depth--; i++; continue;
      }
      const quoted = c === 0x22;
      if (quoted) i++;
      const bytes: number[] = [];
      let raw = '';
      for (;;) {
        if (i >= src.length) {
          if (quoted) throw new Error(`${file}:${lineNo}: unterminated quoted string`);
          break;
        }
        const b = src[i] as number;
        if (quoted && b === 0x22) { i++; break; }
        if (!quoted && (b === 0x20 || b === 0x09 || b === 0x0a || b === 0x0d || b === 0x3b || b === 0x28 || b === 0x29)) break;
        if (b === 0x0a) lineNo++;
        if (b === 0x5c) {
          const d = src.subarray(i + 1, i + 4).toString('latin1');
          if (/^[0-9]{3}$/.test(d)) {
            const v = Number(d);
            if (v > 255) throw new Error(`${file}:${lineNo}: escape \\${d} is over 255`);
            bytes.push(v);
            raw += `\\${d}`;
            i += 4;
            continue;
          }
          if (i + 1 >= src.length) throw new Error(`${file}:${lineNo}: backslash at end of input`);
          bytes.push(src[i + 1] as number);
          raw += String.fromCharCode(92, src[i + 1] as number);
          i += 2;
          continue;
        }
        bytes.push(b);
        raw += String.fromCharCode(b);
        i++;
      }
      tokens.push({ bytes: Buffer.from(bytes), text: raw, quoted });
    }
    if (depth !== 0) throw new Error(`${file}:${startLine}: "(" not closed`);
    yield { tokens, startsWithSpace, line: startLine };
  }
}

// ------------------------------------------------------------------ fields

function parseRData(type: string, t: Token[], origin: string, where: string): RData {
  const need = (n: number) => {
    if (t.length !== n) throw new Error(`${where}: ${type} takes ${n} rdata fields, got ${t.length}`);
  };
  const name = (k: number) => absolute((t[k] as Token).text, origin, where);
  const num = (k: number, max: number) => {
    const v = uint((t[k] as Token).text, where);
    if (v > max) throw new Error(`${where}: ${v} is over ${max}`);
    return v;
  };
  const str = (k: number) => {
    const b = (t[k] as Token).bytes;
    if (b.length > 255) throw new Error(`${where}: character-string of ${b.length} bytes is over 255`);
    return b;
  };
  switch (type) {
    case 'A':
    case 'AAAA':
      need(1);
      return { type, address: (t[0] as Token).text };
    case 'CNAME':
    case 'DNAME':
    case 'PTR':
    case 'NS':
      need(1);
      return { type, target: name(0) };
    case 'MX':
      need(2);
      return { type, preference: num(0, 65535), exchange: name(1) };
    case 'SRV':
      need(4);
      return { type, priority: num(0, 65535), weight: num(1, 65535), port: num(2, 65535), target: name(3) };
    case 'NAPTR':
      need(6);
      return { type, order: num(0, 65535), preference: num(1, 65535), flags: str(2), services: str(3), regexp: str(4), replacement: name(5) };
    case 'TXT':
      if (t.length === 0) throw new Error(`${where}: TXT needs at least one string`);
      return { type, strings: t.map((_, k) => str(k)) };
    case 'CAA':
      need(3);
      return { type, flags: num(0, 255), tag: (t[1] as Token).text, value: (t[2] as Token).bytes };
    case 'SOA':
      need(7);
      return { type, mname: name(0), rname: name(1), serial: num(2, 0xffffffff), refresh: num(3, 0x7fffffff), retry: num(4, 0x7fffffff), expire: num(5, 0x7fffffff), minimum: num(6, 0x7fffffff) };
    default:
      throw new Error(`${where}: unsupported record type ${type}`);
  }
}

function uint(s: string, where: string): number {
  if (!/^[0-9]{1,10}$/.test(s)) throw new Error(`${where}: "${s}" is not an unsigned integer`);
  return Number(s);
}

function stripDot(s: string): string {
  return s.endsWith('.') ? s.slice(0, -1) : s;
}

function lower(s: string): string {
  return s.replace(/[A-Z]/g, (c) => c.toLowerCase());
}

/** A name as written → lowercase absolute name without the trailing dot. */
function absolute(text: string, origin: string, where: string, ownerField = false): string {
  if (text === '@') return origin;
  if (text === '.') return '';
  if (text.includes('\\')) throw new Error(`${where}: escaped characters in names are not supported (${text})`);
  if (text.endsWith('.')) return lower(text.slice(0, -1));
  if (ownerField && text === '') throw new Error(`${where}: empty owner`);
  return lower(origin === '' ? text : `${text}.${origin}`);
}

// ---------------------------------------------------------- to endpoints

export interface DnsEndpointManifest {
  apiVersion: 'externaldns.k8s.io/v1alpha1';
  kind: 'DNSEndpoint';
  metadata: { name: string; namespace: string };
  spec: { endpoints: { dnsName: string; recordType: string; recordTTL: number; targets: string[] }[] };
}

/** What a zone file's apex says; crdns synthesizes these instead of reading them from endpoints. */
export interface ApexData {
  soa: Extract<RData, { type: 'SOA' }>;
  soaTtl: number;
  ns: string[];
  nsTtl: number;
}

/**
 * Zone-file records → one DNSEndpoint holding one endpoint per (name, type),
 * plus the apex SOA/NS that the caller checks against crdns's flags. Throws
 * on anything an endpoint cannot express exactly (two TTLs in one RRset, TXT
 * character-string boundaries that crdns would place differently).
 */
export function toDnsEndpoint(apex: string, records: readonly ZoneRecord[], name: string, namespace = 'differential'): { manifest: DnsEndpointManifest; apexData: ApexData } {
  const groups = new Map<string, { name: string; type: string; ttl: number; targets: string[]; where: string }>();
  let soa: ApexData['soa'] | undefined;
  let soaTtl = 0;
  const ns: string[] = [];
  let nsTtl: number | undefined;
  for (const r of records) {
    if (r.owner === apex && r.data.type === 'SOA') {
      if (soa) throw new Error(`${r.where}: a second SOA`);
      soa = r.data;
      soaTtl = r.ttl;
      continue;
    }
    if (r.owner === apex && r.data.type === 'NS') {
      if (nsTtl !== undefined && nsTtl !== r.ttl) throw new Error(`${r.where}: apex NS records with different TTLs`);
      nsTtl = r.ttl;
      ns.push(r.data.target);
      continue;
    }
    if (r.data.type === 'SOA') throw new Error(`${r.where}: SOA below the apex`);
    // ExternalDNS reads recordTTL 0 as "not set" and crdns then uses its default TTL.
    if (r.ttl === 0) throw new Error(`${r.where}: TTL 0 cannot be written in a DNSEndpoint (recordTTL 0 means the default TTL)`);
    const key = `${r.owner}|${r.type}`;
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { name: r.owner, type: r.type, ttl: r.ttl, targets: [], where: r.where }));
    if (g.ttl !== r.ttl) throw new Error(`${r.where}: ${r.owner} ${r.type} has TTL ${r.ttl} but ${g.where} gave ${g.ttl} (RFC 2181 §5.2: one TTL per RRset)`);
    g.targets.push(endpointTarget(r));
  }
  if (!soa) throw new Error(`zone ${apex} has no SOA at its apex`);
  if (ns.length === 0 || nsTtl === undefined) throw new Error(`zone ${apex} has no NS at its apex`);
  const endpoints = [...groups.values()].map((g) => ({ dnsName: `${g.name}.`, recordType: g.type, recordTTL: g.ttl, targets: g.targets }));
  return {
    manifest: { apiVersion: 'externaldns.k8s.io/v1alpha1', kind: 'DNSEndpoint', metadata: { name, namespace }, spec: { endpoints } },
    apexData: { soa, soaTtl, ns, nsTtl },
  };
}

const fq = (n: string) => (n === '' ? '.' : `${n}.`);

/** A character-string in an endpoint target's quoting: only \" and \\ are escapes there. */
function endpointString(b: Buffer, where: string): string {
  const s = utf8(b, where);
  return `"${s.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

function utf8(b: Buffer, where: string): string {
  const s = b.toString('utf8');
  if (!Buffer.from(s, 'utf8').equals(b)) throw new Error(`${where}: bytes that are not UTF-8 cannot be written in a DNSEndpoint target`);
  return s;
}

/** One record's rdata as an ExternalDNS target string. */
export function endpointTarget(r: ZoneRecord): string {
  const d = r.data;
  switch (d.type) {
    case 'A':
    case 'AAAA':
      return d.address;
    case 'CNAME':
    case 'DNAME':
    case 'PTR':
    case 'NS':
      return fq(d.target);
    case 'MX':
      return `${d.preference} ${fq(d.exchange)}`;
    case 'SRV':
      return `${d.priority} ${d.weight} ${d.port} ${fq(d.target)}`;
    case 'NAPTR':
      return `${d.order} ${d.preference} ${endpointString(d.flags, r.where)} ${endpointString(d.services, r.where)} ${endpointString(d.regexp, r.where)} ${fq(d.replacement)}`;
    case 'CAA':
      return `${d.flags} ${d.tag} ${endpointString(d.value, r.where)}`;
    case 'TXT': {
      // A TXT target is raw text that crdns cuts into 255-byte strings; only
      // strings cut exactly that way can be written as one target.
      const whole = Buffer.concat(d.strings);
      const cut: Buffer[] = [];
      for (let off = 0; off < whole.length || cut.length === 0; off += 255) cut.push(whole.subarray(off, off + 255));
      const splitsCharacter = cut.slice(1).some((c) => c.length > 0 && ((c[0] as number) & 0xc0) === 0x80);
      if (splitsCharacter || cut.length !== d.strings.length || cut.some((c, k) => !c.equals(d.strings[k] as Buffer))) {
        throw new Error(`${r.where}: TXT strings of ${d.strings.map((s) => s.length).join('+')} bytes cannot be written as one DNSEndpoint target (it is cut into 255-byte strings)`);
      }
      // The outer quotes are stripped by crdns and nothing inside is unescaped, so the text goes in verbatim.
      return `"${utf8(whole, r.where)}"`;
    }
    case 'SOA':
      throw new Error(`${r.where}: SOA is synthesized by crdns`);
  }
}
