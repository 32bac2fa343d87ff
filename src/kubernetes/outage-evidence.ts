/**
 * What the watch loop has seen of the API server since its last success, and
 * therefore how long the wait after a failure may be:
 *
 * - A failure without an answer means the server is away. The wait may end
 *   at the probe's first sign of an answer.
 * - The first answer after that, of any kind (a 503 or 403 from a server
 *   still starting, as much as a success), is the server's return, whether
 *   the probe or a request saw it first: the backoff grown during the outage
 *   starts over. Measured on kube-apiserver 1.36, a restarted server serves
 *   lists and accepts writes a second or so before /readyz says 200, so
 *   waiting for that would be late.
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

export interface Verdict {
  /** How the probe may end the wait, or undefined: only the backoff ends it. */
  plan: ProbePlan | undefined;
  /** This failure was the first answer after an outage: start the backoff over. */
  returned: boolean;
}

export class OutageEvidence {
  private awaySeen = false;
  private woken = false;
  private distrusted = false;

  /** A list or watch failed. */
  failed(kind: FailureKind): Verdict {
    if (this.woken) this.distrusted = true;
    this.woken = false;
    if (kind === 'unreachable') {
      if (!this.distrusted) this.awaySeen = true;
      return { plan: { seenDown: this.awaySeen, backWhen: 'answers' }, returned: false };
    }
    const returned = this.awaySeen;
    this.awaySeen = false;
    return { plan: kind === 'unavailable' ? { seenDown: false, backWhen: 'ready' } : undefined, returned };
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
