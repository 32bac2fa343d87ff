/**
 * Capped exponential backoff with jitter, for reconnecting to the API server.
 * Jitter spreads the reconnects of many crdns replicas after an API server
 * restart, so they do not arrive as one wave; the cap keeps a long outage from
 * turning into minutes of blindness once the server is back.
 */

export interface BackoffOptions {
  /** First delay, in ms. */
  initialMs: number;
  /** Upper bound of any delay, in ms. */
  maxMs: number;
  /** Growth per consecutive failure. */
  factor: number;
  /**
   * Share of the delay that is random, 0..1. With 0.5 a nominal 8 s delay
   * becomes 4..8 s: never longer than nominal, never shorter than half of it.
   */
  jitter: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { initialMs: 500, maxMs: 30_000, factor: 2, jitter: 0.5 };

export class Backoff {
  private failures = 0;
  private readonly options: BackoffOptions;

  constructor(options: Partial<BackoffOptions> = {}, private readonly random: () => number = Math.random) {
    this.options = { ...DEFAULT_BACKOFF, ...options };
    const { initialMs, maxMs, factor, jitter } = this.options;
    if (!(initialMs > 0) || !(maxMs >= initialMs) || !(factor >= 1) || !(jitter >= 0 && jitter <= 1)) {
      throw new RangeError(`invalid backoff options ${JSON.stringify(this.options)}`);
    }
  }

  /** Consecutive failures so far. */
  get attempts(): number {
    return this.failures;
  }

  /** Records a failure and returns how long to wait before the next try. */
  next(): number {
    const { initialMs, maxMs, factor, jitter } = this.options;
    // Exponent capped so the multiplication cannot overflow to Infinity.
    const nominal = Math.min(maxMs, initialMs * Math.pow(factor, Math.min(this.failures, 64)));
    this.failures++;
    return Math.round(nominal * (1 - jitter * this.random()));
  }

  reset(): void {
    this.failures = 0;
  }
}
