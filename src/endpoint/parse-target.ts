/**
 * One parser per record type, turning a DNSEndpoint target string (as
 * ExternalDNS writes it) into rdata shaped as in src/dns/records.ts.
 *
 * dns-packet encodes whatever it is handed: a 300-byte character-string wraps
 * its one-byte length, a 64-octet label becomes an illegal label type. So every
 * limit the wire format has is checked here, once, at ingestion, and the hot
 * path never has to. All scanning is hand-written and linear in the input:
 * these run on every object change, over possibly 100k endpoints.
 */
import { parseName, quoteValue as quote } from '../dns/name.js';
import type { CaaData, MxData, NaptrData, RDataByType, ServedType, SrvData } from '../dns/records.js';

/** `key` identifies the rdata for duplicate removal: equal keys, equal wire rdata. */
export type TargetResult<T> = { ok: true; data: T; key: string } | { ok: false; reason: string };

const MAX_STRING_OCTETS = 255;
const MAX_RDATA_OCTETS = 65535;

/** Quotes a value for a message; values over 300 characters are cut so a 64 KiB TXT cannot flood a log line. */

const fail = (reason: string): { ok: false; reason: string } => ({ ok: false, reason });

// ---------------------------------------------------------------- addresses

export function parseA(target: string): TargetResult<string> {
  // Four decimal octets without leading zeros (the rule of node's isIPv4 and of an
  // IPv6 address's IPv4 tail), so "010.0.0.1" (octal to some parsers) and "1.2.3" are refused.
  if (readDottedQuad(target, 0) < 0) {
    return fail(`${quote(target)} is not an IPv4 address (expected a dotted quad such as 192.0.2.1, no leading zeros)`);
  }
  return { ok: true, data: target, key: target };
}

export function parseAAAA(target: string): TargetResult<string> {
  const canonical = canonicalIPv6(target);
  if (canonical === undefined) {
    return fail(`${quote(target)} is not an IPv6 address (expected a form such as 2001:db8::1, without a zone index)`);
  }
  // The written string when it is canonical already: one copy kept, not two.
  const data = canonical === target ? target : canonical;
  return { ok: true, data, key: data };
}

/**
 * RFC 5952 text form: lowercase hex, no leading zeros, the longest run (the
 * first on a tie) of two or more zero groups as "::", and IPv4-mapped
 * addresses as ::ffff:a.b.c.d. Undefined when `s` is not an IPv6 address in
 * the text forms node's isIPv6 accepts; a zone index ("%eth0"), which isIPv6
 * also takes, has no meaning in DNS and is refused.
 */
export function canonicalIPv6(s: string): string | undefined {
  if (!readIPv6(s, GROUPS)) return undefined;
  const g = GROUPS;
  if (g[0] === 0 && g[1] === 0 && g[2] === 0 && g[3] === 0 && g[4] === 0 && g[5] === 0xffff) {
    const lo = g[6] as number;
    const hi = g[7] as number;
    return `::ffff:${lo >> 8}.${lo & 255}.${hi >> 8}.${hi & 255}`;
  }
  let bestStart = -1;
  let bestLen = 1; // a single zero group is never compressed
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  let out = '';
  for (let i = 0; i < 8; i++) {
    if (i === bestStart) {
      out += '::';
      i += bestLen - 1;
      continue;
    }
    if (out !== '' && !out.endsWith(':')) out += ':';
    out += (g[i] as number).toString(16);
  }
  return out === s ? s : out;
}

/** Scratch for canonicalIPv6: one address at a time, read synchronously. */
const GROUPS = new Uint16Array(8);

/**
 * Reads an IPv6 address into eight groups: hex groups of one to four digits
 * separated by ":", at most one "::" standing for one or more zero groups, and
 * optionally a dotted-quad IPv4 tail (no leading zeros) as the last two.
 * Linear, and allocates nothing.
 */
function readIPv6(s: string, out: Uint16Array): boolean {
  const n = s.length;
  if (n < 2 || n > 45) return false;
  let count = 0;
  let gap = -1;
  let i = 0;
  if (s.charCodeAt(0) === 58) {
    if (s.charCodeAt(1) !== 58) return false;
    gap = 0;
    i = 2;
  }
  while (i < n) {
    let j = i;
    let v = 0;
    for (; j < n && j - i < 5; j++) {
      const h = hexValue(s.charCodeAt(j));
      if (h < 0) break;
      v = v * 16 + h;
    }
    if (j < n && s.charCodeAt(j) === 46) {
      // An IPv4 tail ends the address as two groups (a ninth is refused by the count below).
      const quad = readDottedQuad(s, i);
      if (quad < 0) return false;
      out[count++] = quad >>> 16;
      out[count++] = quad & 0xffff;
      i = n;
      break;
    }
    if (j === i || j - i > 4 || count >= 8) return false;
    out[count++] = v;
    i = j;
    if (i === n) break;
    if (s.charCodeAt(i) !== 58) return false;
    if (s.charCodeAt(i + 1) === 58) {
      if (gap >= 0) return false;
      gap = count;
      i += 2;
    } else {
      i += 1;
      if (i === n) return false;
    }
  }
  if (gap < 0) return count === 8;
  if (count > 7) return false;
  const tail = count - gap;
  for (let k = 0; k < tail; k++) out[7 - k] = out[count - 1 - k] as number;
  for (let k = gap; k < 8 - tail; k++) out[k] = 0;
  return true;
}

function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return -1;
}

/** The 32-bit value of the dotted quad that runs from `from` to the end of `s`, or -1 (an A target, an IPv6 address's tail). */
function readDottedQuad(s: string, from: number): number {
  let value = 0;
  let i = from;
  for (let part = 0; part < 4; part++) {
    const start = i;
    let octet = 0;
    for (; i < s.length && i - start < 4; i++) {
      const c = s.charCodeAt(i);
      if (c < 48 || c > 57) break;
      octet = octet * 10 + (c - 48);
    }
    const digits = i - start;
    if (digits === 0 || digits > 3 || octet > 255 || (digits > 1 && s.charCodeAt(start) === 48)) return -1;
    value = value * 256 + octet;
    if (part < 3) {
      if (s.charCodeAt(i) !== 46) return -1;
      i++;
    }
  }
  return i === s.length ? value : -1;
}

// -------------------------------------------------------------------- names

/** A host name in rdata (CNAME, DNAME, PTR, NS): no wildcard, not the root. */
export function parseHost(target: string): TargetResult<string> {
  const r = parseName(target);
  if (!r.ok) return fail(r.reason);
  if (r.name === '') return fail(`${quote(target)} is the root; a host name is required`);
  return { ok: true, data: r.name, key: r.name };
}

/** A name field that may be "." (SRV "no service", MX null MX, NAPTR "no replacement"). */
function nameOrRoot(field: string, text: string): { ok: true; name: string } | { ok: false; reason: string } {
  const r = parseName(text);
  return r.ok ? r : fail(`${field}: ${r.reason}`);
}

// ------------------------------------------------------------------ scanner

interface Token { text: string; quoted: boolean }

const isSpace = (c: number): boolean => c === 32 || c === 9 || c === 10 || c === 13;

/**
 * Splits a target into whitespace-separated tokens; a token may be a
 * double-quoted character-string in which \" and \\ are escapes (any other
 * backslash is kept, so regexp back-references like \1 survive). One pass, no
 * regular expressions. `limit` stops after that many tokens and returns the
 * untouched remainder (for CAA, whose value may hold spaces when bare).
 */
function tokenize(s: string, limit = Infinity): { tokens: Token[]; rest: string } | { error: string } {
  const tokens: Token[] = [];
  let i = 0;
  const n = s.length;
  for (;;) {
    while (i < n && isSpace(s.charCodeAt(i))) i++;
    if (i >= n) return { tokens, rest: '' };
    if (tokens.length >= limit) return { tokens, rest: s.slice(i) };
    if (s.charCodeAt(i) === 34) {
      const start = i;
      let text = '';
      let from = ++i;
      for (;;) {
        if (i >= n) return { error: `unterminated quoted string starting at ${quote(s.slice(start))}` };
        const c = s.charCodeAt(i);
        if (c === 34) break;
        if (c === 92 && i + 1 < n && (s.charCodeAt(i + 1) === 34 || s.charCodeAt(i + 1) === 92)) {
          text += s.slice(from, i);
          from = i + 1; // keep the escaped character, drop the backslash
          i += 2;
          continue;
        }
        i++;
      }
      text += s.slice(from, i);
      i++;
      if (i < n && !isSpace(s.charCodeAt(i))) return { error: `no space after the quoted string ${quote(s.slice(start, i))}` };
      tokens.push({ text, quoted: true });
    } else {
      const start = i;
      while (i < n && !isSpace(s.charCodeAt(i))) {
        if (s.charCodeAt(i) === 34) return { error: `stray double quote in ${quote(s.slice(start, i + 1))}` };
        i++;
      }
      tokens.push({ text: s.slice(start, i), quoted: false });
    }
  }
}

/** A decimal integer in 0..max; digits only (no sign, hex, exponent or fraction). */
function uint(field: string, text: string, max: number): { ok: true; value: number } | { ok: false; reason: string } {
  let ok = text.length > 0 && text.length <= 10;
  for (let i = 0; ok && i < text.length; i++) {
    const c = text.charCodeAt(i);
    ok = c >= 48 && c <= 57;
  }
  const value = ok ? Number(text) : NaN;
  if (!ok || value > max) return fail(`${field} ${quote(text)} is not an integer in 0..${max}`);
  return { ok: true, value };
}

function stringBytes(field: string, text: string): string | undefined {
  const len = Buffer.byteLength(text, 'utf8');
  return len > MAX_STRING_OCTETS ? `${field} is ${len} bytes, over the ${MAX_STRING_OCTETS}-byte limit of a character-string` : undefined;
}

// ---------------------------------------------------------- structured types

export function parseMx(target: string): TargetResult<MxData> {
  const t = tokenize(target);
  if ('error' in t) return fail(t.error);
  if (t.tokens.length !== 2) return fail(`${quote(target)} is not of the form <preference> <exchange> (e.g. 10 mail.example.org)`);
  const [p, h] = t.tokens as [Token, Token];
  const preference = uint('preference', p.text, 65535);
  if (!preference.ok) return preference;
  // "." is a null MX (RFC 7505): the domain accepts no mail.
  const exchange = nameOrRoot('exchange', h.text);
  if (!exchange.ok) return exchange;
  return { ok: true, data: { preference: preference.value, exchange: exchange.name }, key: `${preference.value} ${exchange.name}` };
}

export function parseSrv(target: string): TargetResult<SrvData> {
  const t = tokenize(target);
  if ('error' in t) return fail(t.error);
  if (t.tokens.length !== 4) {
    return fail(`${quote(target)} is not of the form <priority> <weight> <port> <target> (e.g. 10 5 5060 sip.example.org.)`);
  }
  const [a, b, c, d] = t.tokens as [Token, Token, Token, Token];
  const priority = uint('priority', a.text, 65535);
  if (!priority.ok) return priority;
  const weight = uint('weight', b.text, 65535);
  if (!weight.ok) return weight;
  const port = uint('port', c.text, 65535);
  if (!port.ok) return port;
  // "." means "service decidedly not available at this domain" (RFC 2782).
  const host = nameOrRoot('target', d.text);
  if (!host.ok) return host;
  const data = { priority: priority.value, weight: weight.value, port: port.value, target: host.name };
  return { ok: true, data, key: `${data.priority} ${data.weight} ${data.port} ${data.target}` };
}

const NAPTR_FORM = 'of the form <order> <preference> "<flags>" "<services>" "<regexp>" <replacement> (e.g. 100 10 "S" "SIP+D2U" "" _sip._udp.example.org.)';

export function parseNaptr(target: string): TargetResult<NaptrData> {
  const t = tokenize(target);
  if ('error' in t) return fail(t.error);
  if (t.tokens.length !== 6) return fail(`${quote(target)} is not ${NAPTR_FORM}`);
  const [o, p, f, s, r, x] = t.tokens as [Token, Token, Token, Token, Token, Token];
  const order = uint('order', o.text, 65535);
  if (!order.ok) return order;
  const preference = uint('preference', p.text, 65535);
  if (!preference.ok) return preference;
  for (let i = 0; i < f.text.length; i++) {
    const c = f.text.charCodeAt(i) | 32; // ASCII fold: digits unchanged, letters to lowercase
    if (!((c >= 48 && c <= 57) || (c >= 97 && c <= 122))) {
      return fail(`flags ${quote(f.text)} may hold only letters and digits (RFC 3403)`);
    }
  }
  const tooLong = stringBytes('flags', f.text) ?? stringBytes('services', s.text) ?? stringBytes('regexp', r.text);
  if (tooLong !== undefined) return fail(tooLong);
  const replacement = nameOrRoot('replacement', x.text);
  if (!replacement.ok) return replacement;
  if (r.text !== '' && replacement.name !== '') {
    return fail(`regexp ${quote(r.text)} and replacement ${quote(x.text)} are both set; RFC 3403 requires one of them to be empty (replacement ".")`);
  }
  const data = { order: order.value, preference: preference.value, flags: f.text, services: s.text, regexp: r.text, replacement: replacement.name };
  return { ok: true, data, key: JSON.stringify([data.order, data.preference, data.flags, data.services, data.regexp, data.replacement]) };
}

/**
 * TXT: the target is the text itself, no zone-file quoting needed. If the whole
 * target is wrapped in double quotes one pair is stripped (ExternalDNS's own
 * registry records look like that); nothing inside is unescaped. The UTF-8
 * bytes are cut into character-strings of at most 255 bytes, never inside a
 * character, and "" gives one empty string.
 */
export function parseTxt(target: string): TargetResult<Buffer[]> {
  const text = target.length >= 2 && target.charCodeAt(0) === 34 && target.charCodeAt(target.length - 1) === 34 ? target.slice(1, -1) : target;
  const bytes = Buffer.from(text, 'utf8');
  const chunks: Buffer[] = [];
  let start = 0;
  do {
    let end = Math.min(start + MAX_STRING_OCTETS, bytes.length);
    // Back off from a UTF-8 continuation byte (10xxxxxx) so no character is split.
    if (end < bytes.length) while (end > start && ((bytes[end] as number) & 0xc0) === 0x80) end--;
    chunks.push(bytes.subarray(start, end));
    start = end;
  } while (start < bytes.length);
  const rdlength = bytes.length + chunks.length;
  if (rdlength > MAX_RDATA_OCTETS) return fail(`text is ${bytes.length} bytes, which makes ${rdlength} bytes of rdata, over the limit of ${MAX_RDATA_OCTETS}`);
  return { ok: true, data: chunks, key: text };
}

/**
 * CAA `<flags> <tag> <value>` (RFC 8659). The value may be quoted (with \" and
 * \\ escapes) or bare, in which case it is the rest of the target, spaces
 * included. Tags are compared case-insensitively by CAs and stored lowercase.
 */
export function parseCaa(target: string): TargetResult<CaaData> {
  const t = tokenize(target, 2);
  if ('error' in t) return fail(t.error);
  if (t.tokens.length < 2 || t.rest === '') {
    return fail(`${quote(target)} is not of the form <flags> <tag> <value> (e.g. 0 issue "letsencrypt.org")`);
  }
  const [f, g] = t.tokens as [Token, Token];
  const flags = uint('flags', f.text, 255);
  if (!flags.ok) return flags;
  const tag = g.text;
  let alnum = tag.length >= 1 && tag.length <= 15;
  for (let i = 0; alnum && i < tag.length; i++) {
    const c = tag.charCodeAt(i) | 32;
    alnum = (c >= 48 && c <= 57) || (c >= 97 && c <= 122);
  }
  if (!alnum) return fail(`tag ${quote(tag)} must be 1 to 15 letters and digits, e.g. issue, issuewild, iodef`);
  let value = t.rest.trimEnd();
  if (value.charCodeAt(0) === 34) {
    const v = tokenize(value);
    if ('error' in v) return fail(v.error);
    if (v.tokens.length !== 1) return fail(`value ${quote(value)} has text after the closing quote`);
    value = (v.tokens[0] as Token).text;
  }
  const rdlength = 2 + tag.length + Buffer.byteLength(value, 'utf8');
  if (rdlength > MAX_RDATA_OCTETS) return fail(`value makes ${rdlength} bytes of rdata, over the limit of ${MAX_RDATA_OCTETS}`);
  const data = { flags: flags.value, tag: tag.toLowerCase(), value };
  return { ok: true, data, key: `${data.flags} ${data.tag} ${value}` };
}

/** The parser for each served type. */
export const TARGET_PARSERS: { readonly [T in ServedType]: (target: string) => TargetResult<RDataByType[T]> } = {
  A: parseA,
  AAAA: parseAAAA,
  CNAME: parseHost,
  DNAME: parseHost,
  PTR: parseHost,
  NS: parseHost,
  MX: parseMx,
  SRV: parseSrv,
  NAPTR: parseNaptr,
  TXT: parseTxt,
  CAA: parseCaa,
};
