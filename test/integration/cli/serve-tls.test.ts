/**
 * TLS files are checked when crdns starts (a missing or mismatched file used
 * to give a listener that resets every handshake and logs nothing) and on
 * every reload, where a bad file is logged, counted, and never replaces the
 * last good certificate.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { copyFile, writeFile } from 'node:fs/promises';
import { get } from 'node:http';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import dnsPacket from 'dns-packet';
import { dnsServiceClient } from '../../../src/server/protos.js';
import { startCrdns } from '../../harness/crdns-process.js';
import { makePki, type TestPki } from '../../harness/tls-certs.js';
import { pollUntil } from '../../support/eventually.js';
import { crdns, dnsEndpoint, tempDir, type CliResult } from './support.js';

const SERVER_NAME = 'crdns.peer.test';

function ask(address: string, pki: TestPki): Promise<Buffer> {
  const Client = dnsServiceClient();
  const creds = grpc.credentials.createSsl(readFileSync(pki.caCert), readFileSync(pki.clientKey), readFileSync(pki.clientCert));
  const c = new Client(address, creds, { 'grpc.ssl_target_name_override': SERVER_NAME }) as unknown as grpc.Client & {
    Query: (req: { msg: Buffer }, opts: grpc.CallOptions, cb: (err: grpc.ServiceError | null, res?: { msg: Buffer }) => void) => void;
  };
  const msg = dnsPacket.encode({ type: 'query', id: 9, questions: [{ name: 'www.example.test', type: 'A' }] });
  return new Promise<Buffer>((resolve, reject) => c.Query({ msg }, { deadline: Date.now() + 5000 }, (err, res) => (c.close(), err ? reject(err) : resolve(res?.msg as Buffer))));
}

function metrics(address: string): Promise<string> {
  return new Promise((resolve, reject) => {
    get(`http://${address}/metrics`, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve(body));
    }).on('error', reject);
  });
}

function refused(r: CliResult, re: RegExp): void {
  assert.equal(r.code, 2, r.err);
  assert.match(r.err, re);
  assert.doesNotMatch(r.err, /"grpc listening"/);
}

describe('crdns serve: TLS files', function () {
  this.timeout(120_000);
  let one: TestPki;
  let two: TestPki;
  let dir: string;
  let remove: () => Promise<void>;

  before(async () => {
    one = await makePki(SERVER_NAME);
    two = await makePki(SERVER_NAME);
    ({ dir, remove } = await tempDir('tls'));
    await writeFile(path.join(dir, 'a.yaml'), dnsEndpoint('a', ['{dnsName: www.example.test, recordType: A, targets: [192.0.2.1]}']));
  });
  after(async () => {
    await remove?.();
    await one?.remove();
    await two?.remove();
  });

  const serve = (cert: string, key: string, ca: string) =>
    crdns(['serve', '--zone', 'example.test', '--manifests', dir, '--listen', `unix://${path.join(dir, 's.sock')}`, '--tls-listen', '127.0.0.1:0', '--tls-cert', cert, '--tls-key', key, '--tls-client-ca', ca], {}, 15_000);

  describe('are checked at start', () => {
    it('a missing certificate', async () => refused(await serve(path.join(dir, 'nope.crt'), one.serverKey, one.caCert), /--tls-cert ".*nope\.crt": .*ENOENT/));
    it('a missing key', async () => refused(await serve(one.serverCert, path.join(dir, 'nope.key'), one.caCert), /--tls-key ".*nope\.key": .*ENOENT/));
    it('a missing client CA', async () => refused(await serve(one.serverCert, one.serverKey, path.join(dir, 'nope.crt')), /--tls-client-ca ".*nope\.crt": .*ENOENT/));
    it('a certificate that is not PEM', async () => {
      const bad = path.join(dir, 'bad.crt');
      await writeFile(bad, 'hello\n');
      refused(await serve(bad, one.serverKey, one.caCert), /--tls-cert ".*bad\.crt": .*no PEM certificate/);
    });
    it('a key that is not PEM', async () => {
      const bad = path.join(dir, 'bad.key');
      await writeFile(bad, 'hello\n');
      refused(await serve(one.serverCert, bad, one.caCert), /--tls-key ".*bad\.key": .*private key/);
    });
    it('a client CA that is not PEM', async () => {
      const bad = path.join(dir, 'bad-ca.crt');
      await writeFile(bad, 'hello\n');
      refused(await serve(one.serverCert, one.serverKey, bad), /--tls-client-ca ".*bad-ca\.crt": .*no PEM certificate/);
    });
    it('a key that does not belong to the certificate', async () => refused(await serve(one.serverCert, two.serverKey, one.caCert), /--tls-key ".*": .*does not match the certificate in --tls-cert/));
  });

  it('SIGHUP reloads them at once; a bad file is logged, counted and does not replace the last good one', async () => {
    const files = { cert: path.join(dir, 'tls.crt'), key: path.join(dir, 'tls.key'), ca: path.join(dir, 'ca.crt') };
    const install = async (p: TestPki) => {
      await copyFile(p.serverCert, files.cert);
      await copyFile(p.serverKey, files.key);
      await copyFile(p.caCert, files.ca);
    };
    await install(one);
    const proc = await startCrdns({
      zones: ['example.test'],
      manifests: dir,
      http: '127.0.0.1:0',
      args: ['--tls-listen', '127.0.0.1:0', '--tls-cert', files.cert, '--tls-key', files.key, '--tls-client-ca', files.ca],
    });
    try {
      const tlsAddr = proc.addresses.find((a) => a.startsWith('127.0.0.1:')) as string;
      assert.equal(dnsPacket.decode(await ask(tlsAddr, one)).id, 9);
      await assert.rejects(ask(tlsAddr, two), 'a client of the other CA is refused before the reload');

      await install(two);
      proc.child.kill('SIGHUP');
      await pollUntil(async () => proc.logs(), (l) => /"TLS files reloaded"/.test(l), 'reload logged');
      assert.equal(dnsPacket.decode(await ask(tlsAddr, two)).id, 9, 'the new certificate and CA serve right after SIGHUP');

      await writeFile(files.cert, 'truncated by a botched rotation\n');
      proc.child.kill('SIGHUP');
      await pollUntil(async () => proc.logs(), (l) => /"level":"error","msg":"TLS files not reloaded/.test(l), 'failed reload logged as an error');
      assert.match(await metrics(proc.httpAddress()), /^crdns_tls_reload_failures_total 1$/m);
      assert.equal(dnsPacket.decode(await ask(tlsAddr, two)).id, 9, 'the last good certificate keeps serving');
      assert.equal(proc.child.exitCode, null);
    } finally {
      await proc.stop();
    }
  });
});
