/**
 * The CoreDNS grpc contract against the real `crdns serve` process, on an
 * ephemeral TCP port and on a unix socket: Query round trips, health,
 * message-size limits, live manifest changes, and hostile bytes over the wire.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import dnsPacket from 'dns-packet';
import { GrpcServer, NOT_READY_MESSAGE } from '../../../src/server/grpc-server.js';
import { HealthState } from '../../../src/server/health-service.js';
import { dnsServiceClient, healthServiceClient } from '../../../src/server/protos.js';
import { startCrdns, type CrdnsProcess } from '../../harness/crdns-process.js';
import { sectionsOf, rrs } from '../../support/zone-text.js';
import { pollUntil } from '../../support/eventually.js';
import { mutate, rng } from '../../support/fuzz-messages.js';

type QueryFn = (msg: Buffer, deadlineMs?: number) => Promise<Buffer>;

function dnsClient(address: string): { query: QueryFn; close: () => void } {
  const Client = dnsServiceClient();
  const c = new Client(address, grpc.credentials.createInsecure(), { 'grpc.max_send_message_length': 1 << 20 }) as unknown as grpc.Client & {
    Query: (req: { msg: Buffer }, opts: grpc.CallOptions, cb: (err: grpc.ServiceError | null, res?: { msg: Buffer }) => void) => void;
  };
  return {
    query: (msg, deadlineMs = 5000) =>
      new Promise((resolve, reject) => c.Query({ msg }, { deadline: Date.now() + deadlineMs }, (err, res) => (err ? reject(err) : resolve(res?.msg ?? Buffer.alloc(0))))),
    close: () => c.close(),
  };
}

function q(name: string, type: string, id = 1): Buffer {
  return dnsPacket.encode({ type: 'query', id, questions: [{ name, type: type as never, class: 'IN' }] });
}

const MANIFEST = (ip: string) => `apiVersion: externaldns.k8s.io/v1alpha1
kind: DNSEndpoint
metadata: {name: web, namespace: team-a}
spec:
  endpoints:
  - {dnsName: www.example.test, recordType: A, targets: ["${ip}"], recordTTL: 60}
  - {dnsName: broken.example.test, recordType: A, targets: ["not-an-ip"]}
  - {dnsName: _sip._udp.example.test, recordType: SRV, targets: ["10 60 5060 sip.example.test."]}
  - {dnsName: sip.example.test, recordType: AAAA, targets: ["2001:db8::5"]}
`;

describe('gRPC contract against the real crdns process', function () {
  this.timeout(60000);
  let dir: string;
  let crdns: CrdnsProcess;

  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'crdns-contract-'));
    await writeFile(path.join(dir, 'web.yaml'), MANIFEST('192.0.2.10'));
    const sock = path.join(dir, 'crdns.sock');
    crdns = await startCrdns({ zones: ['example.test'], manifests: dir, listen: ['127.0.0.1:0', `unix://${sock}`] });
  });

  after(async () => {
    await crdns?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('listens on an ephemeral TCP port and a unix socket, both answering Query', async () => {
    assert.equal(crdns.addresses.length, 2);
    assert.match(crdns.addresses[0] as string, /^127\.0\.0\.1:\d+$/);
    assert.match(crdns.addresses[1] as string, /^unix:\/\//);
    for (const addr of crdns.addresses) {
      const c = dnsClient(addr);
      try {
        const reply = sectionsOf(await c.query(q('www.example.test', 'A', 77)));
        assert.equal(reply.id, 77);
        assert.equal(reply.rcode, 'NOERROR');
        assert.deepEqual(reply.answer, rrs('www.example.test. 60 IN A 192.0.2.10'));
      } finally {
        c.close();
      }
    }
  });

  it('serves valid endpoints of an object whose other endpoint is invalid, and logs why', async () => {
    const c = dnsClient(crdns.addresses[0] as string);
    try {
      const srv = sectionsOf(await c.query(q('_sip._udp.example.test', 'SRV')));
      assert.deepEqual(srv.answer, rrs('_sip._udp.example.test. 300 IN SRV 10 60 5060 sip.example.test.'));
      assert.deepEqual(srv.additional, rrs('sip.example.test. 300 IN AAAA 2001:db8::5'));
      assert.equal(sectionsOf(await c.query(q('broken.example.test', 'A'))).rcode, 'NXDOMAIN');
      const line = crdns.logs().split('\n').find((l) => l.includes('"endpoint rejected"'));
      assert.ok(line, 'a structured rejection log line');
      const rec = JSON.parse(line) as Record<string, unknown>;
      assert.equal(rec.object, 'team-a/web');
      assert.equal(rec.endpoint, 1);
      assert.equal(rec.field, 'targets[0]');
      assert.match(String(rec.reason), /not-an-ip/);
    } finally {
      c.close();
    }
  });

  it('reports SERVING on grpc.health.v1 for "" and coredns.dns.DnsService, NOT_FOUND for others', async () => {
    const Health = healthServiceClient();
    const h = new Health(crdns.addresses[0] as string, grpc.credentials.createInsecure()) as unknown as grpc.Client & {
      Check: (req: { service: string }, cb: (err: grpc.ServiceError | null, res?: { status: string }) => void) => void;
    };
    const check = (service: string) => new Promise<string>((resolve) => h.Check({ service }, (err, res) => resolve(err ? grpc.status[err.code] as string : (res?.status as string))));
    try {
      assert.equal(await check(''), 'SERVING');
      assert.equal(await check('coredns.dns.DnsService'), 'SERVING');
      assert.equal(await check('no.such.Service'), 'NOT_FOUND');
    } finally {
      h.close();
    }
  });

  it('rejects a request message over 64 KiB at the gRPC layer', async () => {
    const c = dnsClient(crdns.addresses[0] as string);
    try {
      await assert.rejects(c.query(Buffer.alloc(70000, 1)), (err: grpc.ServiceError) => err.code === grpc.status.RESOURCE_EXHAUSTED);
      // and keeps answering afterwards
      assert.equal(sectionsOf(await c.query(q('www.example.test', 'A'))).rcode, 'NOERROR');
    } finally {
      c.close();
    }
  });

  it('applies a manifest change live, and keeps the last good content when the file breaks', async () => {
    const c = dnsClient(crdns.addresses[1] as string);
    const answerOf = async () => sectionsOf(await c.query(q('www.example.test', 'A'))).answer;
    try {
      await writeFile(path.join(dir, 'web.yaml'), MANIFEST('192.0.2.11'));
      await pollUntil(answerOf, (a) => a[0] === rrs('www.example.test. 60 IN A 192.0.2.11')[0], 'new address served', 15000, 50);
      await writeFile(path.join(dir, 'web.yaml'), 'apiVersion: [this is: not yaml');
      await pollUntil(async () => crdns.logs(), (l) => l.includes('manifest file unusable'), 'broken file reported', 15000, 50);
      assert.deepEqual(await answerOf(), rrs('www.example.test. 60 IN A 192.0.2.11'));
    } finally {
      c.close();
    }
  });

  it('survives 5,000 mutated messages over gRPC: every one answered, FORMERR or a reply', async () => {
    const c = dnsClient(crdns.addresses[0] as string);
    const r = rng(7);
    const base = [q('www.example.test', 'A'), q('example.test', 'SOA'), q('x.example.test', 'MX')];
    let formerr = 0;
    try {
      for (let i = 0; i < 5000; i++) {
        const msg = mutate(base[i % base.length] as Buffer, r);
        const reply = await c.query(msg);
        assert.ok(reply.length >= 12, `reply to message ${i} has ${reply.length} bytes`);
        if ((reply.readUInt16BE(2) & 0xf) === 1) formerr++;
      }
      assert.ok(formerr > 0);
      assert.equal(crdns.child.exitCode, null, 'crdns still running');
    } finally {
      c.close();
    }
  });
});

describe('gRPC server before the first snapshot', () => {
  it('fails Query at once with UNAVAILABLE and reports NOT_SERVING', async () => {
    const health = new HealthState();
    const server = new GrpcServer({ listen: ['127.0.0.1:0'], snapshot: () => undefined, health });
    const [addr] = await server.start();
    const c = dnsClient(addr as string);
    try {
      // UNAVAILABLE, not DEADLINE_EXCEEDED: the call failed at once instead of waiting for data.
      await assert.rejects(c.query(q('www.example.test', 'A'), 30000), (err: grpc.ServiceError) => err.code === grpc.status.UNAVAILABLE && err.details === NOT_READY_MESSAGE);
      assert.equal(health.statusOf(''), 'NOT_SERVING');
    } finally {
      c.close();
      await server.stop();
    }
  });
});
