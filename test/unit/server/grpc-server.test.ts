/**
 * crdns's gRPC transport spoken to over raw HTTP/2 (node:http2 as the
 * client), so every frame the server gets is one this test chose: what a
 * well-behaved grpc-go or grpc-js client sends, and what they never would.
 * The well-behaved paths are also covered by real clients: grpc-js in
 * test/integration/grpc, stock CoreDNS in test/integration/coredns.
 */
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import net from 'node:net';
import dnsPacket from 'dns-packet';
import { DEFAULT_ZONE_SETTINGS, zoneConfig } from '../../../src/dns/zone-config.js';
import { GrpcServer, NOT_READY_MESSAGE } from '../../../src/server/grpc-server.js';
import { framedBytesField1 } from '../../../src/server/grpc/protobuf.js';
import { HealthState } from '../../../src/server/health-service.js';
import { ZoneStore } from '../../../src/store/zone-store.js';
import { pollUntil } from '../../support/eventually.js';

const Z = 'grpc.test';
const QUERY = '/coredns.dns.DnsService/Query';
const GRPC = { ':method': 'POST', 'content-type': 'application/grpc', te: 'trailers' };

interface Reply {
  status: number;
  headers: http2.IncomingHttpHeaders;
  trailers: http2.IncomingHttpHeaders;
  body: Buffer;
  /** The trailers-only form: grpc-status arrived in the response headers. */
  trailersOnly: boolean;
}

function call(client: http2.ClientHttp2Session, path: string, chunks: Buffer[], headers: http2.OutgoingHttpHeaders = GRPC): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = client.request({ ...headers, ':path': path });
    const body: Buffer[] = [];
    let responseHeaders: http2.IncomingHttpHeaders = {};
    let trailers: http2.IncomingHttpHeaders = {};
    req.on('response', (h) => (responseHeaders = h));
    req.on('trailers', (t) => (trailers = t));
    req.on('data', (d: Buffer) => body.push(d));
    req.on('error', reject);
    req.on('close', () =>
      resolve({ status: Number(responseHeaders[':status']), headers: responseHeaders, trailers, body: Buffer.concat(body), trailersOnly: responseHeaders['grpc-status'] !== undefined }),
    );
    for (const c of chunks) req.write(c);
    req.end();
  });
}

function grpcStatus(r: Reply): number {
  return Number((r.trailersOnly ? r.headers : r.trailers)['grpc-status']);
}

function grpcMessage(r: Reply): string {
  return decodeURIComponent(String((r.trailersOnly ? r.headers : r.trailers)['grpc-message'] ?? ''));
}

function query(name: string, id = 7): Buffer {
  return framedBytesField1(dnsPacket.encode({ type: 'query', id, questions: [{ name, type: 'A', class: 'IN' }] }));
}

function answerOf(r: Reply): dnsPacket.Packet {
  assert.equal(grpcStatus(r), 0, grpcMessage(r));
  // 5-byte prefix, tag 0x0a, then a varint length: one byte for any reply under 128 bytes.
  assert.equal(r.body[5], 0x0a);
  return dnsPacket.decode(r.body.subarray(7));
}

describe('gRPC transport (raw HTTP/2 client)', function () {
  this.timeout(20_000);
  let store: ZoneStore;
  let health: HealthState;
  let server: GrpcServer;
  let address: string;
  let client: http2.ClientHttp2Session;

  before(async () => {
    store = new ZoneStore({ zones: [zoneConfig(Z, DEFAULT_ZONE_SETTINGS)], defaultTtl: 60 });
    store.replaceAll([{ key: 't/www', origin: { source: 'test', namespace: 't', name: 'www' }, endpoints: [{ dnsName: `www.${Z}`, recordType: 'A', targets: ['192.0.2.1'] }] }]);
    store.synced();
    store.flush();
    assert.ok(store.current, 'a snapshot to serve');
    health = new HealthState();
    health.set(true);
    server = new GrpcServer({ listen: ['127.0.0.1:0'], snapshot: () => store.current, health });
    [address] = (await server.start()) as [string];
    client = http2.connect(`http://${address}`);
  });

  after(async () => {
    client?.close();
    store?.close();
    await server?.stop(0);
  });

  it('answers a Query: status 200, application/grpc, the reply message, grpc-status 0 in trailers', async () => {
    const r = await call(client, QUERY, [query(`www.${Z}`, 4242)]);
    assert.equal(r.status, 200);
    assert.equal(r.headers['content-type'], 'application/grpc');
    assert.equal(r.trailersOnly, false);
    const a = answerOf(r);
    assert.equal(a.id, 4242);
    assert.equal(client.remoteSettings.maxConcurrentStreams, 4096, 'streams per connection are bounded');
    assert.deepEqual(a.answers?.map((x) => (x as { data: unknown }).data), ["192.0.2.1"]);
  });

  it('answers a request split over many DATA frames, one byte each', async () => {
    const whole = query(`www.${Z}`, 9);
    const r = await call(client, QUERY, [...whole].map((b) => Buffer.from([b])));
    assert.equal(answerOf(r).id, 9);
  });

  it('answers 500 concurrent calls on one connection, each with its own reply', async () => {
    const replies = await Promise.all(Array.from({ length: 500 }, (_, i) => call(client, QUERY, [query(`www.${Z}`, i)])));
    replies.forEach((r, i) => assert.equal(answerOf(r).id, i));
  });

  it('gives FORMERR inside a normal reply for bytes that are not a DNS message', async () => {
    const r = await call(client, QUERY, [framedBytesField1(Buffer.from('not dns'))]);
    assert.equal(grpcStatus(r), 0);
    assert.equal(r.body.subarray(7).readUInt16BE(2) & 0xf, 1, 'rcode FORMERR');
  });

  const refusals: Array<[string, () => Buffer[], number, RegExp]> = [
    ['a call with no message', () => [], 13, /no request message/],
    ['a truncated prefix', () => [Buffer.from([0, 0, 0])], 13, /truncated/],
    ['a message shorter than its prefix says', () => [query(`www.${Z}`).subarray(0, 20)], 13, /truncated/],
    ['two messages in a unary call', () => [query(`www.${Z}`), query(`www.${Z}`)], 13, /more than one/],
    ['a compressed message', () => [Buffer.concat([Buffer.from([1]), query(`www.${Z}`).subarray(1)])], 12, /compress/],
    ['a body that is not a DnsPacket', () => [Buffer.from([0, 0, 0, 0, 4, 0x0a, 0x05, 1, 2])], 13, /DnsPacket/],
    ['an invalid compressed flag', () => [Buffer.concat([Buffer.from([2]), query(`www.${Z}`).subarray(1)])], 13, /compressed flag 2/],
    ['a message over 64 KiB', () => [Buffer.concat([Buffer.from([0, 0, 1, 0x11, 0x70]), Buffer.alloc(70000)])], 8, /over the limit/],
    ['small messages adding up to more than 64 KiB', () => Array.from({ length: 3000 }, () => query(`www.${Z}`)), 13, /more than one/],
  ];
  for (const [what, body, code, message] of refusals) {
    it(`refuses ${what} with gRPC status ${code}, trailers-only, and keeps serving the connection`, async () => {
      const r = await call(client, QUERY, body());
      assert.equal(r.status, 200);
      assert.equal(r.trailersOnly, true);
      assert.equal(grpcStatus(r), code);
      assert.match(grpcMessage(r), message);
      assert.equal(answerOf(await call(client, QUERY, [query(`www.${Z}`, 3)])).id, 3);
    });
  }

  it('gives every one of 3,000 random bodies a gRPC status, and keeps answering', async () => {
    let seed = 99;
    const next = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff);
    const seen = new Set<number>();
    for (let i = 0; i < 3000; i += 100) {
      const batch = Array.from({ length: 100 }, () => {
        const body = Buffer.alloc(next() % 40);
        for (let j = 0; j < body.length; j++) body[j] = next() & 0xff;
        // Half of them framed right, so the protobuf and DNS layers get random input too.
        if (i % 200 === 0 && body.length >= 5) {
          body[0] = 0;
          body.writeUInt32BE(body.length - 5, 1);
        }
        return call(client, QUERY, [body]);
      });
      for (const r of await Promise.all(batch)) {
        assert.equal(r.status, 200);
        seen.add(grpcStatus(r));
      }
    }
    // OK (a DNS reply, FORMERR most of the time), INTERNAL (not one message), RESOURCE_EXHAUSTED (a huge declared length).
    assert.deepEqual([...seen].sort((a, b) => a - b), [0, 8, 13]);
    assert.equal(answerOf(await call(client, QUERY, [query(`www.${Z}`, 5)])).id, 5);
  });

  it('says UNIMPLEMENTED for a method it does not have', async () => {
    const r = await call(client, '/coredns.dns.DnsService/Other', [query(`www.${Z}`)]);
    assert.equal(grpcStatus(r), 12);
    assert.match(grpcMessage(r), /does not implement "\/coredns.dns.DnsService\/Other"/);
  });

  it('answers plain HTTP statuses to what is not gRPC: 405 for GET, 415 for another content-type', async () => {
    assert.equal((await call(client, QUERY, [], { ':method': 'GET' })).status, 405);
    assert.equal((await call(client, QUERY, [query(`www.${Z}`)], { ':method': 'POST', 'content-type': 'application/json' })).status, 415);
  });

  it('answers health Check with SERVING (status 1) for "", NOT_FOUND for an unknown service', async () => {
    const check = (service: string) => call(client, '/grpc.health.v1.Health/Check', [framedBytesField1(Buffer.from(service))]);
    const serving = await check('');
    assert.equal(grpcStatus(serving), 0);
    assert.deepEqual([...serving.body], [0, 0, 0, 0, 2, 0x08, 1]);
    const unknown = await check('no.such.Service');
    assert.equal(grpcStatus(unknown), 5);
    assert.match(grpcMessage(unknown), /unknown service "no.such.Service"/);
  });

  it('refuses a request message that does not finish arriving within the receive deadline, and forgets it', async () => {
    const slow = new GrpcServer({ listen: ['127.0.0.1:0'], snapshot: () => store.current, health, receiveTimeoutMs: 300 });
    const [addr] = (await slow.start()) as [string];
    const c = http2.connect(`http://${addr}`);
    try {
      const whole = query(`www.${Z}`, 5);
      const req = c.request({ ...GRPC, ':path': QUERY });
      let headers: http2.IncomingHttpHeaders = {};
      req.on('response', (h) => (headers = h));
      req.on('error', () => {});
      req.write(whole.subarray(0, 9));
      const t0 = Date.now();
      await new Promise<void>((resolve) => req.on('close', () => resolve()));
      assert.equal(headers['grpc-status'], '4', 'DEADLINE_EXCEEDED');
      assert.match(decodeURIComponent(String(headers['grpc-message'])), /did not arrive within 0.3 s/);
      assert.ok(Date.now() - t0 < 5000);
      assert.equal(slow.partial.size, 0);
      // A message cut off by the client's own reset is forgotten too.
      const reset = c.request({ ...GRPC, ':path': QUERY });
      reset.on('error', () => {});
      reset.write(whole.subarray(0, 9));
      await pollUntil(async () => slow.partial.size, (n) => n === 1, 'the partial message', 5000, 5);
      reset.close(http2.constants.NGHTTP2_CANCEL);
      await pollUntil(async () => slow.partial.size, (n) => n === 0, 'the reset message forgotten', 5000, 5);
      assert.equal(answerOf(await call(c, QUERY, [whole.subarray(0, 3), whole.subarray(3)])).id, 5);
    } finally {
      c.close();
      await slow.stop(0);
    }
  });

  it('refuses a client that does not answer keepalive pings, and keeps one that does', async () => {
    const pinged = new GrpcServer({ listen: ['127.0.0.1:0'], snapshot: () => store.current, health, keepalive: { timeMs: 100, timeoutMs: 200 } });
    const [addr] = (await pinged.start()) as [string];
    try {
      const [host, port] = [addr.slice(0, addr.lastIndexOf(':')), Number(addr.slice(addr.lastIndexOf(':') + 1))];
      // A client that sends the HTTP/2 preface and an empty SETTINGS frame, then never reads or acks anything.
      const mute = net.connect(port, host);
      mute.write(Buffer.concat([Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'), Buffer.from([0, 0, 0, 4, 0, 0, 0, 0, 0])]));
      mute.on('data', () => {});
      const closedAfter = await new Promise<number>((resolve) => {
        const t0 = Date.now();
        const giveUp = setTimeout(() => resolve(Infinity), 5000);
        mute.on('close', () => {
          clearTimeout(giveUp);
          resolve(Date.now() - t0);
        });
      });
      mute.destroy();
      assert.ok(closedAfter < 5000, `the server had not closed the connection after 5 s`);
      const live = http2.connect(`http://${addr}`);
      try {
        await new Promise((r) => setTimeout(r, 800));
        assert.equal(live.destroyed, false, 'a client that acks pings stays connected');
        assert.equal(answerOf(await call(live, QUERY, [query(`www.${Z}`, 11)])).id, 11);
      } finally {
        live.close();
      }
    } finally {
      await pinged.stop(0);
    }
  });
});

describe('gRPC transport: Watch and a graceful stop', function () {
  this.timeout(20_000);

  it('streams health changes to Watch, ends watches with UNAVAILABLE on stop, and sends GOAWAY', async () => {
    const health = new HealthState();
    const server = new GrpcServer({ listen: ['127.0.0.1:0'], snapshot: () => undefined, health });
    const [addr] = (await server.start()) as [string];
    const client = http2.connect(`http://${addr}`);
    const goaway = new Promise<void>((resolve) => client.on('goaway', () => resolve()));
    try {
      const statuses: number[] = [];
      const req = client.request({ ...GRPC, ':path': '/grpc.health.v1.Health/Watch' });
      let trailers: http2.IncomingHttpHeaders = {};
      req.on('trailers', (t) => (trailers = t));
      // Every message here is 7 bytes: prefix, tag, one-byte status.
      req.on('data', (d: Buffer) => {
        for (let at = 0; at + 7 <= d.length; at += 7) statuses.push(d[at + 6] as number);
      });
      const closed = new Promise<void>((resolve) => req.on('close', () => resolve()));
      req.end(framedBytesField1(Buffer.from('coredns.dns.DnsService')));
      await pollUntil(async () => statuses.length, (n) => n === 1, 'first status', 5000, 10);
      assert.deepEqual(statuses, [2], 'NOT_SERVING before the first snapshot');
      // Not ready: Query is refused at once.
      const q = await call(client, QUERY, [query(`www.${Z}`)]);
      assert.equal(grpcStatus(q), 14);
      assert.equal(grpcMessage(q), NOT_READY_MESSAGE);
      health.set(true);
      health.set(false);
      health.set(true);
      await pollUntil(async () => statuses.length, (n) => n === 4, 'each change', 5000, 10);
      assert.deepEqual(statuses, [2, 1, 2, 1]);
      const t0 = Date.now();
      await server.stop(5000);
      assert.ok(Date.now() - t0 < 4000, 'stop did not wait out its grace for an open watch');
      await closed;
      assert.equal(trailers['grpc-status'], '14');
      await goaway;
    } finally {
      client.destroy();
    }
  });

  it('stops within its grace when clients never close: a mute HTTP/2 peer and a TCP connection that never speaks', async () => {
    const server = new GrpcServer({ listen: ['127.0.0.1:0'], snapshot: () => undefined, health: new HealthState() });
    const [addr] = (await server.start()) as [string];
    const port = Number(addr.slice(addr.lastIndexOf(':') + 1));
    const mute = net.connect(port, '127.0.0.1');
    mute.write(Buffer.concat([Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'), Buffer.from([0, 0, 0, 4, 0, 0, 0, 0, 0])]));
    const silent = net.connect(port, '127.0.0.1');
    const sockets = [mute, silent];
    for (const s of sockets) s.on('error', () => {});
    try {
      await Promise.all(sockets.map((s) => new Promise((r) => s.once('connect', r))));
      await new Promise((r) => setTimeout(r, 100));
      const t0 = Date.now();
      const stopped = await Promise.race([server.stop(200).then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 5000))]);
      assert.ok(stopped, 'stop(200) had not finished after 5 s');
      assert.ok(Date.now() - t0 < 5000);
    } finally {
      for (const s of sockets) s.destroy();
    }
  });

  it('takes a second stop, even with a watch open, as the first one', async () => {
    const health = new HealthState();
    const server = new GrpcServer({ listen: ['127.0.0.1:0'], snapshot: () => undefined, health });
    const [addr] = (await server.start()) as [string];
    const client = http2.connect(`http://${addr}`);
    try {
      const req = client.request({ ...GRPC, ':path': '/grpc.health.v1.Health/Watch' });
      let trailers: http2.IncomingHttpHeaders = {};
      let got = 0;
      req.on('trailers', (t) => (trailers = t));
      req.on('data', () => got++);
      const closed = new Promise<void>((resolve) => req.on('close', () => resolve()));
      req.end(framedBytesField1(Buffer.from('')));
      await pollUntil(async () => got, (n) => n > 0, 'the first status', 5000, 5);
      const first = server.stop(1000);
      const second = server.stop(1000);
      assert.equal(first, second, 'one stop, whoever asks');
      await Promise.all([first, second, closed]);
      assert.equal(trailers['grpc-status'], '14');
    } finally {
      client.destroy();
    }
  });
});
