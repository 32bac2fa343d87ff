/**
 * Asking a crdns over gRPC the way the Service and route tests do: a reply
 * as its rcode and sorted presentation lines, and a wait until a name
 * answers exactly a set of values.
 */
import type { QueryClient } from '../../src/cli/query.js';
import { presentRecord } from '../../src/dns/presentation.js';
import { pollUntil } from './eventually.js';

export interface Answer {
  rcode: number;
  /** Presentation lines, sorted. */
  answer: string[];
}

/** The RDATA part of presentation lines ("name ttl class type rdata…"), sorted. */
export function rdata(lines: readonly string[]): string[] {
  return lines.map((l) => l.split(' ').slice(4).join(' ')).sort();
}

export function answerHelpers(client: () => QueryClient, timeoutMs = 60_000): {
  answer: (name: string, type?: string) => Promise<Answer>;
  served: (name: string, want: string[], type?: string) => Promise<Answer>;
} {
  const answer = async (name: string, type = 'A'): Promise<Answer> => {
    const r = await client().ask(name, type);
    return { rcode: (r.flags ?? 0) & 0xf, answer: (r.answers ?? []).map((a) => presentRecord(a)).sort() };
  };
  const served = (name: string, want: string[], type = 'A'): Promise<Answer> =>
    pollUntil(() => answer(name, type), (r) => JSON.stringify(rdata(r.answer)) === JSON.stringify([...want].sort()), `${name} ${type} → ${want.join(',')}`, timeoutMs, 50);
  return { answer, served };
}
