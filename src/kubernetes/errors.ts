/** What went wrong in a call to the Kubernetes API, in a form fit for one log line or a metric. */

/**
 * A short, single-line description of anything thrown by client-node or the
 * network stack. ApiException's own message embeds the whole response body
 * and headers, which is too much for a log line.
 */
export function describeError(err: unknown): string {
  if (err === null || err === undefined) return 'no error';
  if (typeof err !== 'object') return String(err);
  const e = err as { code?: unknown; statusCode?: unknown; body?: unknown; message?: unknown; name?: unknown };
  const status = typeof e.statusCode === 'number' ? e.statusCode : typeof e.code === 'number' ? e.code : undefined;
  if (status !== undefined) {
    const body = parseBody(e.body);
    const detail = body?.message ?? (typeof e.message === 'string' ? e.message.split('\n')[0] : '');
    return `HTTP ${status}${detail ? `: ${detail}` : ''}`;
  }
  const code = typeof e.code === 'string' ? `${e.code}: ` : '';
  const message = typeof e.message === 'string' ? e.message : JSON.stringify(err);
  return `${code}${message}`.split('\n')[0];
}

/** The HTTP status of a client-node error (ApiException.code, Watch's statusCode), if any. */
export function httpStatusOf(err: unknown): number | undefined {
  if (err === null || typeof err !== 'object') return undefined;
  const e = err as { code?: unknown; statusCode?: unknown };
  if (typeof e.statusCode === 'number') return e.statusCode;
  if (typeof e.code === 'number') return e.code;
  return undefined;
}

function parseBody(body: unknown): { message?: string } | undefined {
  if (typeof body === 'string') {
    try {
      return parseBody(JSON.parse(body));
    } catch {
      return { message: body.slice(0, 200) };
    }
  }
  if (body && typeof body === 'object' && typeof (body as { message?: unknown }).message === 'string') {
    return { message: (body as { message: string }).message };
  }
  return undefined;
}
