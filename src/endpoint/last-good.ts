/**
 * "A bad edit never deletes the record it edits": when an update makes a
 * valid endpoint invalid, the endpoint's previous RRset keeps serving, and the
 * problem says so, until the entry is fixed or removed. This is what an API
 * server with validation would have done (refused the update, kept the old
 * object), applied per endpoint so the object's other edits still land.
 *
 * Endpoints are matched across versions by their identity, as ExternalDNS
 * matches them: name, type and set identifier. An entry whose identity is gone
 * from the new version was removed, and its record goes with it. Nothing is
 * remembered across a restart: a crdns that starts on a bad version has no
 * previous one to serve.
 */
import type { RRsetInput } from '../dns/zone-input.js';
import { endpointIdentity } from './endpoint-shape.js';
import type { EndpointObject, EndpointProblem } from './endpoint.js';

export interface Validation {
  rrsets: RRsetInput[];
  problems: EndpointProblem[];
}

export function keepLastGood(object: EndpointObject, fresh: Validation, previous: { object: EndpointObject; rrsets: readonly RRsetInput[] } | undefined): Validation {
  if (!previous || fresh.problems.length === 0) return fresh;
  const last = new Map<string, RRsetInput>();
  for (const r of previous.rrsets) {
    const id = endpointIdentity(previous.object.endpoints[r.index]);
    if (id !== undefined) last.set(id, r);
  }
  if (last.size === 0) return fresh;
  for (const r of fresh.rrsets) {
    const id = endpointIdentity(object.endpoints[r.index]);
    if (id !== undefined) last.delete(id);
  }
  const rrsets = [...fresh.rrsets];
  const problems: EndpointProblem[] = [];
  for (const p of fresh.problems) {
    const id = p.index >= 0 ? endpointIdentity(object.endpoints[p.index]) : undefined;
    const kept = id !== undefined ? last.get(id) : undefined;
    if (id === undefined || kept === undefined) {
      problems.push(p);
      continue;
    }
    last.delete(id);
    rrsets.push({ ...kept, index: p.index });
    problems.push({ ...p, servingPrevious: true });
  }
  return { rrsets, problems };
}
