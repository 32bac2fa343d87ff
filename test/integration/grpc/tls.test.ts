/** crdns's mutual-TLS listener, for CoreDNS in peer clusters: real certificates, real client, ALPN h2. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import dnsPacket from 'dns-packet';
import { dnsServiceClient } from '../../../src/server/protos.js';
import { startCrdns, type CrdnsProcess } from '../../harness/crdns-process.js';
import { makePki, type TestPki } from '../../harness/tls-certs.js';

const EXAMPLES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../../examples/manifests');

function ask(address: string, creds: grpc.ChannelCredentials, serverName: string): Promise<Buffer> {
  const Client = dnsServiceClient();
  const c = new Client(address, creds, { 'grpc.ssl_target_name_override': serverName }) as unknown as grpc.Client & {
    Query: (req: { msg: Buffer }, opts: grpc.CallOptions, cb: (err: grpc.ServiceError | null, res?: { msg: Buffer }) => void) => void;
  };
  const msg = dnsPacket.encode({ type: 'query', id: 5, questions: [{ name: 'nrf.5gc.mnc001.mcc001.3gppnetwork.org', type: 'A' }] });
  return new Promise<Buffer>((resolve, reject) => c.Query({ msg }, { deadline: Date.now() + 5000 }, (err, res) => (c.close(), err ? reject(err) : resolve(res?.msg as Buffer))));
}

describe('gRPC over mutual TLS', function () {
  this.timeout(60000);
  let pki: TestPki;
  let crdns: CrdnsProcess;

  before(async () => {
    pki = await makePki('crdns.peer.test');
    crdns = await startCrdns({
      zones: ['5gc.mnc001.mcc001.3gppnetwork.org'],
      manifests: EXAMPLES,
      args: ['--tls-listen', '127.0.0.1:0', '--tls-cert', pki.serverCert, '--tls-key', pki.serverKey, '--tls-client-ca', pki.caCert],
    });
  });

  after(async () => {
    await crdns?.stop();
    await pki?.remove();
  });

  it('answers a client that presents a certificate from the trusted CA', async () => {
    const tlsAddr = crdns.addresses.find((a) => a.startsWith('127.0.0.1:')) as string;
    const creds = grpc.credentials.createSsl(readFileSync(pki.caCert), readFileSync(pki.clientKey), readFileSync(pki.clientCert));
    const reply = dnsPacket.decode(await ask(tlsAddr, creds, pki.serverName));
    assert.equal(reply.id, 5);
    assert.ok((reply.answers ?? []).length > 0);
  });

  it('refuses a client without a certificate', async () => {
    const tlsAddr = crdns.addresses.find((a) => a.startsWith('127.0.0.1:')) as string;
    await assert.rejects(ask(tlsAddr, grpc.credentials.createSsl(readFileSync(pki.caCert)), pki.serverName), (err: grpc.ServiceError) => err.code === grpc.status.UNAVAILABLE);
  });

  it('refuses plain text on the TLS port', async () => {
    const tlsAddr = crdns.addresses.find((a) => a.startsWith('127.0.0.1:')) as string;
    await assert.rejects(ask(tlsAddr, grpc.credentials.createInsecure(), pki.serverName), (err: grpc.ServiceError) => err.code === grpc.status.UNAVAILABLE);
  });
});
