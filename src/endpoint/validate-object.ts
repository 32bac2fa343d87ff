/**
 * A whole DNSEndpoint → the RRsets it defines and the problems of the
 * endpoints that were left out. Each endpoint stands or falls alone, so one
 * typo does not take its siblings' records down with it.
 */
import type { RRsetInput } from '../dns/zone-input.js';
import type { EndpointObject, EndpointProblem } from './endpoint.js';
import { endpointShape } from './endpoint-shape.js';
import { isEndpointProblem, validateEndpoint, type OwnerRank, type ValidationContext } from './validate-endpoint.js';

export type { ValidationContext } from './validate-endpoint.js';

/** `since`: when the object came to exist (ms), its rank when it disagrees with another; see RRsetOrigin. */
export function validateObject(obj: EndpointObject, ctx: ValidationContext, since = 0): { rrsets: RRsetInput[]; problems: EndpointProblem[] } {
  const { cluster, namespace, name, locality } = obj.origin;
  const rank: OwnerRank = cluster === undefined ? { since } : { since, owner: `${cluster}\u0000${namespace}/${name}`, locality: locality ?? 0 };
  const rrsets: RRsetInput[] = [];
  const problems: EndpointProblem[] = [];
  for (let i = 0; i < obj.endpoints.length; i++) {
    let r = validateRawEndpoint(obj.endpoints[i], obj.key, i, ctx, rank);
    const denied = ctx.policy && !isEndpointProblem(r) ? ctx.policy.check(r.name, obj.origin.namespace, obj.origin.cluster) : undefined;
    if (denied !== undefined) r = { object: obj.key, index: i, field: 'dnsName', reason: denied };
    if (isEndpointProblem(r)) problems.push(r);
    else rrsets.push(r);
  }
  return { rrsets, problems };
}

/** One entry as a source read it: its shape, then its meaning. */
export function validateRawEndpoint(raw: unknown, objectKey: string, index: number, ctx: ValidationContext, rank: OwnerRank = { since: 0 }): RRsetInput | EndpointProblem {
  const ep = endpointShape(raw, objectKey, index);
  return isEndpointProblem(ep) ? ep : validateEndpoint(ep, objectKey, index, ctx, rank);
}
