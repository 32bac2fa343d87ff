/**
 * Messages outside the plain one-question QUERY: zone transfers, other
 * opcodes, several or no questions, odd classes, EDNS versions, malformed
 * messages. For each, the rcode crdns must give (from the RFCs) and whether
 * NSD is expected to give the same one. Where NSD differs the reason is
 * written next to it; the test asserts crdns against the RFC always and
 * against NSD only where `sameAsReference` is true.
 */
import dnsPacket from 'dns-packet';
import { rcodeName, type Ask } from './compare.js';
import { encodeName, encodeQuery } from './wire.js';

export interface SpecialCase {
  name: string;
  message: Buffer;
  /** What crdns must answer: an rcode name, with AA never set on these. */
  expect: string;
  /** Whether NSD (over TCP) gives the same rcode. */
  sameAsReference: boolean;
  /** What the reference does instead, when it differs, and why both are acceptable. */
  note?: string;
}

const Q = { name: 'example.test', type: 'SOA' } as const;

function withSoaAuthority(base: Buffer, apex: string): Buffer {
  // IXFR (RFC 1995 §3) carries the client's SOA in the authority section.
  const rdata = Buffer.concat([encodeName(`ns1.${apex}`), encodeName(`hostmaster.${apex}`), Buffer.from([0, 0, 0, 1, 0, 0, 0x1c, 0x20, 0, 0, 3, 0x84, 0, 0x12, 0x75, 0, 0, 0, 0, 0x78])]);
  const rr = Buffer.alloc(10);
  rr.writeUInt16BE(6, 0);
  rr.writeUInt16BE(1, 2);
  rr.writeUInt32BE(1800, 4);
  rr.writeUInt16BE(rdata.length, 8);
  const out = Buffer.concat([base, encodeName(apex), rr, rdata]);
  out.writeUInt16BE(1, 8);
  return out;
}

export function specialCases(): SpecialCase[] {
  const twoOpts = (() => {
    const m = encodeQuery({ ...Q, edns: {} });
    const opt = m.subarray(m.length - 11);
    const out = Buffer.concat([m, opt]);
    out.writeUInt16BE(2, 10);
    return out;
  })();
  return [
    {
      name: 'AXFR of a served zone',
      message: encodeQuery({ name: 'example.test', type: 'AXFR' }),
      expect: 'REFUSED',
      sameAsReference: true,
      note: 'crdns cannot stream a transfer over the unary gRPC contract; NSD refuses clients not listed in provide-xfr; RFC 1035 §4.1.1 names refused zone transfers as the example of REFUSED',
    },
    {
      name: 'IXFR of a served zone (client SOA in authority)',
      message: withSoaAuthority(encodeQuery({ name: 'example.test', type: 'IXFR' }), 'example.test'),
      expect: 'REFUSED',
      sameAsReference: true,
    },
    {
      name: 'AXFR of an unserved zone',
      message: encodeQuery({ name: 'example.net', type: 'AXFR' }),
      expect: 'REFUSED',
      sameAsReference: false,
      note: 'NSD answers NOTAUTH (the "not authoritative for the zone" code that RFC 2136 defined); crdns refuses every question outside its zones alike, with the REFUSED that RFC 1035 §4.1.1 gives for refused zone transfers',
    },
    { name: 'opcode IQUERY (1)', message: encodeQuery({ ...Q, opcode: 1 }), expect: 'NOTIMP', sameAsReference: true, note: 'RFC 3425 retired IQUERY; NOTIMP per RFC 1035 §4.1.1' },
    { name: 'opcode STATUS (2)', message: encodeQuery({ ...Q, opcode: 2 }), expect: 'NOTIMP', sameAsReference: true },
    { name: 'opcode 3 (unassigned)', message: encodeQuery({ ...Q, opcode: 3 }), expect: 'NOTIMP', sameAsReference: true },
    {
      name: 'opcode NOTIFY (4)',
      message: encodeQuery({ ...Q, opcode: 4 }),
      expect: 'NOTIMP',
      sameAsReference: false,
      note: 'crdns has no secondary zones, so NOTIFY (RFC 1996, a message for secondaries) is not implemented; NSD answers NOTIFY from a source not in allow-notify with REFUSED',
    },
    {
      name: 'opcode UPDATE (5)',
      message: encodeQuery({ ...Q, opcode: 5 }),
      expect: 'NOTIMP',
      sameAsReference: true,
      note: 'neither server implements dynamic update (RFC 2136)',
    },
    {
      name: 'two questions',
      message: encodeQuery({ ...Q, moreQuestions: [{ name: 'www.example.test', type: 'A' }] }),
      expect: 'FORMERR',
      sameAsReference: true,
      note: 'RFC 9619: QDCOUNT above one is a FORMERR',
    },
    {
      name: 'no question',
      message: encodeQuery({ ...Q, noQuestion: true }),
      expect: 'FORMERR',
      sameAsReference: false,
      note: 'NSD drops the message and closes the TCP connection; a gRPC Query must get a reply, and FORMERR is what RFC 1035 §4.1.1 gives for a query that cannot be interpreted',
    },
    {
      name: 'QR bit set (a response sent as a query)',
      message: encodeQuery({ ...Q, qr: true }),
      expect: 'FORMERR',
      sameAsReference: false,
      note: 'a message with QR set is a response (RFC 1035 §4.1.1), which NSD drops silently; a gRPC Query must return something, so crdns answers FORMERR and CoreDNS passes it on',
    },
    { name: 'EDNS version 1', message: encodeQuery({ ...Q, edns: { version: 1 } }), expect: 'BADVERS', sameAsReference: true, note: 'RFC 6891 §6.1.3' },
    { name: 'two OPT records', message: twoOpts, expect: 'FORMERR', sameAsReference: true, note: 'RFC 6891 §6.1.1' },
    { name: 'question type OPT', message: encodeQuery({ name: 'example.test', type: 'OPT' }), expect: 'FORMERR', sameAsReference: false, note: 'RFC 6891 §6.1.1: OPT is a pseudo-RR, never a question; NSD answers it like an unknown type (NODATA)' },
    {
      name: 'class CHAOS for a served name',
      message: encodeQuery({ name: 'example.test', type: 'SOA', qclass: 3 }),
      expect: 'REFUSED',
      sameAsReference: true,
      note: 'the zones are class IN only',
    },
    {
      name: 'CHAOS TXT version.bind',
      message: encodeQuery({ name: 'version.bind', type: 'TXT', qclass: 3 }),
      expect: 'REFUSED',
      sameAsReference: false,
      note: 'NSD answers its version (hide-version: no); crdns serves nothing in CHAOS and refuses, as for any unserved zone',
    },
    {
      name: 'class ANY for a served name',
      message: encodeQuery({ name: 'example.test', type: 'SOA', qclass: 255 }),
      expect: 'REFUSED',
      sameAsReference: false,
      note: 'NSD answers QCLASS * (RFC 1035 §3.2.5) from its IN data, without AA; crdns answers class IN only and refuses every other class',
    },
    {
      name: 'header only, QDCOUNT 1',
      message: (() => { const m = Buffer.alloc(12); m.writeUInt16BE(0x4242, 0); m.writeUInt16BE(1, 4); return m; })(),
      expect: 'FORMERR',
      sameAsReference: false,
      note: 'NSD drops the message and closes the TCP connection; crdns answers FORMERR (RFC 1035 §4.1.1), the question being unreadable',
    },
  ];
}

export interface SpecialResult {
  case: SpecialCase;
  /** The rcode name (plus " aa" when AA is set), or "no reply: …". */
  reference: string;
  subject: string;
  problems: string[];
}

/** Header rcode, extended by the OPT record when the reply has one and decodes. */
function describeReply(reply: Buffer): string {
  if (reply.length < 12) return `short reply of ${reply.length} bytes`;
  const flags = reply.readUInt16BE(2);
  let rcode = flags & 0xf;
  try {
    const p = dnsPacket.decode(reply);
    const opt = (p.additionals ?? []).find((r) => r.type === 'OPT') as { extendedRcode?: number } | undefined;
    rcode |= (opt?.extendedRcode ?? 0) << 4;
  } catch {
    // a reply to a malformed message may not decode in full; the header is enough
  }
  return `${rcodeName(rcode)}${flags & 0x400 ? ' aa' : ''}`;
}

async function tryAsk(ask: Ask, message: Buffer): Promise<string> {
  try {
    return describeReply(await ask(message));
  } catch (err) {
    return `no reply: ${(err as Error).message}`;
  }
}

export async function runSpecialCases(reference: Ask, subject: Ask): Promise<SpecialResult[]> {
  const out: SpecialResult[] = [];
  for (const c of specialCases()) {
    const ref = await tryAsk(reference, c.message);
    const sub = await tryAsk(subject, c.message);
    const problems: string[] = [];
    if (sub !== c.expect) problems.push(`crdns answered ${sub}, the RFCs want ${c.expect}`);
    if (c.sameAsReference && ref !== sub) problems.push(`NSD answered ${ref}, crdns ${sub}`);
    if (!c.sameAsReference && ref === sub) problems.push(`NSD now answers ${ref} as crdns does: mark the case sameAsReference`);
    out.push({ case: c, reference: ref, subject: sub, problems });
  }
  return out;
}

export function formatSpecialReport(results: readonly SpecialResult[]): string {
  const same = results.filter((r) => r.reference === r.subject).length;
  return [
    `special messages: ${results.filter((r) => r.problems.length === 0).length}/${results.length} as expected, NSD and crdns agree on ${same}/${results.length}`,
    ...results.map((r) => `- ${r.case.name}: NSD ${r.reference}; crdns ${r.subject}; expected ${r.case.expect}${r.problems.length ? `\n  PROBLEM: ${r.problems.join('; ')}` : ''}${r.case.note ? `\n  (${r.case.note})` : ''}`),
  ].join('\n');
}
