/**
 * Polling with a deadline, for tests that wait on another process or an
 * asynchronous loop instead of sleeping a fixed time. One loop, two spellings:
 * `eventually` waits for a condition, `pollUntil` for a value that passes.
 */
import assert from 'node:assert/strict';

/** Polls `check` until it holds; fails naming `what` and `describe()` at the deadline. Errors thrown by `check` count as "not yet". */
export async function eventually(
  what: string,
  check: () => boolean | Promise<boolean>,
  describe: () => string = () => '',
  timeoutMs = 60_000,
  intervalMs = 2,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastErr: unknown;
  for (;;) {
    try {
      if (await check()) return;
    } catch (err) {
      lastErr = err;
    }
    if (Date.now() > deadline) {
      const state = describe();
      assert.fail(`timed out after ${timeoutMs} ms waiting for ${what}${state ? `; ${state}` : ''}${lastErr ? `; last error ${(lastErr as Error).message}` : ''}`);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** Calls `fn` until `ok` accepts its value, and returns that value. */
export async function pollUntil<T>(fn: () => Promise<T>, ok: (v: T) => boolean, what: string, timeoutMs = 20_000, intervalMs = 100): Promise<T> {
  let last: T | undefined;
  let have = false;
  await eventually(
    what,
    async () => {
      last = await fn();
      have = true;
      return ok(last);
    },
    () => `last value ${JSON.stringify(last)}`,
    timeoutMs,
    intervalMs,
  );
  if (!have) throw new Error(`${what}: no value`);
  return last as T;
}
