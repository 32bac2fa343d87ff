/**
 * What a failed API request says about the server, which decides how the
 * watch loop waits before the next attempt:
 *
 * - unreachable: no HTTP answer at all (refused, reset, timed out, no route,
 *   name not resolved). The server is down or cut off; asking it a tiny
 *   question every second costs nothing and finds its return at once.
 * - unavailable: 429, 5xx, or any answer carrying Retry-After. The server is
 *   up but cannot serve (overloaded, starting, etcd away); it gets the full
 *   exponential backoff and at least the Retry-After it asked for.
 * - other: any other answer (401, 403 while RBAC is not bound yet, 404
 *   before the CRD exists, a malformed body). Retrying sooner would not
 *   change it; plain backoff.
 */

import { httpStatusOf } from './errors.js';

export type FailureKind = 'unreachable' | 'unavailable' | 'other';

/** What kube-apiserver sends with its 429s; client-node's Watch does not expose the header, so it is assumed. */
export const DEFAULT_429_RETRY_AFTER_MS = 1_000;

/** A Retry-After longer than this is clipped: a misconfigured proxy must not blind crdns for hours. */
export const MAX_RETRY_AFTER_MS = 5 * 60_000;

/**
 * Error codes of Node's network stack (and of undici and node-fetch, which
 * copy them) that mean the request got no answer from the server.
 */
const UNREACHABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'ENETUNREACH',
  'ENETDOWN',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPIPE',
  'EADDRNOTAVAIL',
  // node-fetch (client-node's Watch) when the connection drops mid-stream, e.g. the API server killed.
  'ERR_STREAM_PREMATURE_CLOSE',
  'ABORT_ERR',
  'ERR_SOCKET_CONNECTION_TIMEOUT',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_SOCKET',
]);

export function failureKind(err: unknown): FailureKind {
  const status = httpStatusOf(err);
  if (status === undefined) return isUnreachable(err) ? 'unreachable' : 'other';
  if (status === 429 || status >= 500 || retryAfterHeaderMs(err) !== undefined) return 'unavailable';
  return 'other';
}

/**
 * The shortest wait the server asked for, in ms: its Retry-After, or 1 s for
 * a 429 without one; 0 when it asked for nothing.
 */
export function retryAfterMs(err: unknown): number {
  const asked = retryAfterHeaderMs(err);
  if (asked !== undefined) return Math.min(asked, MAX_RETRY_AFTER_MS);
  return httpStatusOf(err) === 429 ? DEFAULT_429_RETRY_AFTER_MS : 0;
}

/** An error for a request crdns gave up on itself, classified like the network's own timeouts. */
export function timeoutError(message: string): Error {
  return Object.assign(new Error(message), { code: 'ETIMEDOUT' });
}

function isUnreachable(err: unknown): boolean {
  for (let e = err, depth = 0; e !== null && typeof e === 'object' && depth < 4; depth++) {
    const { code, name, cause } = e as { code?: unknown; name?: unknown; cause?: unknown };
    if (typeof code === 'string' && (UNREACHABLE_CODES.has(code) || code.startsWith('ERR_TLS_') || code.startsWith('ERR_SSL_'))) return true;
    if (name === 'AbortError' || name === 'TimeoutError') return true;
    // undici and fetch put the system error in `cause`.
    e = cause;
  }
  return false;
}

/**
 * Retry-After in ms, from wherever the error carries it: ApiRequestError's
 * retryAfterSeconds, or the headers of client-node's ApiException. Only the
 * delta-seconds form; kube-apiserver never sends an HTTP date.
 */
function retryAfterHeaderMs(err: unknown): number | undefined {
  if (err === null || typeof err !== 'object') return undefined;
  const e = err as { retryAfterSeconds?: unknown; headers?: unknown };
  let value: unknown = e.retryAfterSeconds;
  if (value === undefined && e.headers && typeof e.headers === 'object') {
    const headers = e.headers as Record<string, unknown>;
    value = headers['retry-after'] ?? headers['Retry-After'];
  }
  const seconds = typeof value === 'number' ? value : typeof value === 'string' && /^\s*\d+\s*$/.test(value) ? Number(value) : NaN;
  return Number.isFinite(seconds) && seconds >= 0 ? seconds * 1000 : undefined;
}
