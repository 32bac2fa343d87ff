/**
 * A whole DNSEndpoint → the RRsets it defines and the problems of the
 * endpoints that were left out. Each endpoint stands or falls alone, so one
 * typo does not take its siblings' records down with it.
 */
import type { RRsetInput, RRsetOrigin } from '../dns/zone-input.js';
import type { EndpointObject, EndpointProblem } from './endpoint.js';
import { endpointShape } from './endpoint-shape.js';
import { jsonEqual } from './json-equal.js';
import { isEndpointProblem, validateEndpoint, type OwnerRank, type ValidationContext } from './validate-endpoint.js';

export type { ValidationContext } from './validate-endpoint.js';

/** One result per endpoint, by index: its RRset, or why it was left out. */
export type EndpointResult = RRsetInput | EndpointProblem;

/** An earlier validation of the same object, whose results are reused for entries that did not change. */
export interface PriorValidation {
  endpoints: readonly unknown[];
  results: readonly EndpointResult[];
  /** The rank they were validated with; a result of another rank (or owner) is not reused. */
  rank: OwnerRank;
}

/**
 * `since`: when the object came to exist (ms), its rank when it disagrees
 * with another; see RRsetOrigin. With `prior`, an entry equal to the one at
 * the same index there keeps that result: an update of one entry of a large
 * object validates that entry, not all of them (validation is a function of
 * the entry, its index, the object's key and rank, and the context).
 */
export function validateObject(
  obj: EndpointObject,
  ctx: ValidationContext,
  since = 0,
  prior?: PriorValidation,
): { rrsets: RRsetInput[]; problems: EndpointProblem[]; results: EndpointResult[]; rank: OwnerRank } {
  const { cluster, namespace, name, locality } = obj.origin;
  const rank: OwnerRank = cluster === undefined ? { since } : { since, owner: `${cluster}\u0000${namespace}/${name}`, locality: locality ?? 0 };
  const origin: RRsetOrigin = { object: obj.key, ...rank };
  const rrsets: RRsetInput[] = [];
  const problems: EndpointProblem[] = [];
  const results: EndpointResult[] = [];
  // The name policy's verdict depends on the namespace and cluster, both in the owner.
  const reuse = prior !== undefined && prior.rank.since === rank.since && prior.rank.owner === rank.owner && prior.rank.locality === rank.locality ? prior : undefined;
  for (let i = 0; i < obj.endpoints.length; i++) {
    let r = reuse ? reusable(reuse, i, obj) : undefined;
    if (r === undefined) {
      r = validateRawEndpoint(obj.endpoints[i], obj.key, i, ctx, origin);
      const denied = ctx.policy && !isEndpointProblem(r) ? ctx.policy.check(r.name, obj.origin.namespace, obj.origin.cluster) : undefined;
      if (denied !== undefined) r = { object: obj.key, index: i, field: 'dnsName', reason: denied };
    }
    results.push(r);
    if (isEndpointProblem(r)) problems.push(r);
    else rrsets.push(r);
  }
  return { rrsets, problems, results, rank };
}

function reusable(prior: PriorValidation, i: number, obj: EndpointObject): EndpointResult | undefined {
  const before = prior.results[i];
  if (before === undefined || !jsonEqual(prior.endpoints[i], obj.endpoints[i])) return undefined;
  return (isEndpointProblem(before) ? before.object : before.origin.object) === obj.key ? before : undefined;
}

/** One entry as a source read it: its shape, then its meaning. */
export function validateRawEndpoint(raw: unknown, objectKey: string, index: number, ctx: ValidationContext, origin: RRsetOrigin = { object: objectKey, since: 0 }): RRsetInput | EndpointProblem {
  const ep = endpointShape(raw, objectKey, index);
  return isEndpointProblem(ep) ? ep : validateEndpoint(ep, objectKey, index, ctx, origin);
}
