/**
 * Warning Events about endpoints crdns will not serve, and the wording shared
 * with the Accepted condition.
 *
 * Event names are derived from (object uid, generation, problem), not random:
 * a second crdns replica, or crdns after a restart, creating "the same" event
 * gets 409 AlreadyExists instead of a duplicate. That is what makes "one Event
 * per distinct problem" hold across replicas, not just within one process.
 */

import { createHash } from 'node:crypto';
import type { EndpointProblem } from '../endpoint/endpoint.js';
import { DNSENDPOINT, type DirectoryEntry } from '../sources/dnsendpoints/resource.js';
import type { EventBody } from './status-api.js';

export const INVALID_ENDPOINT_REASON = 'InvalidEndpoint';

/** Events are read by people; the API server would accept more, kubectl shows less. */
const MAX_EVENT_MESSAGE = 1024;

function dnsNameAt(entry: DirectoryEntry, index: number): string | undefined {
  const endpoint = index >= 0 ? entry.endpoints[index] : undefined;
  const dnsName = endpoint && typeof endpoint === 'object' ? (endpoint as { dnsName?: unknown }).dnsName : undefined;
  return typeof dnsName === 'string' ? dnsName : undefined;
}

/** e.g. `spec.endpoints[2] dnsName="www.example.org" field=targets[1]: not an IPv4 address` */
export function describeProblem(entry: DirectoryEntry, problem: EndpointProblem): string {
  if (problem.index < 0) return `object${problem.field ? ` field=${problem.field}` : ''}: ${problem.reason}`;
  const dnsName = dnsNameAt(entry, problem.index);
  const name = dnsName !== undefined ? ` dnsName=${JSON.stringify(dnsName)}` : '';
  const field = problem.field ? ` field=${problem.field}` : '';
  const previous = problem.servingPrevious ? ' (its previous version is still served)' : '';
  return `spec.endpoints[${problem.index}]${name}${field}: ${problem.reason}${previous}`;
}

export function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/** metadata.name for the Event: "<object>.<16 hex digits>", a valid DNS subdomain of at most 253 characters. */
export function eventName(objectName: string, uid: string, generation: number, problem: EndpointProblem): string {
  const digest = createHash('sha256').update(`${uid}\u0000${generation}\u0000${problem.index}\u0000${problem.field}\u0000${problem.reason}`).digest('hex').slice(0, 16);
  const prefix = objectName.slice(0, 253 - 17).replace(/[.-]+$/, '');
  return `${prefix}.${digest}`;
}

export interface EventReporter {
  component: string;
  instance: string;
}

export function problemEvent(
  entry: DirectoryEntry,
  generation: number,
  problem: EndpointProblem,
  reporter: EventReporter,
  now: Date,
): EventBody {
  return {
    metadata: { name: eventName(entry.name, entry.uid, generation, problem), namespace: entry.namespace },
    involvedObject: {
      apiVersion: DNSENDPOINT.apiVersion,
      kind: DNSENDPOINT.kind,
      namespace: entry.namespace,
      name: entry.name,
      uid: entry.uid,
      resourceVersion: entry.resourceVersion,
    },
    type: 'Warning',
    reason: INVALID_ENDPOINT_REASON,
    message: truncate(`${describeProblem(entry, problem)} (generation ${generation})`, MAX_EVENT_MESSAGE),
    source: { component: reporter.component, host: reporter.instance },
    reportingComponent: reporter.component,
    reportingInstance: reporter.instance,
    firstTimestamp: now,
    lastTimestamp: now,
    count: 1,
  };
}
