/**
 * Writes a reply message. Records arrive pre-encoded (rrset.ts), so a reply
 * is a 12-byte header, the question bytes exactly as the client sent them,
 * and the RRsets' buffers, joined once. No compression: CoreDNS unpacks and
 * re-packs every reply for its client anyway.
 */
import { wireUnderOwner, type Placed } from './rrset.js';

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
  const parts: Buffer[] = [];
  const header = Buffer.alloc(12);
  parts.push(header);
  let size = 12;
  if (q) {
    const tail = Buffer.allocUnsafe(4);
    tail.writeUInt16BE(q.qtype, 0);
    tail.writeUInt16BE(q.qclass, 2);
    parts.push(q.qnameWire, tail);
    size += q.qnameWire.length + 4;
  }
  const an = pushSection(parts, s.answer);
  const ns = pushSection(parts, s.authority);
  const mainSize = size + an.bytes + ns.bytes;
  const opt = edns ? optRecord(h.rcode, edns.dnssecOk) : undefined;
  let ar = pushSection(parts, s.additional);
  let total = mainSize + ar.bytes + (opt ? opt.length : 0);
  if (total > MAX_MESSAGE_BYTES && ar.count > 0) {
    parts.length -= ar.parts;
    total -= ar.bytes;
    ar = { count: 0, bytes: 0, parts: 0 };
  }
  if (total > MAX_MESSAGE_BYTES) return undefined;
  if (opt) parts.push(opt);

  header.writeUInt16BE(h.id, 0);
  const opcodeBits = h.queryFlags & 0x7800;
  const flags = FLAG_QR | opcodeBits | (h.aa ? FLAG_AA : 0) | (h.queryFlags & (FLAG_RD | FLAG_CD)) | (h.rcode & 0xf);
  header.writeUInt16BE(flags, 2);
  header.writeUInt16BE(q ? 1 : 0, 4);
  header.writeUInt16BE(an.count, 6);
  header.writeUInt16BE(ns.count, 8);
  header.writeUInt16BE(ar.count + (opt ? 1 : 0), 10);
  return Buffer.concat(parts, total);
}

function pushSection(parts: Buffer[], section: readonly Placed[]): { count: number; bytes: number; parts: number } {
  let count = 0;
  let bytes = 0;
  for (const p of section) {
    const buf = p.owner ? wireUnderOwner(p.set, p.owner) : p.set.wire;
    parts.push(buf);
    bytes += buf.length;
    count += p.set.data.length;
  }
  return { count, bytes, parts: section.length };
}

/** RFC 6891 §6.1.2: root owner, class = UDP size, TTL = extended rcode, version 0, DO. No options. */
function optRecord(rcode: number, dnssecOk: boolean): Buffer {
  const b = Buffer.alloc(11);
  b.writeUInt16BE(41, 1);
  b.writeUInt16BE(ADVERTISED_UDP_SIZE, 3);
  b[5] = (rcode >>> 4) & 0xff;
  b[6] = 0;
  b.writeUInt16BE(dnssecOk ? 0x8000 : 0, 7);
  return b;
}
