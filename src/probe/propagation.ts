/**
 * Propagation, per server: for every acknowledged create, update and delete,
 * the time from the API's acknowledgement to the first query, sent after the
 * write was, whose answer showed it. A probe samples each name once per
 * query interval, so the true moment lies between the last query that did
 * not show the change (or the ack, if later) and the one that did: that
 * span is the error bound, reported next to each figure.
 */
import type { Change, Value } from './ledger.js';

export type PropagationOutcome = 'seen' | 'superseded' | 'unseen';

export interface Propagation {
  change: Change;
  outcome: PropagationOutcome;
  /** seen: ack → send of the first query that showed it (0 if that query was sent before the ack). */
  seconds?: number;
  /** seen: how much earlier it may have happened: the truth is in [seconds - boundSeconds, seconds]. */
  boundSeconds?: number;
  /** seen: when that query was sent (ms since the epoch). */
  shownAt?: number;
}

interface Pending {
  change: Change;
  /** The latest query, sent after the ack, whose answer did not show the change yet. */
  lastMissSentAt: number | undefined;
}

export class PropagationTracker {
  private readonly pending = new Map<string, Pending>();
  readonly results: Propagation[] = [];

  /** A write was acknowledged; an earlier one to the same name not yet shown never will be on its own. */
  acked(change: Change): void {
    const before = this.pending.get(change.name);
    if (before) this.results.push({ change: before.change, outcome: 'superseded' });
    this.pending.set(change.name, { change, lastMissSentAt: undefined });
  }

  /** An answer about the data (observed defined) to a query for `name` sent at `sentAt`. */
  observe(name: string, sentAt: number, observed: Value | undefined): Propagation | undefined {
    const p = this.pending.get(name);
    if (!p || sentAt < p.change.sentAt) return undefined;
    const ackedAt = p.change.ackedAt as number;
    if (observed === undefined || observed !== p.change.value) {
      if (sentAt >= ackedAt) p.lastMissSentAt = Math.max(p.lastMissSentAt ?? sentAt, sentAt);
      return undefined;
    }
    this.pending.delete(name);
    const seconds = Math.max(0, sentAt - ackedAt) / 1000;
    const lower = Math.max(ackedAt, p.lastMissSentAt ?? ackedAt);
    const result: Propagation = { change: p.change, outcome: 'seen', seconds, boundSeconds: Math.max(0, sentAt - lower) / 1000, shownAt: sentAt };
    this.results.push(result);
    return result;
  }

  /** The changes still waiting, as unseen results (the run ended first). */
  finish(): void {
    for (const p of this.pending.values()) this.results.push({ change: p.change, outcome: 'unseen' });
    this.pending.clear();
  }

  pendingCount(): number {
    return this.pending.size;
  }
}
