/**
 * A throwaway PKI made with the openssl CLI for mutual-TLS tests: a CA, a
 * server certificate for one name and a client certificate, all P-256.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { run } from './coredns.js';
import { requireTool } from './peers.js';

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
