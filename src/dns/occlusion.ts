/**
 * Data nobody would ever be answered: below a DNAME (RFC 6672 §2.3: every name under it is
 * redirected), or below or at a delegation other than the NS set and glue addresses (RFC 1034
 * §4.2.1: it belongs to the child zone). Rejected with a reason instead of accepted and never served.
 *
 * Whether a name is hidden depends on its own types and on which of its
 * ancestors hold NS or DNAME (`cuts`, `dnames`: the zone's names whose merged
 * data has them), so a change that adds or removes no NS or DNAME never
 * changes what is hidden elsewhere.
 */
import { fqdn, parentName } from './name.js';
import type { ServedType } from './records.js';
import type { PendingSet } from './name-merge.js';
import type { RRsetRejection } from './zone-input.js';

/** Types that may stand at or below a zone cut: the NS set itself and the addresses used as glue. */
const AT_CUT: ReadonlySet<ServedType> = new Set(['NS', 'A', 'AAAA']);

/** Removes from `types` what `name`'s ancestors (or its own delegation) hide, rejecting each origin of it. */
export function dropOccluded(name: string, types: Map<ServedType, PendingSet>, cuts: ReadonlySet<string>, dnames: ReadonlySet<string>, reject: (r: RRsetRejection) => void): void {
  if (cuts.size === 0 && dnames.size === 0) return;
  let hiddenBy: { owner: string; kind: 'DNAME' | 'NS' } | undefined;
  // Walking up, the last hit is the one nearest the apex: the one a lookup meets first.
  for (let a = parentName(name); a !== undefined; a = parentName(a)) {
    if (dnames.has(a)) hiddenBy = { owner: a, kind: 'DNAME' };
    else if (cuts.has(a)) hiddenBy = { owner: a, kind: 'NS' };
  }
  if (!hiddenBy && cuts.has(name)) hiddenBy = { owner: name, kind: 'NS' };
  if (!hiddenBy) return;
  for (const [type, set] of types) {
    if (hiddenBy.kind === 'NS' && AT_CUT.has(type)) continue;
    const reason =
      hiddenBy.kind === 'DNAME'
        ? `${fqdn(name)} is below the DNAME at ${fqdn(hiddenBy.owner)}, which redirects every name under it; this ${type} would never be answered`
        : `${fqdn(name)} is at or below the delegation at ${fqdn(hiddenBy.owner)}, where only the NS set and glue addresses are served; this ${type} would never be answered`;
    for (const input of set.inputs) reject({ input, field: 'dnsName', reason });
    types.delete(type);
  }
}
