/**
 * Writes a reply message. Records arrive pre-encoded (rrset.ts), so a reply
 * is a 12-byte header, the question bytes exactly as the client sent them,
 * and the RRsets' bytes, sized first and then copied into the one buffer
 * that is returned: nothing else is allocated per reply. No compression:
 * CoreDNS unpacks and re-packs every reply for its client anyway.
 */
import { copyRRset, wireLengthUnder, type Placed } from './rrset.js';

export const MAX_MESSAGE_BYTES = 65535;
/** The UDP size we advertise in our OPT; CoreDNS replaces it with its own towards the client. */
export const ADVERTISED_UDP_SIZE = 1232;

const FLAG_QR = 0x8000;
const FLAG_AA = 0x0400;
const FLAG_RD = 0x0100;
const FLAG_CD = 0x0010;

export interface ReplyHeader {
  id: number;
  /** The query's flags: opcode, RD and CD are copied from them. */
  queryFlags: number;
  aa: boolean;
  /** Full rcode; values above 15 go to the OPT record's extended rcode. */
  rcode: number;
}

export interface ReplyQuestion {
  qnameWire: Buffer;
  qtype: number;
  qclass: number;
}

export interface ReplyEdns {
  dnssecOk: boolean;
}

export interface ReplySections {
  answer: readonly Placed[];
  authority: readonly Placed[];
  additional: readonly Placed[];
}

const EMPTY: ReplySections = { answer: [], authority: [], additional: [] };

/**
 * Encodes a reply. When it would exceed 64 KiB it drops the additional
 * section, then reports overflow by returning undefined; the caller answers
 * SERVFAIL. TC is never set: CoreDNS truncates per client transport.
 */
export function writeReply(h: ReplyHeader, q: ReplyQuestion | undefined, s: ReplySections = EMPTY, edns?: ReplyEdns): Buffer | undefined {
  const questionBytes = q ? q.qnameWire.length + 4 : 0;
  const optBytes = edns ? OPT_BYTES : 0;
  let additional = s.additional;
  let total = 12 + questionBytes + sectionBytes(s.answer) + sectionBytes(s.authority) + optBytes;
  const additionalBytes = sectionBytes(additional);
  if (total + additionalBytes > MAX_MESSAGE_BYTES) additional = NONE;
  else total += additionalBytes;
  if (total > MAX_MESSAGE_BYTES) return undefined;

  const out = Buffer.allocUnsafe(total);
  out.writeUInt16BE(h.id, 0);
  const opcodeBits = h.queryFlags & 0x7800;
  out.writeUInt16BE(FLAG_QR | opcodeBits | (h.aa ? FLAG_AA : 0) | (h.queryFlags & (FLAG_RD | FLAG_CD)) | (h.rcode & 0xf), 2);
  out.writeUInt16BE(q ? 1 : 0, 4);
  out.writeUInt16BE(recordCount(s.answer), 6);
  out.writeUInt16BE(recordCount(s.authority), 8);
  out.writeUInt16BE(recordCount(additional) + (edns ? 1 : 0), 10);
  let at = 12;
  if (q) {
    at += q.qnameWire.copy(out, at);
    at = out.writeUInt16BE(q.qtype, at);
    at = out.writeUInt16BE(q.qclass, at);
  }
  at = writeSection(out, at, s.answer);
  at = writeSection(out, at, s.authority);
  at = writeSection(out, at, additional);
  if (edns) writeOpt(out, at, h.rcode, edns.dnssecOk);
  return out;
}

const NONE: readonly Placed[] = [];

function sectionBytes(section: readonly Placed[]): number {
  let bytes = 0;
  for (let i = 0; i < section.length; i++) {
    const p = section[i] as Placed;
    bytes += p.owner ? wireLengthUnder(p.set, p.owner.length) : p.set.byteLength;
  }
  return bytes;
}

function recordCount(section: readonly Placed[]): number {
  let count = 0;
  for (let i = 0; i < section.length; i++) count += (section[i] as Placed).set.data.length;
  return count;
}

function writeSection(out: Buffer, at: number, section: readonly Placed[]): number {
  for (let i = 0; i < section.length; i++) {
    const p = section[i] as Placed;
    at = copyRRset(p.set, out, at, p.owner);
  }
  return at;
}

const OPT_BYTES = 11;

/** RFC 6891 §6.1.2: root owner, class = UDP size, TTL = extended rcode, version 0, DO. No options. */
function writeOpt(out: Buffer, at: number, rcode: number, dnssecOk: boolean): void {
  out[at] = 0;
  out.writeUInt16BE(41, at + 1);
  out.writeUInt16BE(ADVERTISED_UDP_SIZE, at + 3);
  out[at + 5] = (rcode >>> 4) & 0xff;
  out[at + 6] = 0;
  out.writeUInt16BE(dnssecOk ? 0x8000 : 0, at + 7);
  out.writeUInt16BE(0, at + 9);
}
