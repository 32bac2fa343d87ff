/**
 * The hand-written codec for crdns's one-field protobuf messages, checked
 * against protobufjs (what proto-loader and so grpc-js clients use) on the
 * same .proto types: what one encodes the other decodes, byte for byte.
 */
import assert from 'node:assert/strict';
import protobuf from 'protobufjs';
import { framedBytesField1, framedEnumField1, ProtobufError, readBytesField1, readStringField1 } from '../../../../src/server/grpc/protobuf.js';
import { encodeGrpcMessage } from '../../../../src/server/grpc/status.js';

const root = protobuf.parse(`
syntax = "proto3";
message DnsPacket { bytes msg = 1; }
message HealthCheckRequest { string service = 1; }
message HealthCheckResponse { int32 status = 1; }
message Wider { bytes msg = 1; uint64 a = 2; fixed32 b = 3; fixed64 c = 4; string d = 5; int64 neg = 6; int32 small = 7; sint64 far = 1000; }
`).root;
const DnsPacket = root.lookupType('DnsPacket');
const Request = root.lookupType('HealthCheckRequest');
const Response = root.lookupType('HealthCheckResponse');
const Wider = root.lookupType('Wider');

function unframe(framed: Buffer): Buffer {
  assert.equal(framed[0], 0, 'not compressed');
  assert.equal(framed.readUInt32BE(1), framed.length - 5, 'prefix length');
  return framed.subarray(5);
}

function bytes(n: number, seed: number): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + seed) & 0xff;
  return b;
}

/**
 * Whether a message walks into what we refuse on purpose and protobufjs does
 * not: a group (wire type 3 or 4, deprecated) or field number 0 (reserved;
 * protobuf-go refuses it too).
 */
function refusedOnPurpose(b: Buffer): boolean {
  const r = protobuf.Reader.create(b);
  try {
    while (r.pos < r.len) {
      const key = r.uint32();
      if ((key & 7) === 3 || (key & 7) === 4 || key >>> 3 === 0) return true;
      r.skipType(key & 7);
    }
  } catch {
    return false;
  }
  return false;
}

describe('gRPC protobuf codec (DnsPacket, HealthCheckRequest/Response)', () => {
  // Every varint length boundary a DNS message can cross, up to the 64 KiB cap.
  for (const n of [0, 1, 12, 127, 128, 300, 16383, 16384, 65535]) {
    it(`encodes ${n} payload bytes exactly as protobufjs does, and reads them back`, () => {
      const payload = bytes(n, n);
      const ours = unframe(framedBytesField1(payload));
      // proto3 leaves an empty field out; protobufjs writes one it was given explicitly. Both decode the same.
      if (n > 0) assert.deepEqual(ours, Buffer.from(DnsPacket.encode({ msg: payload }).finish()));
      else assert.equal(ours.length, 0);
      assert.deepEqual(readBytesField1(Buffer.from(DnsPacket.encode({ msg: payload }).finish())), payload);
      assert.deepEqual(readBytesField1(ours), payload);
      assert.deepEqual(Buffer.from((DnsPacket.decode(ours) as unknown as { msg: Uint8Array }).msg), payload);
    });
  }

  it('reads field 1 past unknown fields of every wire type, and the last occurrence wins', () => {
    const wider = Buffer.from(Wider.encode({ a: 2 ** 40, b: 7, c: 9, d: 'x'.repeat(200), msg: bytes(40, 1) }).finish());
    assert.deepEqual(readBytesField1(wider), bytes(40, 1));
    const twice = Buffer.concat([Buffer.from(DnsPacket.encode({ msg: bytes(3, 1) }).finish()), Buffer.from(DnsPacket.encode({ msg: bytes(5, 2) }).finish())]);
    assert.deepEqual(readBytesField1(twice), bytes(5, 2));
    assert.deepEqual(readBytesField1(Buffer.from(Wider.encode({ a: 1 }).finish())), Buffer.alloc(0), 'absent field 1 is empty');
  });

  it('skips unknown varints of any value (10-byte negatives, 2^64 - 1) and field numbers above 15, as protobuf-go does', () => {
    const msg = bytes(30, 3);
    for (const extra of [{ neg: -1 }, { small: -1 }, { a: '18446744073709551615' }, { far: -123456789 }, { neg: -1, small: -7, far: 1 }]) {
      const encoded = Buffer.from(Wider.encode({ ...extra, msg }).finish());
      assert.deepEqual(readBytesField1(encoded), msg, JSON.stringify(extra));
    }
  });

  it('takes field 1 with another wire type as an unknown field, as protobuf-go does', () => {
    assert.deepEqual(readBytesField1(Buffer.from([0x08, 0x01])), Buffer.alloc(0));
    assert.deepEqual(readBytesField1(Buffer.from([0x08, 0x01, 0x0a, 0x02, 7, 8, 0x0d, 1, 2, 3, 4])), Buffer.from([7, 8]));
  });

  it('reads HealthCheckRequest.service as protobufjs writes it', () => {
    for (const service of ['', 'coredns.dns.DnsService', 'grpc.health.v1.Health', 'ünïcode']) {
      assert.equal(readStringField1(Buffer.from(Request.encode({ service }).finish())), service);
    }
  });

  it('writes HealthCheckResponse.status as protobufjs reads it', () => {
    for (const status of [0, 1, 2, 3]) {
      const ours = unframe(framedEnumField1(status));
      if (status > 0) assert.deepEqual(ours, Buffer.from(Response.encode({ status }).finish()));
      assert.equal((Response.decode(ours) as unknown as { status: number }).status, status);
    }
  });

  const broken: Array<[string, number[]]> = [
    ['a truncated key varint', [0x8a]],
    ['a length past the end', [0x0a, 0x05, 1, 2]],
    ['a truncated length varint', [0x0a, 0x80]],
    ['field number 0', [0x02, 0x00]],
    ['wire type 6', [0x16, 0x00]],
    ['a start-group', [0x13]],
    ['an unknown fixed64 cut short', [0x11, 1, 2, 3]],
    ['an 11-byte varint', [0x10, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]],
  ];
  for (const [what, b] of broken) {
    it(`refuses ${what} with a ProtobufError`, () => {
      assert.throws(() => readBytesField1(Buffer.from(b)), ProtobufError);
    });
  }

  it('never throws anything but a ProtobufError on random bytes, and agrees with protobufjs whenever both accept', () => {
    let seed = 12345;
    const next = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff);
    let agreed = 0;
    for (let i = 0; i < 20000; i++) {
      const b = Buffer.alloc(next() % 24);
      for (let j = 0; j < b.length; j++) b[j] = next() & 0xff;
      if (b.length > 0 && i % 2 === 0) b[0] = 0x0a;
      let ours: Buffer | undefined;
      try {
        ours = readBytesField1(b);
      } catch (err) {
        assert.ok(err instanceof ProtobufError, `unexpected ${String(err)}`);
      }
      let theirs: Uint8Array | undefined;
      try {
        theirs = (DnsPacket.decode(b) as unknown as { msg: Uint8Array }).msg;
      } catch {
        theirs = undefined;
      }
      if (ours && theirs) {
        assert.deepEqual(ours, Buffer.from(theirs), `bytes ${b.toString('hex')}`);
        agreed++;
      }
      // What protobufjs reads, so must we, but for what is refused on purpose.
      if (theirs && !ours && !refusedOnPurpose(b)) assert.fail(`protobufjs accepts ${b.toString('hex')}, we refuse it`);
    }
    assert.ok(agreed > 1000, `only ${agreed} inputs were accepted by both`);
  });
});

describe('grpc-message encoding', () => {
  it('percent-encodes what is not printable ASCII, and % itself', () => {
    assert.equal(encodeGrpcMessage('plain text: ok'), 'plain text: ok');
    assert.equal(encodeGrpcMessage('100% "é"\n'), '100%25 "%C3%A9"%0A');
  });
});
