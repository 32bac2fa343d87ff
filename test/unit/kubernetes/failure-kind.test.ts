import assert from 'node:assert/strict';
import { ApiRequestError } from '../../../src/kubernetes/client.js';
import { failureKind, retryAfterMs, timeoutError } from '../../../src/kubernetes/failure-kind.js';

const systemError = (code: string): Error => Object.assign(new Error(`connect ${code} 127.0.0.1:6443`), { code });

describe('failureKind', () => {
  it('calls a request that got no answer unreachable: refused, reset, timeouts, DNS, and the same inside `cause`', () => {
    for (const code of ['ECONNREFUSED', 'ECONNRESET', 'ERR_STREAM_PREMATURE_CLOSE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'UND_ERR_CONNECT_TIMEOUT']) {
      assert.equal(failureKind(systemError(code)), 'unreachable', code);
    }
    assert.equal(failureKind(new TypeError('fetch failed', { cause: systemError('ECONNREFUSED') })), 'unreachable');
    assert.equal(failureKind(Object.assign(new Error('This operation was aborted'), { name: 'AbortError' })), 'unreachable');
    assert.equal(failureKind(timeoutError('list timed out after 60000 ms')), 'unreachable');
  });

  it('calls 429, 5xx and anything with Retry-After unavailable', () => {
    for (const status of [429, 500, 502, 503, 504]) assert.equal(failureKind(new ApiRequestError(status, '')), 'unavailable', String(status));
    assert.equal(failureKind(Object.assign(new Error('Service Unavailable'), { statusCode: 503 })), 'unavailable', "client-node Watch's shape");
    assert.equal(failureKind(new ApiRequestError(409, '', 3)), 'unavailable');
  });

  it('calls every other answer, and errors it cannot place, other', () => {
    for (const status of [400, 401, 403, 404, 422]) assert.equal(failureKind(new ApiRequestError(status, '')), 'other', String(status));
    assert.equal(failureKind(new Error('list returned no resourceVersion')), 'other');
    assert.equal(failureKind(new Error('connect ECONNREFUSED without a code')), 'other', 'classified by code, never by message');
    assert.equal(failureKind(undefined), 'other');
  });
});

describe('retryAfterMs', () => {
  it('reads Retry-After from ApiRequestError and from client-node ApiException headers', () => {
    assert.equal(retryAfterMs(new ApiRequestError(429, '', 3)), 3_000);
    assert.equal(retryAfterMs(Object.assign(new Error('x'), { code: 503, headers: { 'retry-after': '7' } })), 7_000);
  });

  it('assumes 1 s for a 429 without the header, asks nothing otherwise, and clips absurd values', () => {
    assert.equal(retryAfterMs(new ApiRequestError(429, '')), 1_000);
    assert.equal(retryAfterMs(new ApiRequestError(503, '')), 0);
    assert.equal(retryAfterMs(systemError('ECONNREFUSED')), 0);
    assert.equal(retryAfterMs(new ApiRequestError(503, '', 86_400)), 300_000);
    assert.equal(retryAfterMs(Object.assign(new Error('x'), { code: 503, headers: { 'retry-after': 'Wed, 21 Oct 2015 07:28:00 GMT' } })), 0);
  });
});
