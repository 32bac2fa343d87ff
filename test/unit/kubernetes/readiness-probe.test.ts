/**
 * The /readyz probe against a local HTTP server standing in for the API
 * server, through the same credentials path (KubeConfig) as production.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';
import { probeReadiness } from '../../../src/kubernetes/readiness-probe.js';

function kubeConfigFor(server: string): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    // client-node refuses plain http unless TLS verification is off.
    clusters: [{ name: 'c', server, skipTLSVerify: true }],
    users: [{ name: 'u', token: 'secret-token' }],
    contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
    currentContext: 'x',
  });
  return kc;
}

describe('probeReadiness', () => {
  let server: Server;
  let base = '';
  let status = 200;
  let hang = false;
  const seen: Array<{ url: string | undefined; auth: string | undefined }> = [];

  before(async () => {
    server = createServer((req, res) => {
      seen.push({ url: req.url, auth: req.headers.authorization });
      if (hang) return;
      res.writeHead(status, { 'content-type': 'text/plain' }).end(status === 200 ? 'ok' : '[-]etcd failed: reason withheld\nreadyz check failed');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  after(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('asks GET /readyz with the credentials of the kubeconfig and calls 200 up', async () => {
    status = 200;
    assert.equal(await probeReadiness(kubeConfigFor(base), AbortSignal.timeout(2_000)), 'up');
    assert.deepEqual(seen.at(-1), { url: '/readyz', auth: 'Bearer secret-token' });
  });

  it('calls 500 (etcd away, starting) and 403 (RBAC not loaded yet) unready', async () => {
    for (const s of [500, 503, 403, 401]) {
      status = s;
      assert.equal(await probeReadiness(kubeConfigFor(base), AbortSignal.timeout(2_000)), 'unready', String(s));
    }
  });

  it('calls no answer down: refused, or aborted while the server is silent', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    assert.equal(await probeReadiness(kubeConfigFor(`http://127.0.0.1:${port}`), AbortSignal.timeout(2_000)), 'down');

    hang = true;
    const started = Date.now();
    assert.equal(await probeReadiness(kubeConfigFor(base), AbortSignal.timeout(100)), 'down');
    assert.ok(Date.now() - started < 1_000);
    hang = false;
  });
});
