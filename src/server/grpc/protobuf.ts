/**
 * The two protobuf shapes crdns's contracts use, by hand: a message whose
 * field 1 is `bytes`/`string` (DnsPacket, HealthCheckRequest) or an enum
 * (HealthCheckResponse). A reflection codec would cost more per query than
 * the DNS answer itself; these read the field in place, without copying.
 *
 * Decoding follows proto3 as protobuf-go does: unknown fields are skipped
 * (field 1 with another wire type counts as unknown), the last occurrence of
 * field 1 wins, a missing field is empty. Anything that cannot be walked (a
 * truncated varint, a length past the end, a wire type that does not exist,
 * a group) is a ProtobufError.
 */

export class ProtobufError extends Error {}

const VARINT = 0;
const FIXED64 = 1;
const LENGTH_DELIMITED = 2;
const START_GROUP = 3;
const END_GROUP = 4;
const FIXED32 = 5;

/** Reads a varint at `at`; returns the value and sets `cursor.at` past it. Values above 2^53 are not needed here and refused. */
function readVarint(buf: Uint8Array, cursor: { at: number }): number {
  let value = 0;
  let scale = 1;
  for (let i = 0; i < 10; i++) {
    if (cursor.at >= buf.length) throw new ProtobufError('truncated varint');
    const b = buf[cursor.at++] as number;
    value += (b & 0x7f) * scale;
    if (b < 0x80) {
      if (value > Number.MAX_SAFE_INTEGER) throw new ProtobufError('varint out of range');
      return value;
    }
    scale *= 128;
  }
  throw new ProtobufError('varint longer than 10 bytes');
}

/** Skips one field's value of the given wire type. Groups are deprecated and never used by these contracts, so they are refused. */
function skip(buf: Uint8Array, cursor: { at: number }, wireType: number): void {
  switch (wireType) {
    case VARINT:
      // Any value is valid here (a negative int64 takes all 10 bytes): only its end is looked for.
      for (let i = 0; ; i++) {
        if (i === 10) throw new ProtobufError('varint longer than 10 bytes');
        if (cursor.at >= buf.length) throw new ProtobufError('truncated varint');
        if ((buf[cursor.at++] as number) < 0x80) return;
      }
    case FIXED64:
      cursor.at += 8;
      break;
    case LENGTH_DELIMITED:
      cursor.at += readVarint(buf, cursor);
      break;
    case FIXED32:
      cursor.at += 4;
      break;
    case START_GROUP:
    case END_GROUP:
      throw new ProtobufError('groups are not supported');
    default:
      throw new ProtobufError(`wire type ${wireType} does not exist`);
  }
  if (cursor.at > buf.length) throw new ProtobufError('field runs past the end of the message');
}

/** Field 1 of `message` as a view into it (length-delimited), or an empty view when absent. */
export function readBytesField1(message: Buffer): Buffer {
  if (message.length === 0) return message;
  // The common case, a message holding only field 1 with a length under 16 KiB, read without the general walk.
  if (message[0] === 0x0a && message.length > 1) {
    const b1 = message[1] as number;
    if (b1 < 0x80 && 2 + b1 === message.length) return message.subarray(2);
    if (b1 >= 0x80 && message.length > 2) {
      const b2 = message[2] as number;
      if (b2 < 0x80 && 3 + ((b1 & 0x7f) | (b2 << 7)) === message.length) return message.subarray(3);
    }
  }
  const cursor = { at: 0 };
  let start = 0;
  let end = 0;
  while (cursor.at < message.length) {
    const key = readVarint(message, cursor);
    const field = Math.floor(key / 8);
    const wireType = key % 8;
    if (field === 0) throw new ProtobufError('field number 0 is reserved');
    if (field === 1 && wireType === LENGTH_DELIMITED) {
      const length = readVarint(message, cursor);
      start = cursor.at;
      end = start + length;
      if (end > message.length) throw new ProtobufError('field 1 runs past the end of the message');
      cursor.at = end;
    } else {
      skip(message, cursor, wireType);
    }
  }
  return message.subarray(start, end);
}

/** Field 1 as UTF-8 text (HealthCheckRequest.service). */
export function readStringField1(message: Buffer): string {
  return readBytesField1(message).toString('utf8');
}

function varintLength(n: number): number {
  let length = 1;
  while (n >= 0x80) {
    n = Math.floor(n / 128);
    length++;
  }
  return length;
}

function writeVarint(out: Uint8Array, at: number, n: number): number {
  while (n >= 0x80) {
    out[at++] = (n & 0x7f) | 0x80;
    n = Math.floor(n / 128);
  }
  out[at++] = n;
  return at;
}

/**
 * A gRPC length-prefixed message (1 byte "not compressed", 4 bytes length)
 * holding a protobuf message whose only field, 1, is `payload`: the whole
 * response body in one allocation.
 */
export function framedBytesField1(payload: Uint8Array): Buffer {
  // proto3 leaves an empty bytes field out of the encoding.
  const inner = payload.length === 0 ? 0 : 1 + varintLength(payload.length) + payload.length;
  const out = Buffer.allocUnsafe(5 + inner);
  out[0] = 0;
  out.writeUInt32BE(inner, 1);
  if (inner > 0) {
    out[5] = (1 << 3) | LENGTH_DELIMITED;
    const at = writeVarint(out, 6, payload.length);
    out.set(payload, at);
  }
  return out;
}

/** The same framing for a message whose field 1 is an enum (HealthCheckResponse.status). */
export function framedEnumField1(value: number): Buffer {
  const inner = value === 0 ? 0 : 1 + varintLength(value);
  const out = Buffer.allocUnsafe(5 + inner);
  out[0] = 0;
  out.writeUInt32BE(inner, 1);
  if (inner > 0) {
    out[5] = (1 << 3) | VARINT;
    writeVarint(out, 6, value);
  }
  return out;
}
