import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import net from 'node:net';
import dnsPacket from 'dns-packet';
import { parseServer, tcpTransport, udpTransport } from '../../../src/probe/transport.js';

describe('probe servers', () => {
  it('parses udp, tcp, grpc and unix URLs, with an optional cluster list', () => {
    assert.deepEqual(parseServer('udp://127.0.0.1'), { text: 'udp://127.0.0.1', scheme: 'udp', host: '127.0.0.1', port: 53, path: '', clusters: undefined });
    assert.equal(parseServer('tcp://[::1]:5353').port, 5353);
    assert.equal(parseServer('tcp://[::1]:5353').host, '::1');
    assert.deepEqual(parseServer('grpc://10.0.0.1:8053?clusters=berne,zurich').clusters, ['berne', 'zurich']);
    assert.equal(parseServer('unix:///run/crdns.sock').path, '/run/crdns.sock');
  });

  it('refuses what it cannot ask', () => {
    assert.throws(() => parseServer('127.0.0.1:53'), /must be udp:\/\//);
    assert.throws(() => parseServer('udp://dns.example:53'), /not an IP address/);
    assert.throws(() => parseServer('grpc://127.0.0.1'), /needs a port/);
    assert.throws(() => parseServer('udp://127.0.0.1:0'), /port 0/);
    assert.throws(() => parseServer('unix://run/x.sock'), /absolute/);
    assert.throws(() => parseServer('udp://127.0.0.1?cluster=a'), /unknown parameter/);
    assert.throws(() => parseServer('udp://127.0.0.1?clusters='), /no cluster/);
  });
});

/** Answers A queries for names starting "a" with 10.0.0.1, NXDOMAIN otherwise; ignores names starting "slow". */
function answer(msg: Buffer): Buffer | undefined {
  const q = dnsPacket.decode(msg);
  const name = q.questions?.[0]?.name ?? '';
  if (name.startsWith('slow')) return undefined;
  const found = name.startsWith('a');
  return dnsPacket.encode({
    type: 'response',
    id: q.id,
    flags: dnsPacket.AUTHORITATIVE_ANSWER | (found ? 0 : 3),
    questions: q.questions,
    answers: found ? [{ name, type: 'A', class: 'IN', ttl: 5, data: '10.0.0.1' }, { name: 'other.test', type: 'A', class: 'IN', ttl: 5, data: '10.0.0.2' }] : [],
  });
}

describe('probe UDP and TCP transports', () => {
  it('UDP: answers, NXDOMAIN, timeouts; replies matched by ID and question', async () => {
    const server = dgram.createSocket('udp4');
    server.on('message', (msg, rinfo) => {
      const r = answer(msg);
      if (!r) return;
      // A reply with the right ID but another question first: a stub must not take it.
      const wrong = Buffer.from(dnsPacket.encode({ type: 'response', id: msg.readUInt16BE(0), questions: [{ name: 'zzz.test', type: 'A' }] }));
      server.send(wrong, rinfo.port, rinfo.address, () => server.send(r, rinfo.port, rinfo.address));
    });
    await new Promise<void>((r) => server.bind(0, '127.0.0.1', () => r()));
    const t = udpTransport('127.0.0.1', (server.address() as net.AddressInfo).port, 300);
    try {
      const [a, nx, slow] = await Promise.all([t.ask('a.test'), t.ask('b.test'), t.ask('slow.test')]);
      assert.deepEqual(a, { kind: 'answer', rcode: 0, addresses: ['10.0.0.1'] }, 'only the A records of the name asked');
      assert.deepEqual(nx, { kind: 'answer', rcode: 3, addresses: [] });
      assert.deepEqual(slow, { kind: 'timeout' });
    } finally {
      t.close();
      server.close();
    }
  });

  it('TCP: an answer over a connection of its own; a refused connection is an error, silence a timeout', async () => {
    const server = net.createServer((c) => {
      let buf = Buffer.alloc(0);
      c.on('data', (d: Buffer) => {
        buf = Buffer.concat([buf, d]);
        if (buf.length < 2 || buf.length < 2 + buf.readUInt16BE(0)) return;
        const r = answer(buf.subarray(2, 2 + buf.readUInt16BE(0)));
        if (!r) return;
        const len = Buffer.alloc(2);
        len.writeUInt16BE(r.length, 0);
        c.end(Buffer.concat([len, r]));
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const port = (server.address() as net.AddressInfo).port;
    const t = tcpTransport('127.0.0.1', port, 300);
    try {
      assert.deepEqual(await t.ask('a.test'), { kind: 'answer', rcode: 0, addresses: ['10.0.0.1'] });
      assert.deepEqual(await t.ask('slow.test'), { kind: 'timeout' });
    } finally {
      t.close();
      await new Promise((r) => server.close(r));
    }
    const refused = await tcpTransport('127.0.0.1', port, 300).ask('a.test');
    assert.equal(refused.kind, 'error');
  });
});
