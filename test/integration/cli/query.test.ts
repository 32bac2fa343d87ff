/**
 * `crdns query` against a real `crdns serve`: the question it sends is the
 * one the operator typed (type numbers, A-labels), the header shows what came
 * back, and the exit status says whether a reply came at all, like dig's.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import path from 'node:path';
import { CRDNS_MAIN, startCrdns, type CrdnsProcess } from '../../harness/crdns-process.js';
import { crdns, dnsEndpoint, tempDir } from './support.js';

function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

describe('crdns query', function () {
  this.timeout(120_000);
  let proc: CrdnsProcess;
  let server: string;
  let remove: () => Promise<void>;

  before(async () => {
    let dir: string;
    ({ dir, remove } = await tempDir('query'));
    await writeFile(
      path.join(dir, 'zone.yaml'),
      dnsEndpoint('q', [
        '{dnsName: www.example.test, recordType: A, targets: [192.0.2.1]}',
        '{dnsName: www.example.test, recordType: AAAA, targets: ["2001:db8::1"]}',
        '{dnsName: _sip._udp.example.test, recordType: SRV, targets: ["10 60 5060 www.example.test."]}',
        '{dnsName: bücher.example.test, recordType: A, targets: [192.0.2.7]}',
      ]),
    );
    proc = await startCrdns({ zones: ['example.test'], manifests: dir });
    server = proc.addresses[0] as string;
  });
  after(async () => {
    await proc?.stop();
    await remove?.();
  });

  const query = (...args: string[]) => crdns(['query', '--server', server, ...args]);

  it('an unknown type is a usage error', async () => {
    const r = await query('www.example.test', 'BOGUS');
    assert.equal(r.code, 2, r.out + r.err);
    assert.match(r.err, /unknown type "BOGUS"/);
    assert.equal(r.out, '');
  });

  it('TYPEnnn is sent as type nnn', async () => {
    const r = await query('_sip._udp.example.test', 'TYPE33');
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /^;_sip\._udp\.example\.test\.\tIN\tSRV$/m);
    assert.match(r.out, /_sip\._udp\.example\.test\. \d+ IN SRV 10 60 5060 www\.example\.test\./);
  });

  it('a type dns-packet does not know (HTTPS) is sent with its own number, not 0', async () => {
    const r = await query('www.example.test', 'https');
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /^;www\.example\.test\.\tIN\tHTTPS$/m);
    assert.match(r.out, /status: NOERROR/);
    assert.match(r.out, /AUTHORITY SECTION:\nexample\.test\. \d+ IN SOA /, 'NODATA: the name exists, the type does not');
  });

  it('a name with an empty label is a usage error, not a malformed packet', async () => {
    const r = await query('a..b.example.test');
    assert.equal(r.code, 2);
    assert.match(r.err, /empty label/);
  });

  it('an internationalised name is asked as its A-label', async () => {
    const r = await query('BÜCHER.example.test', 'A');
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /^;xn--bcher-kva\.example\.test\.\tIN\tA$/m);
    assert.match(r.out, /xn--bcher-kva\.example\.test\. \d+ IN A 192\.0\.2\.7/);
  });

  it('the header shows qr', async () => {
    const r = await query('www.example.test');
    assert.match(r.out, /^;; flags: qr aa; QUERY: 1, ANSWER: 1,/m);
  });

  it('exits 0 whenever a reply came, NXDOMAIN included', async () => {
    const r = await query('nope.example.test');
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /status: NXDOMAIN/);
    const refused = await query('www.elsewhere.test');
    assert.equal(refused.code, 0);
    assert.match(refused.out, /status: REFUSED/);
  });

  it('exits 9 when no reply came', async () => {
    const r = await crdns(['query', '--server', `127.0.0.1:${await closedPort()}`, '--timeout', '3000', 'www.example.test']);
    assert.equal(r.code, 9, r.out + r.err);
    assert.match(r.err, /no reply/);
  });

  it('a reader that goes away (| head -1) ends it quietly', async () => {
    const child = spawn(process.execPath, [CRDNS_MAIN, 'query', '--server', server, '--follow', '_sip._udp.example.test', 'SRV'], { stdio: ['ignore', 'pipe', 'pipe'] });
    // Closed before crdns has even started: every write it makes meets EPIPE.
    child.stdout.destroy();
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('close', (c) => resolve(c)));
    assert.equal(err, '', 'nothing on stderr');
    assert.equal(code, 0);
  });

  it('CRDNS_FOLLOW accepts only the documented boolean forms', async () => {
    const r = await crdns(['query', '--server', server, 'www.example.test'], { CRDNS_FOLLOW: 'maybe' });
    assert.equal(r.code, 2);
    assert.match(r.err, /CRDNS_FOLLOW .*"maybe"/);
    const off = await crdns(['query', '--server', server, 'www.example.test'], { CRDNS_FOLLOW: 'false' });
    assert.equal(off.code, 0, off.err);
  });

  it('--follow=yes is refused: a boolean flag takes no value', async () => {
    const r = await query('--follow=yes', 'www.example.test');
    assert.equal(r.code, 2);
    assert.match(r.err, /--follow/);
  });
});
