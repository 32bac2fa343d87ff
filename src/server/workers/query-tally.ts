/**
 * A QueryObserver for a serving worker: prom-client's registry lives in the
 * main thread, so a worker counts answers locally and hands the counts over
 * in batches, which costs a Map lookup per query instead of a message.
 */
import type { QueryOutcome } from '../../dns/answer-query.js';
import type { QueryObserver } from '../grpc-server.js';
import type { QueryTally } from './protocol.js';

/** Durations kept between two flushes; beyond it the oldest are not kept, the counts still are. */
const MAX_DURATIONS = 65_536;

type Count = QueryTally['counts'][number];

export class QueryTallier implements QueryObserver {
  /** Zone → (qtype × 4096 + rcode) → count: no key is built per query (zone names are the snapshot's own strings). */
  private counts = new Map<string | undefined, Map<number, Count>>();
  private durations = new Float64Array(1024);
  private used = 0;
  private unavailableCount = 0;

  answered(outcome: QueryOutcome, seconds: number): void {
    let byCode = this.counts.get(outcome.zone);
    if (!byCode) this.counts.set(outcome.zone, (byCode = new Map()));
    // Extended rcodes reach 4095 (12 bits).
    const key = outcome.qtype * 4096 + outcome.rcode;
    const c = byCode.get(key);
    if (c) c.n++;
    else byCode.set(key, { zone: outcome.zone, qtype: outcome.qtype, rcode: outcome.rcode, n: 1 });
    if (this.used === this.durations.length && this.used < MAX_DURATIONS) {
      const grown = new Float64Array(this.used * 2);
      grown.set(this.durations);
      this.durations = grown;
    }
    if (this.used < this.durations.length) this.durations[this.used++] = seconds;
  }

  unavailable(): void {
    this.unavailableCount++;
  }

  /** What was counted since the last call, or undefined if nothing was. */
  take(): QueryTally | undefined {
    if (this.counts.size === 0 && this.unavailableCount === 0) return undefined;
    const counts: Count[] = [];
    for (const byCode of this.counts.values()) counts.push(...byCode.values());
    const tally: QueryTally = { counts, durations: this.durations.slice(0, this.used), unavailable: this.unavailableCount };
    this.counts = new Map();
    this.used = 0;
    this.unavailableCount = 0;
    return tally;
  }
}
