/**
 * The probe's intent: every write it made to every name, with when it was
 * sent and when the API acknowledged it (or failed). The ledger is the source
 * of truth the grader compares answers with, so it has to be honest about
 * what is uncertain:
 *
 * - a write in flight may already be served (the API applies before it
 *   answers): both the old and the new value are correct until the ack;
 * - a write that failed may still have been applied (a timeout says nothing):
 *   its value stays correct, next to the one before it, until a later write
 *   of the same name is acknowledged and replaces both.
 *
 * The probe never has two writes to one name in flight, so the order writes
 * were sent in is the order they take effect.
 */

/** A version (see records.ts) or null: the name must not exist. */
export type Value = number | null;

export type ChangeOp = 'create' | 'update' | 'delete';

export interface Change {
  /** Order of sending across the whole run. */
  readonly seq: number;
  readonly name: string;
  readonly cluster: string;
  readonly op: ChangeOp;
  readonly value: Value;
  /** ms since the epoch. */
  readonly sentAt: number;
  ackedAt?: number;
  failedAt?: number;
  error?: string;
}

export interface IntentView {
  /** Values a correct answer may hold: those intended at some moment while the query was out. */
  acceptable: ReadonlySet<Value>;
  /** Values the name held before, no longer intended: an answer with one of them is stale. */
  earlier: ReadonlySet<Value>;
  /**
   * The acknowledged create or delete that began the name's present existence
   * (or absence), if any: until a server has shown it, the previous existence
   * state is merely stale; after, it is missing or unexpected.
   */
  existenceChange: Change | undefined;
}

interface History {
  /** Before any write: nothing exists. */
  changes: Change[];
}

export class Ledger {
  private readonly histories = new Map<string, History>();
  private seq = 0;
  private readonly all: Change[] = [];

  constructor(names: Iterable<string>) {
    for (const n of names) this.histories.set(n, { changes: [] });
  }

  private history(name: string): History {
    const h = this.histories.get(name);
    if (!h) throw new Error(`the ledger knows no name ${name}`);
    return h;
  }

  /** A write is about to be sent. */
  begin(name: string, cluster: string, op: ChangeOp, value: Value, at: number): Change {
    const h = this.history(name);
    const last = h.changes.at(-1);
    if (last && last.ackedAt === undefined && last.failedAt === undefined) throw new Error(`a write to ${name} is already in flight`);
    const change: Change = { seq: ++this.seq, name, cluster, op, value, sentAt: at };
    h.changes.push(change);
    this.all.push(change);
    return change;
  }

  ack(change: Change, at: number): void {
    change.ackedAt = at;
  }

  fail(change: Change, at: number, error: string): void {
    change.failedAt = at;
    change.error = error;
  }

  inFlight(name: string): boolean {
    const last = this.history(name).changes.at(-1);
    return last !== undefined && last.ackedAt === undefined && last.failedAt === undefined;
  }

  /** What the probe last asked for (whatever came of it): null before any write. */
  intended(name: string): Value {
    return this.history(name).changes.at(-1)?.value ?? null;
  }

  /** Every write of the run, in the order sent. */
  changes(): readonly Change[] {
    return this.all;
  }

  /** The view for a query sent at `sentAt` whose reply came at `receivedAt`. */
  view(name: string, sentAt: number, receivedAt: number): IntentView {
    const changes = this.history(name).changes;
    const acceptable = new Set<Value>();
    const earlier = new Set<Value>();
    // Walk back from the newest write: each entry is replaced at the ack of the first later acknowledged write.
    let supersededAt = Infinity;
    let existenceChange: Change | undefined;
    for (let i = changes.length - 1; i >= -1; i--) {
      const c = changes[i];
      const value = c ? c.value : null;
      const from = c ? c.sentAt : -Infinity;
      if (from <= receivedAt && supersededAt >= sentAt) acceptable.add(value);
      else if (supersededAt < sentAt) earlier.add(value);
      if (c?.ackedAt !== undefined) {
        if (existenceChange === undefined && c.op !== 'update' && c.ackedAt <= receivedAt) existenceChange = c;
        supersededAt = Math.min(supersededAt, c.ackedAt);
      }
    }
    for (const v of acceptable) earlier.delete(v);
    return { acceptable, earlier, existenceChange };
  }
}
