/**
 * Compares two DNS servers' replies to the same query corpus. Both servers
 * are plain functions `ask(wire) → wire reply`, so the transport (gRPC to
 * crdns, TCP to NSD, dig through CoreDNS) is the caller's business.
 *
 * A reply is reduced to a view: rcode (extended rcodes included), header
 * flags, the question as echoed (exact bytes, so 0x20 case must survive),
 * EDNS presence/version/DO, and the answer, authority and additional
 * sections as sorted presentation lines with names lowercased and the SOA
 * serial set to 0. Two views are identical or they are not; the only
 * softening rules are documented in docs/differential.md:
 *  - ANY (RFC 8482): the subject may answer with other complete RRsets
 *    than the reference picked, checked by asking the reference for those
 *    types (see anyDiffs);
 *  - the reference's apex NS in the authority section of a positive answer
 *    is dropped (see normaliseReference), since crdns answers minimally.
 */
import { opcodeName, rcodeName } from '../../../src/dns/codes.js';
import dnsPacket from 'dns-packet';
import type { Answer, DecodedPacket } from 'dns-packet';
import { presentRecord } from '../../../src/dns/presentation.js';
import type { QueryCase } from './corpus.js';
import { encodeQuery, typeCode, type QuerySpec } from './wire.js';

export type Ask = (query: Buffer) => Promise<Buffer>;

/** A decoded record, loosely typed: dns-packet's union does not fit records of every type. */
interface Rec {
  name: string;
  type: string;
  ttl?: number;
  class?: string;
  data?: unknown;
}

export interface ReplyView {
  rcode: string;
  /** Opcode and header bits, e.g. "QUERY qr aa". */
  header: string;
  /** Question section as echoed, case kept. */
  question: string[];
  /** "none", or "v0 do=0" / "v0 do=1" (UDP size and options are not compared). */
  edns: string;
  answer: string[];
  authority: string[];
  additional: string[];
  /** Set when the reply's ID is not the query's. */
  idMismatch?: string;
}

export type Side = { view: ReplyView } | { error: string };

export interface AllowEntry {
  /** Matches QueryCase.id (a string must equal it). */
  id: string | RegExp;
  /** When set, every difference line of the case must match it; any other difference is still a mismatch. */
  diff?: RegExp;
  /** Why the difference is acceptable, citing the RFC. */
  reason: string;
}

export type Verdict = 'identical' | 'any-rrset' | 'allowed' | 'mismatch';

export interface Outcome {
  case: QueryCase;
  reference: Side;
  subject: Side;
  verdict: Verdict;
  /** What differs, one line each; empty when identical. */
  diffs: string[];
  allowedBy?: AllowEntry[];
}

export interface DifferentialReport {
  referenceName: string;
  subjectName: string;
  total: number;
  identical: number;
  /** ANY answered with other complete RRsets than the reference chose (RFC 8482). */
  anyRrset: number;
  allowed: number;
  mismatches: Outcome[];
  outcomes: Outcome[];
  /** Allow-list entries that matched no mismatch: stale, to be removed. */
  unusedAllowEntries: AllowEntry[];
}

export interface DifferentialOptions {
  corpus: readonly QueryCase[];
  reference: Ask;
  subject: Ask;
  referenceName?: string;
  subjectName?: string;
  /** Served zone apexes, canonical (lowercase, no trailing dot). */
  apexes: readonly string[];
  allowList?: readonly AllowEntry[];
  /** Drop the reference's apex NS from the authority of positive answers (default true; see normaliseReference). */
  normaliseReference?: boolean;
}

export { rcodeName };

export function queryFor(c: QueryCase, id: number): Buffer {
  const spec: QuerySpec = { id, name: c.qname, type: typeCode(c.qtype), ...(c.flags ?? {}) };
  if (c.edns) spec.edns = { udpSize: 4096, dnssecOk: c.dnssecOk };
  return encodeQuery(spec);
}

export function decodeReply(reply: Buffer): DecodedPacket {
  return dnsPacket.decode(reply);
}

/** The comparable view of a reply. `normaliseApexes` applies normaliseReference with those apexes. */
export function viewOf(reply: Buffer, queryId: number, normaliseApexes?: readonly string[]): ReplyView {
  const p = decodeReply(reply);
  const flags = p.flags ?? 0;
  const opt = (p.additionals ?? []).find((r) => r.type === 'OPT') as (Answer & { extendedRcode?: number; ednsVersion?: number; flags?: number }) | undefined;
  let answers = (p.answers ?? []) as Rec[];
  let authorities = (p.authorities ?? []) as Rec[];
  let additionals = (p.additionals ?? []).filter((r) => r.type !== 'OPT') as Rec[];
  if (normaliseApexes) ({ answers, authorities, additionals } = normaliseReference(flags, answers, authorities, additionals, normaliseApexes));
  const bits = ([['qr', 0x8000], ['aa', 0x400], ['tc', 0x200], ['rd', 0x100], ['ra', 0x80], ['z', 0x40], ['ad', 0x20], ['cd', 0x10]] as const)
    .filter(([, b]) => flags & b)
    .map(([n]) => n);
  const view: ReplyView = {
    rcode: rcodeName(((opt?.extendedRcode ?? 0) << 4) | (flags & 0xf)),
    header: [opcodeName((flags >> 11) & 0xf), ...bits].join(' '),
    question: (p.questions ?? []).map((q) => `${q.name === '' ? '.' : `${q.name}.`} ${q.class} ${q.type}`),
    edns: opt ? `v${opt.ednsVersion ?? 0} do=${((opt.flags ?? 0) & 0x8000) !== 0 ? 1 : 0}` : 'none',
    answer: present(answers),
    authority: present(authorities),
    additional: present(additionals),
  };
  if (p.id !== queryId) view.idMismatch = `reply ID ${p.id}, query ID ${queryId}`;
  return view;
}

/**
 * NSD (with minimal-responses off, its default) puts the zone's apex NS
 * RRset in the authority section of every positive answer and the NS
 * addresses into the additional section. RFC 1034 §4.3.2 and RFC 2181 §6.1
 * allow but do not require that; crdns, like Knot and PowerDNS, leaves them
 * out. NSD's minimal-responses: yes would also drop the MX/SRV target
 * addresses we do want to compare, so the reference keeps its defaults and
 * this rule removes exactly: an authority section made only of one served
 * apex's NS RRset, in a NOERROR reply with a non-empty answer, plus the
 * additional addresses of those NS names that no answer record refers to.
 */
export function normaliseReference(flags: number, answers: Rec[], authorities: Rec[], additionals: Rec[], apexes: readonly string[]): { answers: Rec[]; authorities: Rec[]; additionals: Rec[] } {
  const rcode = flags & 0xf;
  const owners = new Set(authorities.map((r) => r.name.toLowerCase()));
  const onlyApexNs = authorities.length > 0 && owners.size === 1 && authorities.every((r) => r.type === 'NS') && apexes.includes([...owners][0] as string);
  if (rcode !== 0 || answers.length === 0 || !onlyApexNs) return { answers, authorities, additionals };
  const nsNames = new Set(authorities.map((r) => String(r.data).toLowerCase()));
  const referenced = new Set<string>();
  for (const r of answers) {
    const d = r.data as Record<string, unknown>;
    if (r.type === 'MX') referenced.add(String(d.exchange).toLowerCase());
    if (r.type === 'SRV') referenced.add(String(d.target).toLowerCase());
    if (r.type === 'NS') referenced.add(String(r.data).toLowerCase());
  }
  const keep = (r: Rec) => !((r.type === 'A' || r.type === 'AAAA') && nsNames.has(r.name.toLowerCase()) && !referenced.has(r.name.toLowerCase()));
  return { answers, authorities: [], additionals: additionals.filter(keep) };
}

const NAME_FIELDS: Record<string, string[]> = { MX: ['exchange'], SRV: ['target'], NAPTR: ['replacement'], SOA: ['mname', 'rname'] };

function present(records: readonly Rec[]): string[] {
  return records
    .map((r) => {
      const rr: Rec = { ...r, name: r.name.toLowerCase() };
      if (['CNAME', 'DNAME', 'NS', 'PTR'].includes(r.type)) rr.data = String(r.data).toLowerCase();
      const fields = NAME_FIELDS[r.type];
      if (fields) {
        const d = { ...(r.data as Record<string, unknown>) };
        for (const f of fields) d[f] = String(d[f]).toLowerCase();
        if (r.type === 'SOA') d.serial = 0;
        rr.data = d;
      }
      return presentRecord(rr as unknown as Answer);
    })
    .sort();
}

function sectionDiff(name: string, ref: readonly string[], sub: readonly string[], refName: string, subName: string): string[] {
  const onlyRef = ref.filter((l) => !sub.includes(l));
  const onlySub = sub.filter((l) => !ref.includes(l));
  if (onlyRef.length === 0 && onlySub.length === 0 && ref.length === sub.length) return [];
  return [`${name}: only ${refName}: [${onlyRef.join(' | ')}]; only ${subName}: [${onlySub.join(' | ')}]`];
}

/** Every way two views differ, one line each. */
export function diffViews(ref: ReplyView, sub: ReplyView, refName: string, subName: string): string[] {
  const d: string[] = [];
  for (const k of ['rcode', 'header', 'edns'] as const) if (ref[k] !== sub[k]) d.push(`${k}: ${refName} ${ref[k]}, ${subName} ${sub[k]}`);
  if (ref.question.join(' / ') !== sub.question.join(' / ')) d.push(`question: ${refName} ${ref.question.join(' / ')}, ${subName} ${sub.question.join(' / ')}`);
  d.push(...sectionDiff('answer', ref.answer, sub.answer, refName, subName));
  d.push(...sectionDiff('authority', ref.authority, sub.authority, refName, subName));
  d.push(...sectionDiff('additional', ref.additional, sub.additional, refName, subName));
  if (ref.idMismatch) d.push(`${refName}: ${ref.idMismatch}`);
  if (sub.idMismatch) d.push(`${subName}: ${sub.idMismatch}`);
  return d;
}

const typeOfLine = (line: string): string => line.split(' ')[3] ?? '';

/**
 * RFC 8482 §4.1: any one RRset (or several) that exists at the name is a
 * complete answer to ANY, and servers pick differently (NSD takes the first
 * in zone-file order, the SOA at an apex; crdns the lowest type code). So the
 * subject's ANY answer is checked against what the reference answers when
 * asked for exactly those types: each RRset must be complete and equal, its
 * additional records must be ones the reference gives for that type, and
 * everything else in the reply must be identical.
 */
async function anyDiffs(c: QueryCase, ref: ReplyView, sub: ReplyView, reference: Ask, normalise: readonly string[] | undefined, refName: string, subName: string): Promise<string[]> {
  const d: string[] = [];
  for (const k of ['rcode', 'header', 'edns'] as const) if (ref[k] !== sub[k]) d.push(`${k}: ${refName} ${ref[k]}, ${subName} ${sub[k]}`);
  if (ref.question.join(' / ') !== sub.question.join(' / ')) d.push(`question: ${refName} ${ref.question.join(' / ')}, ${subName} ${sub.question.join(' / ')}`);
  d.push(...sectionDiff('authority', ref.authority, sub.authority, refName, subName));
  if (sub.answer.length === 0) d.push(`answer: ${subName} empty, ${refName} has ${ref.answer.length} records`);
  const expected: string[] = [];
  const allowedAdditional = new Set(ref.additional);
  for (const t of [...new Set(sub.answer.map(typeOfLine))]) {
    const id = 0x7000;
    const q = queryFor({ ...c, qtype: t }, id);
    let view: ReplyView;
    try {
      view = viewOf(await reference(q), id, normalise);
    } catch (err) {
      d.push(`${refName} did not answer ${c.qname} ${t}: ${(err as Error).message}`);
      continue;
    }
    expected.push(...view.answer.filter((l) => typeOfLine(l) === t));
    for (const l of view.additional) allowedAdditional.add(l);
  }
  d.push(...sectionDiff(`answer (against ${refName}'s answers for the same types)`, expected.sort(), sub.answer, refName, subName));
  const extraAdd = sub.additional.filter((l) => !allowedAdditional.has(l));
  if (extraAdd.length) d.push(`additional: ${subName} has records ${refName} gives for none of those types: [${extraAdd.join(' | ')}]`);
  return d;
}

async function side(ask: Ask, query: Buffer, id: number, apexes?: readonly string[]): Promise<Side> {
  try {
    return { view: viewOf(await ask(query), id, apexes) };
  } catch (err) {
    return { error: (err as Error).message };
  }
}

/**
 * The entries that excuse a case's differences: every difference line must be
 * matched by an entry for that case (an entry without `diff` matches every
 * line). Undefined when some line is not excused.
 */
export function allowEntriesFor(id: string, diffs: readonly string[], list: readonly AllowEntry[]): AllowEntry[] | undefined {
  const forCase = list.filter((e) => (typeof e.id === 'string' ? e.id === id : e.id.test(id)));
  const used = new Set<AllowEntry>();
  for (const d of diffs) {
    const e = forCase.find((x) => !x.diff || x.diff.test(d));
    if (!e) return undefined;
    used.add(e);
  }
  return [...used];
}

/** Judges one case from both sides' replies. */
export function judge(c: QueryCase, reference: Side, subject: Side, opts: { referenceName: string; subjectName: string; allowList: readonly AllowEntry[] }, knownDiffs?: string[]): Outcome {
  const { referenceName: rn, subjectName: sn } = opts;
  let diffs: string[];
  let verdict: Verdict;
  if (knownDiffs) {
    diffs = knownDiffs;
    verdict = knownDiffs.length === 0 ? 'identical' : 'mismatch';
  } else if ('error' in reference || 'error' in subject) {
    const r = 'error' in reference ? `error: ${reference.error}` : 'a reply';
    const s = 'error' in subject ? `error: ${subject.error}` : 'a reply';
    diffs = [`${rn} gave ${r}; ${sn} gave ${s}`];
    verdict = 'mismatch';
  } else {
    diffs = diffViews(reference.view, subject.view, rn, sn);
    verdict = diffs.length === 0 ? 'identical' : 'mismatch';
  }
  const outcome: Outcome = { case: c, reference, subject, verdict, diffs };
  if (verdict === 'mismatch') {
    const entries = allowEntriesFor(c.id, diffs, opts.allowList);
    if (entries) {
      outcome.verdict = 'allowed';
      outcome.allowedBy = entries;
    }
  }
  return outcome;
}

/**
 * Runs every case against both servers (one query at a time, reference
 * first) and judges the replies. Never throws for a server's failure: a
 * timeout or an undecodable reply is a mismatch with the error as its text.
 */
export async function runDifferential(opts: DifferentialOptions): Promise<DifferentialReport> {
  const referenceName = opts.referenceName ?? 'reference';
  const subjectName = opts.subjectName ?? 'subject';
  const allowList = opts.allowList ?? [];
  const normalise = opts.normaliseReference !== false ? opts.apexes.map((a) => a.toLowerCase()) : undefined;
  const outcomes: Outcome[] = [];
  let n = 0;
  for (const c of opts.corpus) {
    const id = (0x1000 + n++) & 0xffff;
    const query = queryFor(c, id);
    const reference = await side(opts.reference, query, id, normalise);
    const subject = await side(opts.subject, query, id);
    const judged = { referenceName, subjectName, allowList };
    let outcome = judge(c, reference, subject, judged);
    if (outcome.verdict !== 'identical' && c.qtype === 'ANY' && 'view' in reference && 'view' in subject && reference.view.answer.length > 0) {
      const diffs = await anyDiffs(c, reference.view, subject.view, opts.reference, normalise, referenceName, subjectName);
      outcome = diffs.length === 0 ? { case: c, reference, subject, verdict: 'any-rrset', diffs: [] } : judge(c, reference, subject, judged, diffs);
    }
    outcomes.push(outcome);
  }
  const used = new Set(outcomes.flatMap((o) => o.allowedBy ?? []));
  return {
    referenceName,
    subjectName,
    total: outcomes.length,
    identical: outcomes.filter((o) => o.verdict === 'identical').length,
    anyRrset: outcomes.filter((o) => o.verdict === 'any-rrset').length,
    allowed: outcomes.filter((o) => o.verdict === 'allowed').length,
    mismatches: outcomes.filter((o) => o.verdict === 'mismatch'),
    outcomes,
    unusedAllowEntries: allowList.filter((e) => !used.has(e)),
  };
}

function showSide(name: string, s: Side): string {
  if ('error' in s) return `  ${name}: ERROR ${s.error}`;
  const v = s.view;
  const sec = (title: string, lines: string[]) => (lines.length ? `\n    ${title}:\n${lines.map((l) => `      ${l}`).join('\n')}` : '');
  return `  ${name}: ${v.rcode} [${v.header}] edns=${v.edns} question=${v.question.join(' / ')}${sec('answer', v.answer)}${sec('authority', v.authority)}${sec('additional', v.additional)}`;
}

export function scoreLine(r: DifferentialReport): string {
  return `${r.subjectName} vs ${r.referenceName}: ${r.identical}/${r.total} identical, ${r.anyRrset} ANY answered with another complete RRset (RFC 8482), ${r.allowed} allow-listed, ${r.mismatches.length} mismatches`;
}

/** The human report: score, then every mismatch and every allow-listed difference with both sides in full. */
export function formatReport(r: DifferentialReport): string {
  const parts = [scoreLine(r)];
  const block = (o: Outcome) =>
    [`- ${o.case.id}  (${o.case.why})`, ...o.diffs.map((d) => `  * ${d}`), ...(o.allowedBy ?? []).map((e) => `  allowed: ${e.reason}`), showSide(r.referenceName, o.reference), showSide(r.subjectName, o.subject)].join('\n');
  if (r.mismatches.length) parts.push(`\nMISMATCHES (${r.mismatches.length}):`, ...r.mismatches.map(block));
  const allowed = r.outcomes.filter((o) => o.verdict === 'allowed');
  if (allowed.length) parts.push(`\nALLOW-LISTED (${allowed.length}):`, ...allowed.map(block));
  if (r.unusedAllowEntries.length) parts.push(`\nUNUSED ALLOW-LIST ENTRIES: ${r.unusedAllowEntries.map((e) => String(e.id)).join(', ')}`);
  return parts.join('\n');
}
