/** A throwaway CA with one server and one client certificate, made with openssl, for mutual-TLS tests. */
import { execFileSync } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { requireTool } from './peers.js';

export interface TestPki {
  dir: string;
  ca: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
  /** The name in the server certificate; clients must ask for it (tls_servername in CoreDNS). */
  serverName: string;
}

export async function makeTestPki(serverName = 'crdns.peer.test'): Promise<TestPki> {
  const openssl = requireTool('openssl');
  const dir = await mkdtemp(path.join(tmpdir(), 'crdns-pki-'));
  const f = (n: string) => path.join(dir, n);
  const run = (...args: string[]) => execFileSync(openssl, args, { stdio: 'pipe' });
  run('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', f('ca.key'), '-out', f('ca.crt'), '-days', '2', '-subj', '/CN=crdns test CA');
  for (const [who, cn, ext] of [
    ['server', serverName, `subjectAltName=DNS:${serverName},IP:127.0.0.1\nextendedKeyUsage=serverAuth`],
    ['client', 'coredns-peer', 'extendedKeyUsage=clientAuth'],
  ] as const) {
    await writeFile(f(`${who}.ext`), `${ext}\n`);
    run('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', f(`${who}.key`), '-out', f(`${who}.csr`), '-subj', `/CN=${cn}`);
    run('x509', '-req', '-in', f(`${who}.csr`), '-CA', f('ca.crt'), '-CAkey', f('ca.key'), '-CAcreateserial', '-out', f(`${who}.crt`), '-days', '2', '-extfile', f(`${who}.ext`));
  }
  return { dir, ca: f('ca.crt'), serverCert: f('server.crt'), serverKey: f('server.key'), clientCert: f('client.crt'), clientKey: f('client.key'), serverName };
}
