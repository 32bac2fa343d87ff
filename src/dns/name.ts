/**
 * Domain names in crdns's canonical form: lowercase, A-labels, no trailing
 * dot, the root as ''. Canonical names are what every map in a snapshot is
 * keyed by, so a lookup is a string comparison, never a case fold per record.
 */
import { toASCII } from 'punycode';

export const MAX_LABEL_OCTETS = 63;
/** Wire length including the length octets and the root label. */
export const MAX_NAME_OCTETS = 255;

/** A name quoted for a message, cut when long so a hostile 1 MB name cannot flood a log line. */
/** A value quoted for a message, cut at 300 characters so hostile input cannot flood logs. */
export function quoteValue(s: string): string {
  return JSON.stringify(s.length > 300 ? `${s.slice(0, 297)}...` : s);
}

export type NameResult = { ok: true; name: string } | { ok: false; reason: string };

/** Wire-format length of a canonical name (each label's length octet plus the root octet). */
export function wireLength(name: string): number {
  return name === '' ? 1 : Buffer.byteLength(name, 'latin1') + 2;
}

/** Lowercases ASCII only: DNS case-insensitivity is defined for A–Z alone (RFC 4343). */
export function asciiLower(s: string): string {
  return /[A-Z]/.test(s) ? s.replace(/[A-Z]+/g, (m) => m.toLowerCase()) : s;
}

/**
 * Parses a user-written name (with or without the trailing dot, possibly
 * internationalised) into canonical form, checking label and name lengths and
 * the characters a hostname-like DNS name may hold. `allowWildcard` admits a
 * single leading "*" label.
 */
export function parseName(input: string, allowWildcard = false): NameResult {
  // Most names are written canonical already; one test says so without splitting them into labels.
  if (input.length <= MAX_CANONICAL_LENGTH && (allowWildcard ? CANONICAL_OR_WILDCARD : CANONICAL).test(input)) return { ok: true, name: input };
  return parseNameInFull(input, allowWildcard);
}

/** 253 characters: 255 wire octets less the first length octet and the root. */
const MAX_CANONICAL_LENGTH = MAX_NAME_OCTETS - 2;
const LABELS = '(?:[a-z0-9_-]{1,63}\\.)*[a-z0-9_-]{1,63}$';
const CANONICAL = new RegExp(`^${LABELS}`);
const CANONICAL_OR_WILDCARD = new RegExp(`^(?:\\*\\.)?${LABELS}`);

/** parseName without its shortcut for canonical names; exported for the test that holds the two to the same answers. */
export function parseNameInFull(input: string, allowWildcard = false): NameResult {
  // IDNA (RFC 3490 section 3.1) treats the ideographic and full-width full
  // stops as label separators; map them first so such a name is split into
  // labels here rather than refused as one label holding a dot.
  let s = input.trim();
  if (/[\u3002\uff0e\uff61]/.test(s)) s = s.replace(/[\u3002\uff0e\uff61]/g, '.');
  if (s === '') return { ok: false, reason: 'name is empty' };
  if (s === '.') return { ok: true, name: '' };
  if (s.endsWith('.')) s = s.slice(0, -1);
  if (s.startsWith('.')) return { ok: false, reason: `name ${quoteValue(input)} starts with a dot` };
  const raw = s.split('.');
  const labels: string[] = [];
  for (let i = 0; i < raw.length; i++) {
    const label = raw[i] as string;
    if (label === '') return { ok: false, reason: `name ${quoteValue(input)} has an empty label` };
    if (label === '*') {
      if (!allowWildcard) return { ok: false, reason: `name ${quoteValue(input)} may not be a wildcard here` };
      if (i !== 0) return { ok: false, reason: `name ${quoteValue(input)} has "*" in a label other than the leftmost` };
      labels.push('*');
      continue;
    }
    let ascii = label;
    if (/[^\x00-\x7f]/.test(label)) {
      try {
        ascii = toASCII(label.normalize('NFC').toLowerCase());
      } catch {
        return { ok: false, reason: `label ${quoteValue(label)} of ${quoteValue(input)} cannot be converted to an A-label` };
      }
    }
    if (!/^[A-Za-z0-9_-]+$/.test(ascii)) {
      return { ok: false, reason: `label ${quoteValue(label)} of ${quoteValue(input)} may hold only letters, digits, "-" and "_"` };
    }
    if (ascii.length > MAX_LABEL_OCTETS) {
      return { ok: false, reason: `label ${quoteValue(ascii)} of ${quoteValue(input)} is ${ascii.length} octets, over the limit of ${MAX_LABEL_OCTETS}` };
    }
    labels.push(asciiLower(ascii));
  }
  const name = labels.join('.');
  const len = wireLength(name);
  if (len > MAX_NAME_OCTETS) {
    return { ok: false, reason: `name ${quoteValue(input)} is ${len} octets in wire form, over the limit of ${MAX_NAME_OCTETS}` };
  }
  // The written string when it is canonical already (the usual case): the store keeps one copy, not two.
  return { ok: true, name: name === input ? input : name };
}

/** True when `name` equals `zone` or lies below it; both canonical. */
export function isInZone(name: string, zone: string): boolean {
  if (zone === '') return true;
  return name === zone || (name.length > zone.length && name.endsWith(zone) && name.charCodeAt(name.length - zone.length - 1) === 46);
}

/**
 * The name with its leftmost label removed; undefined for the root. The query
 * parser writes a "." or "\" inside a label as "\." or "\\", so a label
 * ends at the first dot that is not escaped: the one label "x.wild" must not
 * become two and match data it is not below.
 */
export function parentName(name: string): string | undefined {
  if (name === '') return undefined;
  if (name.indexOf('\\') < 0) {
    const dot = name.indexOf('.');
    return dot < 0 ? '' : name.slice(dot + 1);
  }
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c === 92) i++;
    else if (c === 46) return name.slice(i + 1);
  }
  return '';
}

/** The most specific zone holding `name`, or undefined when none does. `zones` canonical. */
export function findZone(name: string, zones: readonly string[]): string | undefined {
  let best: string | undefined;
  for (const z of zones) {
    if (isInZone(name, z) && (best === undefined || z.length > best.length)) best = z;
  }
  return best;
}

/** Presentation form with the trailing dot, for logs, zone files and messages. */
export function fqdn(name: string): string {
  return name === '' ? '.' : `${name}.`;
}
