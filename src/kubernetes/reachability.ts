/**
 * Is the API server back? A cheap question the watch loop asks at a short,
 * fixed, jittered interval while it waits after a failure, so that it
 * retries within about a second of the server's return instead of at the end
 * of a backoff that grew to its cap during a long outage. What the question
 * is (GET /readyz) is readiness-probe.ts's business; this file only decides
 * when an answer ends a wait.
 */

import { setTimeout as delay } from 'node:timers/promises';

/** down: no answer; unready: answered, but not ready (5xx, 429, a 403 while starting); up: answered ready (2xx). */
export type Reachability = 'down' | 'unready' | 'up';

export type Probe = (signal: AbortSignal) => Promise<Reachability>;

export interface ProbeOptions {
  /** Pause between probes, in ms. */
  intervalMs: number;
  /** Share of the interval that is random, either way: 0.25 turns 1 s into 0.75..1.25 s, so replicas drift apart. */
  jitter: number;
  /** A probe unanswered after this long counts as down. */
  timeoutMs: number;
}

export const DEFAULT_PROBE: ProbeOptions = { intervalMs: 1_000, jitter: 0.25, timeoutMs: 2_000 };

/**
 * When the server counts as back: `answers` after a failure without an
 * answer (any HTTP status from /readyz proves the process is there again,
 * and the next request will say itself what it still lacks); `ready` after
 * a 5xx or 429, whose server was answering all along and is only back once
 * it says it can serve.
 */
export type BackWhen = 'answers' | 'ready';

const isBack = (state: Reachability, when: BackWhen): boolean => (when === 'ready' ? state === 'up' : state !== 'down');

/**
 * Probes until the server is seen coming back, and resolves true at the
 * first sign of it that follows a sign of it being away (`seenDown`: the
 * caller has seen it away already). Resolves false when the signal aborts,
 * or when the server looks back before anything was seen away: then the
 * failure being waited out was not an outage (an overloaded or misbehaving
 * server), and only the caller's backoff may end the wait, so the probe
 * cannot drive a tight loop.
 */
export async function serverReturned(
  probe: Probe,
  { seenDown, backWhen }: { seenDown: boolean; backWhen: BackWhen },
  options: ProbeOptions,
  random: () => number,
  signal: AbortSignal,
): Promise<boolean> {
  let down = seenDown;
  while (!signal.aborted) {
    if (!(await pause(jittered(options, random), signal))) return false;
    const state = await probeOnce(probe, options.timeoutMs, signal);
    if (signal.aborted) return false;
    if (isBack(state, backWhen)) return down;
    down = true;
  }
  return false;
}

function jittered({ intervalMs, jitter }: ProbeOptions, random: () => number): number {
  return Math.max(1, Math.round(intervalMs * (1 + jitter * (2 * random() - 1))));
}

/** Resolves false if aborted first. */
async function pause(ms: number, signal: AbortSignal): Promise<boolean> {
  try {
    await delay(ms, undefined, { signal });
    return true;
  } catch {
    return false;
  }
}

async function probeOnce(probe: Probe, timeoutMs: number, signal: AbortSignal): Promise<Reachability> {
  const timeout = AbortSignal.timeout(timeoutMs);
  const both = AbortSignal.any([signal, timeout]);
  try {
    return await Promise.race([
      probe(both),
      // Also give up on a probe that ignores its signal.
      new Promise<Reachability>((resolve) => both.addEventListener('abort', () => resolve('down'), { once: true })),
    ]);
  } catch {
    return 'down';
  }
}
