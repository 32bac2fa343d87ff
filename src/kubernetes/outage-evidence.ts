/**
 * What the watch loop has seen of the API server since its last success, and
 * therefore how the reachability probe may shorten the wait after a failure.
 *
 * - A failure without an answer means the server was away. Until it is back,
 *   whatever it answers next (a 503 or a 403 while it starts) may be waited
 *   out only until /readyz says ready, not for the backoff grown meanwhile.
 * - A 5xx or 429 from a server that was not away may still be an outage
 *   behind it (etcd): the probe may end the wait, but only once it has seen
 *   the server not ready and then ready by itself.
 * - Any other answer (401, 403, 404) from a server that was not away is not
 *   helped by retrying sooner: no probe.
 * - Each return the probe sees earns one early attempt. If that attempt fails
 *   too, the probe and the requests disagree (an overloaded server, a proxy
 *   that passes /readyz but breaks watches): until a request succeeds,
 *   failures prove nothing, and only what the probe sees by itself counts.
 *   Otherwise wake and failure would alternate, the backoff reset each time,
 *   and the loop would never slow down.
 */

import type { FailureKind } from './failure-kind.js';
import type { BackWhen } from './reachability.js';

/** How a wait may end early: the probe's starting knowledge and what counts as back. */
export interface ProbePlan {
  seenDown: boolean;
  backWhen: BackWhen;
}

export class OutageEvidence {
  private awaySeen = false;
  private woken = false;
  private distrusted = false;

  /** A list or watch failed; returns how the wait after it may end early, or undefined: not at all. */
  failed(kind: FailureKind): ProbePlan | undefined {
    if (this.woken) this.distrusted = true;
    this.woken = false;
    if (kind === 'unreachable' && !this.distrusted) this.awaySeen = true;
    if (kind === 'other' && !this.awaySeen) return undefined;
    return { seenDown: this.awaySeen, backWhen: kind === 'unreachable' ? 'answers' : 'ready' };
  }

  /** The probe ended the wait: the next attempt is on its word. */
  wokenEarly(): void {
    this.woken = true;
    this.awaySeen = false;
  }

  /** A list or a healthy watch succeeded: start from nothing. */
  succeeded(): void {
    this.awaySeen = false;
    this.woken = false;
    this.distrusted = false;
  }
}
