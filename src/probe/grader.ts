/**
 * Grades one reply against intent. Every query gets exactly one grade:
 *
 * - match: the answer is a value intended while the query was out (NXDOMAIN
 *   or NODATA when the name must not exist);
 * - stale: a value the name held earlier, or its earlier existence state
 *   (NXDOMAIN for a name just created, the address of a name just deleted),
 *   as long as this server has not yet shown the change that ended it;
 * - wrong: an address nobody intended for this name;
 * - missing: NXDOMAIN or NODATA for a name that exists, after the server had
 *   shown it existing;
 * - unexpected: an address for a name that must not exist (never created, or
 *   deleted and the deletion already shown);
 * - servfail: rcode SERVFAIL;
 * - timeout: no reply within the timeout;
 * - error: no usable reply for another reason (connection refused, gRPC
 *   UNAVAILABLE, REFUSED or another rcode, a reply that does not decode).
 */
import type { IntentView, Value } from './ledger.js';
import { versionOf } from './records.js';
import type { Reply } from './transport.js';

export const GRADES = ['match', 'stale', 'wrong', 'missing', 'unexpected', 'servfail', 'timeout', 'error'] as const;
export type Grade = (typeof GRADES)[number];

export interface Graded {
  grade: Grade;
  /**
   * What the answer said, for propagation: a version, null for "does not
   * exist", undefined when the reply says nothing about the data (timeout,
   * SERVFAIL, an address no probe writes, several addresses).
   */
  observed: Value | undefined;
}

const NOERROR = 0;
const SERVFAIL = 2;
const NXDOMAIN = 3;

/**
 * `existenceShown`: this server has already answered in line with
 * view.existenceChange (the name's present existence or absence). The caller
 * knows, from the answers it saw; the ledger only knows the writes.
 */
export function grade(reply: Reply, view: IntentView, existenceShown: boolean): Graded {
  if (reply.kind === 'timeout') return { grade: 'timeout', observed: undefined };
  if (reply.kind === 'error') return { grade: 'error', observed: undefined };
  if (reply.rcode === SERVFAIL) return { grade: 'servfail', observed: undefined };
  if (reply.rcode !== NOERROR && reply.rcode !== NXDOMAIN) return { grade: 'error', observed: undefined };
  const { acceptable, earlier } = view;
  const mustNotExist = acceptable.size === 1 && acceptable.has(null);
  if (reply.rcode === NXDOMAIN || reply.addresses.length === 0) {
    if (acceptable.has(null)) return { grade: 'match', observed: null };
    return { grade: earlier.has(null) && !existenceShown ? 'stale' : 'missing', observed: null };
  }
  const version = reply.addresses.length === 1 ? versionOf(reply.addresses[0] as string) : undefined;
  if (version !== undefined && acceptable.has(version)) return { grade: 'match', observed: version };
  if (version !== undefined && earlier.has(version)) {
    return { grade: mustNotExist && existenceShown ? 'unexpected' : 'stale', observed: version };
  }
  return { grade: mustNotExist ? 'unexpected' : 'wrong', observed: version };
}
