/**
 * Chaos events: what the chaos tool did and when, read from a file or
 * stdin, one per line:
 *
 *   2026-03-06T10:15:00Z start kill crdns pod in berne
 *   2026-03-06T10:15:30.250Z end kill crdns pod in berne
 *   2026-03-06T10:16:00+01:00 note scaled CoreDNS to 3
 *
 * An ISO 8601 time with a zone (Z or ±hh:mm), then a label. A label whose
 * first word is `start` or `end` opens or closes chaos; any other is a mark on
 * the plot. A line without a leading time is stamped with the moment it is
 * read, so a chaos script can pipe `echo start kill` into `--events -`.
 * Blank lines and lines starting with # are skipped.
 *
 * Windows: before = run start → first start; during = first start → last
 * end (the end of the run if chaos never ended); after = last end → run end.
 */

export type EventKind = 'start' | 'end' | 'mark';

export interface ProbeEvent {
  /** ms since the epoch. */
  at: number;
  kind: EventKind;
  label: string;
}

const ISO_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:\d\d)$/;

/** One line, or undefined for a blank or comment line; throws an Error naming what is wrong. */
export function parseEventLine(line: string, now: number): ProbeEvent | undefined {
  const text = line.trim();
  if (text === '' || text.startsWith('#')) return undefined;
  const [first = '', ...rest] = text.split(/\s+/);
  let at = now;
  let label = text;
  if (/^\d{4}-\d\d-\d\dT/.test(first)) {
    const t = Date.parse(first);
    if (!ISO_TIME.test(first) || Number.isNaN(t)) throw new Error(`"${first}" is not an ISO 8601 time with a zone (e.g. 2026-03-06T10:15:00Z)`);
    at = t;
    label = rest.join(' ');
    if (label === '') throw new Error(`an event at ${first} has no label`);
  }
  const word = (label.split(/\s+/)[0] ?? '').toLowerCase();
  return { at, kind: word === 'start' ? 'start' : word === 'end' ? 'end' : 'mark', label };
}

/** Every line of a text; errors carry the line number. */
export function parseEvents(text: string, now: number): ProbeEvent[] {
  const out: ProbeEvent[] = [];
  text.split('\n').forEach((line, i) => {
    try {
      const e = parseEventLine(line, now);
      if (e) out.push(e);
    } catch (err) {
      throw new Error(`line ${i + 1}: ${(err as Error).message}`);
    }
  });
  return out.sort((a, b) => a.at - b.at);
}

export type WindowName = 'run' | 'before' | 'during' | 'after';

export interface TimeWindow {
  name: WindowName;
  /** [from, to) in ms since the epoch. */
  from: number;
  to: number;
}

/** The run, and, when chaos started within it, before / during / after (empty windows left out). */
export function windowsOf(events: readonly ProbeEvent[], from: number, to: number): TimeWindow[] {
  const out: TimeWindow[] = [{ name: 'run', from, to }];
  const starts = events.filter((e) => e.kind === 'start' && e.at < to);
  if (starts.length === 0) return out;
  const chaosFrom = Math.max(from, Math.min(...starts.map((e) => e.at)));
  const ends = events.filter((e) => e.kind === 'end' && e.at >= chaosFrom);
  const lastStart = Math.max(...starts.map((e) => e.at));
  const lastEnd = ends.length > 0 ? Math.max(...ends.map((e) => e.at)) : undefined;
  // A start after the last end means chaos was still on when the run ended.
  const chaosTo = lastEnd === undefined || lastStart > lastEnd ? to : Math.min(to, lastEnd);
  const add = (name: WindowName, a: number, b: number) => {
    if (b > a) out.push({ name, from: a, to: b });
  };
  add('before', from, chaosFrom);
  add('during', chaosFrom, chaosTo);
  add('after', chaosTo, to);
  return out;
}
