/**
 * mTLS in front of a plaintext crdns, for corefiles/multi-cluster.Corefile:
 * its one tls block applies to every grpc target, the local unix socket
 * included, and crdns has no TLS listener of its own. This plays the part of
 * the TLS-terminating proxy a pod would run: it checks CoreDNS's client
 * certificate, offers ALPN h2 (grpc-go refuses TLS without it) and pipes
 * bytes to crdns. The certificates come from the openssl CLI.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { run } from '../../harness/coredns.js';
import { requireTool } from '../../harness/peers.js';

export interface TestPki {
  dir: string;
  serverName: string;
  caCert: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
  remove(): Promise<void>;
}

/** A CA, a server certificate for serverName and a client certificate, all P-256. */
export async function makePki(serverName: string): Promise<TestPki> {
  const openssl = requireTool('openssl');
  const dir = await mkdtemp(path.join(tmpdir(), 'crdns-pki-'));
  const f = (n: string) => path.join(dir, n);
  const ok = async (args: string[]) => {
    const r = await run(openssl, args, { cwd: dir });
    if (r.code !== 0) throw new Error(`openssl ${args.join(' ')} failed: ${r.stderr}`);
  };
  const newKey = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  await ok(['req', '-x509', ...newKey, '-keyout', f('ca.key'), '-out', f('ca.crt'), '-days', '2', '-subj', '/CN=crdns test CA',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
  for (const [who, subject, ext] of [
    ['server', `/CN=${serverName}`, `subjectAltName=DNS:${serverName}\nextendedKeyUsage=serverAuth\nkeyUsage=critical,digitalSignature\n`],
    ['client', '/CN=coredns', 'extendedKeyUsage=clientAuth\nkeyUsage=critical,digitalSignature\n'],
  ] as const) {
    await writeFile(f(`${who}.ext`), ext);
    await ok(['req', ...newKey, '-keyout', f(`${who}.key`), '-out', f(`${who}.csr`), '-subj', subject]);
    await ok(['x509', '-req', '-in', f(`${who}.csr`), '-CA', f('ca.crt'), '-CAkey', f('ca.key'), '-CAcreateserial', '-days', '2', '-extfile', f(`${who}.ext`), '-out', f(`${who}.crt`)]);
  }
  return {
    dir,
    serverName,
    caCert: f('ca.crt'),
    serverCert: f('server.crt'),
    serverKey: f('server.key'),
    clientCert: f('client.crt'),
    clientKey: f('client.key'),
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}

export type Endpoint = { path: string } | { host: string; port: number };

export interface TlsTerminator {
  /** As a grpc target: unix:///path or 127.0.0.1:port. */
  target: string;
  /** Closes the listener and cuts every connection, like the process dying. */
  kill(): Promise<void>;
}

export async function startTlsTerminator(listen: Endpoint, upstream: Endpoint, pki: TestPki): Promise<TlsTerminator> {
  const [key, cert, ca] = await Promise.all([readFile(pki.serverKey), readFile(pki.serverCert), readFile(pki.caCert)]);
  const sockets = new Set<Socket>();
  const server = tls.createServer({ key, cert, ca, requestCert: true, rejectUnauthorized: true, ALPNProtocols: ['h2'], minVersion: 'TLSv1.2' }, (client) => {
    const up = 'path' in upstream ? connect(upstream.path) : connect(upstream.port, upstream.host);
    sockets.add(up);
    const cut = () => {
      client.destroy();
      up.destroy();
      sockets.delete(up);
    };
    client.on('error', cut).on('close', cut);
    up.on('error', cut).on('close', cut);
    client.pipe(up);
    up.pipe(client);
  });
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });
  server.on('tlsClientError', () => undefined);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    if ('path' in listen) server.listen(listen.path, resolve);
    else server.listen(listen.port, listen.host, resolve);
  });
  const addr = server.address();
  const target = 'path' in listen ? `unix://${listen.path}` : `${listen.host}:${typeof addr === 'object' && addr ? addr.port : listen.port}`;
  return {
    target,
    kill: async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const s of sockets) s.destroy();
      await closed;
    },
  };
}
