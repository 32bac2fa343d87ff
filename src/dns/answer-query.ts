/**
 * One DNS message in, one out: the whole contract of a crdns Query. Every
 * input gets a reply; a message we cannot read gets FORMERR, never an
 * exception.
 */
import { CLASS, OPCODE, RCODE, TYPE } from './codes.js';
import { parseQuery } from './query-parser.js';
import { resolve } from './resolver.js';
import { writeReply } from './response-writer.js';
import type { Snapshot } from './zone.js';


export interface QueryOutcome {
  reply: Buffer;
  rcode: number;
  /** 0 when the question could not be read. */
  qtype: number;
  /** The served zone that answered, if any. */
  zone?: string;
  /** Why the message was refused as malformed, for logs. */
  formerr?: string;
}

export function answerQuery(snapshot: Snapshot, msg: Buffer): QueryOutcome {
  const parsed = parseQuery(msg);
  if (!parsed.ok) {
    // An opcode we do not implement is NOTIMP whatever its sections hold (NOTIFY and UPDATE
    // have their own section rules); only a malformed QUERY is FORMERR. A message with QR set is no query at all.
    const flags = parsed.flags ?? 0;
    const rcode = parsed.flags !== undefined && (flags & 0x8000) === 0 && ((flags >>> 11) & 0xf) !== OPCODE.QUERY ? RCODE.NOTIMP : RCODE.FORMERR;
    const reply = writeReply({ id: parsed.id ?? 0, queryFlags: flags, aa: false, rcode }, parsed.question);
    return { reply: reply as Buffer, rcode, qtype: parsed.question?.qtype ?? 0, ...(rcode === RCODE.FORMERR ? { formerr: parsed.reason } : {}) };
  }
  const q = parsed.query;
  const edns = q.edns ? { dnssecOk: q.edns.dnssecOk } : undefined;
  const bare = (rcode: number, formerr?: string): QueryOutcome => ({
    reply: writeReply({ id: q.id, queryFlags: q.flags, aa: false, rcode }, q, undefined, edns) as Buffer,
    rcode,
    qtype: q.qtype,
    ...(formerr ? { formerr } : {}),
  });
  if (q.opcode !== OPCODE.QUERY) return bare(RCODE.NOTIMP);
  if (q.edns && q.edns.version !== 0) return bare(RCODE.BADVERS);
  if (q.qtype === TYPE.OPT) return bare(RCODE.FORMERR, 'OPT is not a question type');
  if (q.qclass !== CLASS.IN) return bare(RCODE.REFUSED);

  const res = resolve(snapshot, q.qname, q.qtype, q.qnameWire);
  const reply = writeReply({ id: q.id, queryFlags: q.flags, aa: res.aa, rcode: res.rcode }, q, res, edns);
  if (!reply) return { ...bare(RCODE.SERVFAIL), ...(res.zone !== undefined ? { zone: res.zone } : {}) };
  return { reply, rcode: res.rcode, qtype: q.qtype, ...(res.zone !== undefined ? { zone: res.zone } : {}) };
}
