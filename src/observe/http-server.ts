/**
 * The operator's HTTP port: /metrics for Prometheus, /healthz for liveness
 * (the process answers), /readyz for readiness (a snapshot is loaded and
 * queries are being answered).
 */
import http from 'node:http';
import type { Registry } from 'prom-client';

export interface ReadinessReport {
  ready: boolean;
  /** Free-form details for humans, e.g. source state and snapshot age. */
  details: Record<string, unknown>;
}

export interface HttpServerOptions {
  listen: string;
  registry: Registry;
  readiness: () => ReadinessReport;
}

export async function startHttpServer(opts: HttpServerOptions): Promise<{ address: string; close: () => Promise<void> }> {
  const server = http.createServer((req, res) => {
    const url = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405).end();
      return;
    }
    if (url === '/metrics') {
      opts.registry.metrics().then(
        (text) => res.writeHead(200, { 'content-type': opts.registry.contentType }).end(text),
        (err: Error) => res.writeHead(500).end(err.message),
      );
    } else if (url === '/healthz') {
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
    } else if (url === '/readyz') {
      const r = opts.readiness();
      res.writeHead(r.ready ? 200 : 503, { 'content-type': 'application/json' }).end(`${JSON.stringify({ ready: r.ready, ...r.details })}\n`);
    } else {
      res.writeHead(404).end();
    }
  });
  const { host, port } = splitHostPort(opts.listen);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    // Without a host Node binds "::" dual-stack (ipv6Only false), or 0.0.0.0 on a host without IPv6:
    // the chart renders --http=:PORT, and the kubelet probes over IPv6 in an IPv6-only cluster.
    server.listen({ port, ...(host !== undefined ? { host } : {}), ipv6Only: false }, () => resolve());
  });
  const addr = server.address();
  const address = typeof addr === 'object' && addr ? `${addr.family === 'IPv6' ? `[${addr.address}]` : addr.address}:${addr.port}` : opts.listen;
  return { address, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

/** host:port or [v6]:port; an empty host ("":PORT) comes back undefined, meaning every address family. */
export function splitHostPort(addr: string): { host: string | undefined; port: number } {
  const m = /^\[?([^\]]*?)\]?:(\d+)$/.exec(addr);
  if (!m) throw new Error(`"${addr}" is not host:port`);
  return { host: m[1] === '' ? undefined : (m[1] as string), port: Number(m[2]) };
}
