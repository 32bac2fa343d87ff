/**
 * Reads a DNS query from the wire, strictly and without allocating more than
 * the question. It checks the whole message (every record header, every name,
 * every length) so a malformed message is a FORMERR, while the question's
 * bytes are kept exactly as sent for the reply (RFC 1035 §4.1.2; 0x20 case
 * randomisation survives).
 */
import { TYPE } from './codes.js';
import { asciiLower } from './name.js';


export interface ParsedQuery {
  id: number;
  /** Header flags word as received. */
  flags: number;
  opcode: number;
  /** Question name bytes exactly as received, including the final zero octet. */
  qnameWire: Buffer;
  /** The question name in canonical form (lowercase, no trailing dot). Labels holding "." or "\" are escaped so they match nothing. */
  qname: string;
  qtype: number;
  qclass: number;
  /** The OPT pseudo-record, when the query had one. */
  edns?: { udpSize: number; version: number; dnssecOk: boolean };
}

export type ParseResult =
  | { ok: true; query: ParsedQuery }
  /** `id`/`flags`/question are filled in as far as they could be read, for the error reply. */
  | { ok: false; reason: string; id?: number; flags?: number; question?: { qnameWire: Buffer; qtype: number; qclass: number } };

export function parseQuery(msg: Buffer): ParseResult {
  if (msg.length < 12) return { ok: false, reason: `message of ${msg.length} bytes is shorter than a DNS header`, ...(msg.length >= 2 ? { id: msg.readUInt16BE(0) } : {}) };
  const id = msg.readUInt16BE(0);
  const flags = msg.readUInt16BE(2);
  const qd = msg.readUInt16BE(4);
  const an = msg.readUInt16BE(6);
  const ns = msg.readUInt16BE(8);
  const ar = msg.readUInt16BE(10);
  const fail = (reason: string, question?: { qnameWire: Buffer; qtype: number; qclass: number }) =>
    ({ ok: false, reason, id, flags, ...(question ? { question } : {}) }) as const;
  if (flags & 0x8000) return fail('message is a response (QR set)');
  if (qd !== 1) return fail(`message has ${qd} questions; exactly one is supported`);

  // Question: labels only (a compression pointer here could only point into the header).
  let off = 12;
  const labels: string[] = [];
  for (;;) {
    if (off >= msg.length) return fail('question name runs past the end of the message');
    const len = msg[off] as number;
    if (len === 0) { off++; break; }
    if (len > 63) return fail('question name uses compression or a reserved label type');
    if (off + 1 + len > msg.length) return fail('question name runs past the end of the message');
    labels.push(canonicalLabel(msg, off + 1, len));
    off += 1 + len;
    if (off - 12 > 255) return fail('question name is longer than 255 octets');
  }
  if (off - 12 > 255) return fail('question name is longer than 255 octets');
  if (off + 4 > msg.length) return fail('question is cut short before its type and class');
  const qnameWire = msg.subarray(12, off);
  const qtype = msg.readUInt16BE(off);
  const qclass = msg.readUInt16BE(off + 2);
  off += 4;
  const question = { qnameWire, qtype, qclass };

  let edns: ParsedQuery['edns'];
  const total = an + ns + ar;
  for (let i = 0; i < total; i++) {
    const nameEnd = skipName(msg, off);
    if (nameEnd < 0) return fail(`record ${i + 1} after the question has a malformed owner name`, question);
    if (nameEnd + 10 > msg.length) return fail(`record ${i + 1} after the question is cut short`, question);
    const type = msg.readUInt16BE(nameEnd);
    const rdlen = msg.readUInt16BE(nameEnd + 8);
    const end = nameEnd + 10 + rdlen;
    if (end > msg.length) return fail(`record ${i + 1} after the question has rdata past the end of the message`, question);
    if (type === TYPE.OPT) {
      if (i < an + ns) return fail('OPT record outside the additional section', question);
      if (edns) return fail('more than one OPT record (RFC 6891 §6.1.1)', question);
      if (nameEnd !== off + 1 || msg[off] !== 0) return fail('OPT record owner is not the root (RFC 6891 §6.1.2)', question);
      if (!validOptions(msg, nameEnd + 10, end)) return fail('OPT record options are malformed', question);
      const ttl = msg.readUInt32BE(nameEnd + 4);
      edns = { udpSize: msg.readUInt16BE(nameEnd + 2), version: (ttl >>> 16) & 0xff, dnssecOk: (ttl & 0x8000) !== 0 };
    }
    off = end;
  }
  if (off !== msg.length) return fail(`${msg.length - off} trailing bytes after the last record`, question);

  const query: ParsedQuery = {
    id,
    flags,
    opcode: (flags >>> 11) & 0xf,
    qnameWire,
    qname: labels.join('.'),
    qtype,
    qclass,
    ...(edns ? { edns } : {}),
  };
  return { ok: true, query };
}

function canonicalLabel(msg: Buffer, start: number, len: number): string {
  const raw = msg.toString('latin1', start, start + len);
  const lower = asciiLower(raw);
  // A label holding "." or "\" cannot be one of ours; escaping keeps it from aliasing a two-label name.
  return /[.\\]/.test(lower) ? lower.replace(/[.\\]/g, (c) => `\\${c}`) : lower;
}

/** Returns the offset after a possibly compressed name, or -1 when it is malformed. */
function skipName(msg: Buffer, start: number): number {
  let off = start;
  let octets = 0;
  for (;;) {
    if (off >= msg.length) return -1;
    const len = msg[off] as number;
    if (len === 0) return off + 1;
    if ((len & 0xc0) === 0xc0) {
      if (off + 2 > msg.length) return -1;
      const ptr = ((len & 0x3f) << 8) | (msg[off + 1] as number);
      // Only backward pointers into already-read data; we never follow them, only bound-check, because the owner is not needed.
      if (ptr >= start) return -1;
      return off + 2;
    }
    if (len > 63) return -1;
    octets += len + 1;
    if (octets > 255) return -1;
    off += 1 + len;
  }
}

function validOptions(msg: Buffer, start: number, end: number): boolean {
  let off = start;
  while (off < end) {
    if (off + 4 > end) return false;
    off += 4 + msg.readUInt16BE(off + 2);
  }
  return off === end;
}
