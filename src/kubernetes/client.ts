/**
 * Credentials and raw requests to a Kubernetes API server. Everything that
 * talks to an API server goes through here or through client-node's generated
 * clients configured by requestOptions(); the rest of crdns works against the
 * small interfaces in list-watch.ts and feedback/status-api.ts, which unit
 * tests fake.
 */

import http from 'node:http';
import https from 'node:https';
import { KubeConfig, setHeaderMiddleware, type ConfigurationOptions } from '@kubernetes/client-node';

/**
 * Loads credentials: an explicit kubeconfig file, else client-node's default
 * rules ($KUBECONFIG, ~/.kube/config, then the in-cluster service account,
 * whose token file it re-reads so projected-token rotation keeps working).
 */
export function loadKubeConfig(path?: string): KubeConfig {
  const kc = new KubeConfig();
  if (path) kc.loadFromFile(path);
  else kc.loadFromDefault();
  const cluster = kc.getCurrentCluster();
  // loadFromDefault's last resort is http://localhost:8080 with no user, an
  // insecure port no API server has had since 1.20: say what is missing instead.
  if (!cluster?.server || (!path && cluster.name === 'cluster' && cluster.server === 'http://localhost:8080')) {
    throw new Error(
      path
        ? `kubeconfig ${path} names no current cluster`
        : 'no Kubernetes credentials: pass --kubeconfig, set $KUBECONFIG, create ~/.kube/config, or run in a pod with a service account',
    );
  }
  return kc;
}

/**
 * Per-request options for the generated API clients: an abort signal (1.4.0's
 * calls otherwise have no timeout at all) and optionally a Content-Type. The
 * signal is set from inside a header middleware because client-node exports no
 * other way to build a middleware for its Observable-based pipeline.
 */
export function requestOptions(signal: AbortSignal, contentType?: string): ConfigurationOptions {
  const base = setHeaderMiddleware(contentType ? 'Content-Type' : 'Accept', contentType ?? 'application/json');
  return {
    middleware: [
      {
        pre: (context) => {
          context.setSignal(signal);
          return base.pre(context);
        },
        post: (response) => base.post(response),
      },
    ],
    middlewareMergeStrategy: 'append',
  };
}

/** A failed API request, shaped like client-node's errors so errors.ts reads both. */
export class ApiRequestError extends Error {
  constructor(
    readonly statusCode: number,
    readonly body: string,
    /** The response's Retry-After in seconds, when it had one (429s and some 503s do). */
    readonly retryAfterSeconds?: number,
  ) {
    super(`HTTP ${statusCode}`);
  }
}

function retryAfterSecondsOf(res: http.IncomingMessage): number | undefined {
  const value = res.headers['retry-after'];
  return typeof value === 'string' && /^\s*\d+\s*$/.test(value) ? Number(value) : undefined;
}

/**
 * GET of any API path, decoded as JSON. The generated clients have one method
 * per kind; a plain GET serves every kind (core and grouped) the same way, so
 * a new source needs no new request code.
 */
export function getJson(kc: KubeConfig, path: string, query: Record<string, string | number | boolean | undefined>, signal: AbortSignal): Promise<unknown> {
  return requestJson(kc, 'GET', path, query, undefined, signal);
}

/**
 * A write (POST, PUT, PATCH, DELETE) of JSON to any API path, the answer
 * decoded as JSON: for clients that own objects (`crdns probe`), which, like
 * getJson's readers, need no generated client per kind.
 */
export function sendJson(
  kc: KubeConfig,
  method: 'POST' | 'PUT' | 'PATCH' | 'DELETE',
  path: string,
  body: unknown,
  signal: AbortSignal,
  contentType = 'application/json',
): Promise<unknown> {
  return requestJson(kc, method, path, {}, body === undefined ? undefined : { body, contentType }, signal);
}

/** One request with the kubeconfig's credentials; a non-2xx answer rejects with ApiRequestError, an empty body is undefined. */
async function requestJson(
  kc: KubeConfig,
  method: string,
  path: string,
  query: Record<string, string | number | boolean | undefined>,
  send: { body: unknown; contentType: string } | undefined,
  signal: AbortSignal,
): Promise<unknown> {
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new Error('kubeconfig has no current cluster');
  const url = new URL(cluster.server + path);
  for (const [k, v] of Object.entries(query)) if (v !== undefined) url.searchParams.set(k, String(v));
  const payload = send ? Buffer.from(JSON.stringify(send.body)) : undefined;
  const headers: Record<string, string | number> = { Accept: 'application/json' };
  if (send && payload) Object.assign(headers, { 'Content-Type': send.contentType, 'Content-Length': payload.length });
  const opts: https.RequestOptions = { method, headers };
  await kc.applyToHTTPSOptions(opts);
  const transport = url.protocol === 'http:' ? http : https;
  if (url.protocol === 'http:') delete opts.agent;
  return new Promise((resolve, reject) => {
    const req = transport.request(url, { ...opts, signal }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        const status = res.statusCode ?? 0;
        if (status < 200 || status > 299) return reject(new ApiRequestError(status, text, retryAfterSecondsOf(res)));
        try {
          resolve(text === '' ? undefined : JSON.parse(text));
        } catch (err) {
          reject(new Error(`${method} ${path}: response is not JSON: ${(err as Error).message}`));
        }
      });
    });
    req.on('error', reject);
    req.end(payload);
  });
}

/**
 * The HTTP status of a GET, body discarded: for health endpoints such as
 * /readyz, which answer plain text. Rejects only when no answer came (refused,
 * reset, timed out, aborted); every status, 5xx included, resolves.
 */
export async function getStatus(kc: KubeConfig, path: string, signal: AbortSignal): Promise<number> {
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new Error('kubeconfig has no current cluster');
  const url = new URL(cluster.server + path);
  const opts: https.RequestOptions = { method: 'GET', headers: { Accept: 'text/plain' } };
  await kc.applyToHTTPSOptions(opts);
  const transport = url.protocol === 'http:' ? http : https;
  if (url.protocol === 'http:') delete opts.agent;
  return new Promise((resolve, reject) => {
    const req = transport.request(url, { ...opts, signal }, (res) => {
      res.on('error', reject);
      res.on('end', () => resolve(res.statusCode ?? 0));
      res.resume();
    });
    req.on('error', reject);
    req.end();
  });
}
