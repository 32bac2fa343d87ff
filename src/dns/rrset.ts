/**
 * An RRset ready for the wire. Its records are encoded once, when a snapshot
 * is built, so answering a query copies bytes instead of encoding records.
 *
 * One RRset is its place in a shared slab (wire-slab.ts) and the data array
 * the builder was given, nothing per record: at telco scale a zone holds
 * about one RRset per record, and every object per record (a record view, a
 * Buffer per body, a Buffer for the owner) costs about 100 bytes of heap.
 * What the rare paths need (the bodies under another owner, for wildcards)
 * is read back off the wire bytes.
 */
import { v4, v6 } from '@leichtgewicht/ip-codec';
import dnsPacket from 'dns-packet';
import type { Answer } from 'dns-packet';
import { type RecordType, type RDataByType, type ResourceRecord, TYPE_CODES } from './records.js';
import { encodeName, writeName } from './wire-name.js';
import { wireLength } from './name.js';
import { reserveWire } from './wire-slab.js';

export interface RRset<T extends RecordType = RecordType> {
  /** Canonical owner name. */
  readonly name: string;
  readonly type: T;
  readonly typeCode: number;
  readonly ttl: number;
  /** Each record's data, in the order the records go out. */
  readonly data: readonly RDataByType[T][];
  /** Bytes of the uncompressed owner name that starts every record in the slab. */
  readonly ownerLength: number;
  /**
   * `slab[offset, offset + byteLength)`: owner name, then type, class, TTL,
   * rdlength and rdata, for every record; the RRset as it goes out under its
   * own name. Shared with other RRsets' bytes: read, never written.
   */
  readonly slab: Buffer;
  readonly offset: number;
  readonly byteLength: number;
}

/**
 * An RRset holds only what the wire bytes do not: at about one RRset per
 * record, every field is 8 bytes a record. The type's name, the TTL and the
 * owner's wire length are read back off the bytes, on paths that run per
 * build or per wildcard answer, not per record served.
 */
class WireRRset<T extends RecordType> implements RRset<T> {
  constructor(
    readonly name: string,
    readonly typeCode: number,
    readonly data: readonly RDataByType[T][],
    readonly slab: Buffer,
    readonly offset: number,
    readonly byteLength: number,
  ) {}

  get type(): T {
    return TYPE_NAMES.get(this.typeCode) as T;
  }

  get ownerLength(): number {
    // An uncompressed name: label lengths up to the root's zero.
    const slab = this.slab;
    let at = this.offset;
    while (slab[at] !== 0) at += (slab[at] as number) + 1;
    return at + 1 - this.offset;
  }

  get ttl(): number {
    return this.slab.readUInt32BE(this.offset + this.ownerLength + 4);
  }
}

const TYPE_NAMES: ReadonlyMap<number, RecordType> = new Map(Object.entries(TYPE_CODES).map(([name, code]) => [code, name as RecordType]));

/**
 * An RRset over records already on the wire in `slab[offset, offset +
 * byteLength)`, every one under the same uncompressed owner name. There must
 * be at least one: the TTL and the owner's length are read from the first.
 */
export function wireRRset<T extends RecordType>(name: string, type: T, data: readonly RDataByType[T][], slab: Buffer, offset: number, byteLength: number): RRset<T> {
  if (byteLength === 0 || data.length === 0) throw new Error(`an RRset needs at least one record (${name} ${type})`);
  return new WireRRset(name, TYPE_CODES[type], data, slab, offset, byteLength);
}

/** An RRset placed in a section of a reply; `owner` replaces its owner name (wildcard synthesis). */
export interface Placed {
  readonly set: RRset;
  readonly owner?: Buffer;
}

/**
 * Builds a wire-ready RRset. `data` must already be validated (neither
 * encoder here checks anything). The types a telco zone is made of are
 * written straight into the slab; the rest go through dns-packet once per
 * record, which costs a packet each and was a fifth of building 100k records.
 */
export function makeRRset<T extends RecordType>(name: string, type: T, ttl: number, data: readonly RDataByType[T][]): RRset<T> {
  return DIRECT_TYPES.has(type) && !name.includes('\\') ? writeDirect(name, type, ttl, data) : writeThroughDnsPacket(name, type, ttl, data);
}

/** Types whose rdata writeRdata knows, all fixed fields and uncompressed names. */
const DIRECT_TYPES: ReadonlySet<RecordType> = new Set<RecordType>(['A', 'AAAA', 'CNAME', 'DNAME', 'PTR', 'NS', 'MX', 'SRV']);
const CLASS_IN = 1;

function writeDirect<T extends RecordType>(name: string, type: T, ttl: number, data: readonly RDataByType[T][]): RRset<T> {
  const ownerLength = wireLength(name);
  let byteLength = 0;
  for (const d of data) byteLength += ownerLength + 10 + rdataLength(type, d);
  const { slab, offset } = reserveWire(byteLength);
  const typeCode = TYPE_CODES[type];
  let at = offset;
  for (let i = 0; i < data.length; i++) {
    at = i === 0 ? writeName(name, slab, at) : at + slab.copy(slab, at, offset, offset + ownerLength);
    slab.writeUInt16BE(typeCode, at);
    slab.writeUInt16BE(CLASS_IN, at + 2);
    slab.writeUInt32BE(ttl, at + 4);
    const end = writeRdata(type, data[i] as RDataByType[T], slab, at + 10);
    slab.writeUInt16BE(end - at - 10, at + 8);
    at = end;
  }
  // Reserved by rdataLength, written by writeRdata: the same for canonical names, which is all validation lets in.
  return wireRRset(name, type, data, slab, offset, at - offset);
}

function writeRdata<T extends RecordType>(type: T, data: RDataByType[T], buf: Buffer, at: number): number {
  const d = data as RDataByType[RecordType];
  switch (type) {
    // The codec dns-packet encodes addresses with: one pass over the text, nothing allocated.
    case 'A':
      v4.encode(d as string, buf, at);
      return at + 4;
    case 'AAAA':
      v6.encode(d as string, buf, at);
      return at + 16;
    case 'MX': {
      const mx = d as RDataByType['MX'];
      buf.writeUInt16BE(mx.preference, at);
      return writeName(mx.exchange, buf, at + 2);
    }
    case 'SRV': {
      const srv = d as RDataByType['SRV'];
      buf.writeUInt16BE(srv.priority, at);
      buf.writeUInt16BE(srv.weight, at + 2);
      buf.writeUInt16BE(srv.port, at + 4);
      return writeName(srv.target, buf, at + 6);
    }
    default:
      return writeName(d as string, buf, at);
  }
}

function writeThroughDnsPacket<T extends RecordType>(name: string, type: T, ttl: number, data: readonly RDataByType[T][]): RRset<T> {
  const ownerWire = encodeName(name);
  const bodies = data.map((d) => encodeBody({ name, type, ttl, data: d }));
  let byteLength = 0;
  for (const b of bodies) byteLength += ownerWire.length + b.length;
  const { slab, offset } = reserveWire(byteLength);
  let at = offset;
  for (const b of bodies) {
    at += ownerWire.copy(slab, at);
    at += b.copy(slab, at);
  }
  return wireRRset(name, type, data, slab, offset, byteLength);
}

/** The RRset's bytes under its own name (a view, not a copy). */
export function rrsetWire(set: RRset): Buffer {
  return set.slab.subarray(set.offset, set.offset + set.byteLength);
}

/** Bytes the RRset takes on the wire under an owner name of `ownerLength` bytes. */
export function wireLengthUnder(set: RRset, ownerLength: number): number {
  return set.byteLength + set.data.length * (ownerLength - set.ownerLength);
}

/** Copies the RRset's records into `out` at `at` under `owner` (wildcard synthesis), or under its own name; returns the new end. */
export function copyRRset(set: RRset, out: Buffer, at: number, owner?: Buffer): number {
  const slab = set.slab;
  if (owner === undefined) return at + slab.copy(out, at, set.offset, set.offset + set.byteLength);
  const end = set.offset + set.byteLength;
  for (let pos = set.offset + set.ownerLength; pos < end; ) {
    const next = pos + 10 + slab.readUInt16BE(pos + 8);
    at += owner.copy(out, at);
    at += slab.copy(out, at, pos, next);
    pos = next + set.ownerLength;
  }
  return at;
}

function encodeBody(rr: ResourceRecord): Buffer {
  // dns-packet mutates TXT arrays and CAA objects while encoding, so hand it copies.
  const data = rr.type === 'TXT' ? [...(rr.data as Buffer[])] : typeof rr.data === 'object' ? { ...rr.data } : rr.data;
  const answer = { name: '.', type: rr.type, class: 'IN', ttl: rr.ttl, data } as unknown as Answer;
  const packet = dnsPacket.encode({ type: 'response', id: 0, flags: 0, answers: [answer] });
  // 12 header bytes, then the root owner name (one zero byte), then the body.
  return packet.subarray(13);
}

/** Rdata length on the wire, from the parsed data, without encoding it. */
export function rdataLength<T extends RecordType>(type: T, data: RDataByType[T]): number {
  const d = data as RDataByType[RecordType];
  switch (type) {
    case 'A':
      return 4;
    case 'AAAA':
      return 16;
    case 'CNAME':
    case 'DNAME':
    case 'PTR':
    case 'NS':
      return wireLength(d as string);
    case 'MX':
      return 2 + wireLength((d as RDataByType['MX']).exchange);
    case 'SRV':
      return 6 + wireLength((d as RDataByType['SRV']).target);
    case 'NAPTR': {
      const n = d as RDataByType['NAPTR'];
      return 4 + 3 + Buffer.byteLength(n.flags) + Buffer.byteLength(n.services) + Buffer.byteLength(n.regexp) + wireLength(n.replacement);
    }
    case 'TXT':
      return (d as Buffer[]).reduce((sum, b) => sum + 1 + b.length, 0);
    case 'CAA': {
      const c = d as RDataByType['CAA'];
      return 2 + Buffer.byteLength(c.tag) + Buffer.byteLength(c.value);
    }
    default:
      return 20 + wireLength((d as RDataByType['SOA']).mname) + wireLength((d as RDataByType['SOA']).rname);
  }
}
