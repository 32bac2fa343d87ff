/**
 * Query messages built byte by byte, so the differential test controls
 * everything a resolver might send: the exact case of every label (0x20),
 * EDNS or not, the DO bit, EDNS version, opcode, several questions, a QR
 * bit where none belongs. dns-packet is only used to decode replies.
 */

export const TYPE_CODES: Readonly<Record<string, number>> = {
  A: 1, NS: 2, CNAME: 5, SOA: 6, PTR: 12, MX: 15, TXT: 16, AAAA: 28, SRV: 33, NAPTR: 35,
  OPT: 41, DNAME: 39, DS: 43, SSHFP: 44, RRSIG: 46, NSEC: 47, DNSKEY: 48, HTTPS: 65,
  IXFR: 251, AXFR: 252, ANY: 255, CAA: 257,
};

/** "A", "any", "TYPE65" → type code. */
export function typeCode(t: string | number): number {
  if (typeof t === 'number') return t;
  const up = t.toUpperCase();
  const known = TYPE_CODES[up];
  if (known !== undefined) return known;
  const m = /^TYPE([0-9]{1,5})$/.exec(up);
  if (m && Number(m[1]) <= 65535) return Number(m[1]);
  throw new Error(`unknown query type ${t}`);
}

export interface Question {
  /** Name as sent in presentation form (escapes allowed), case kept, with or without trailing dot; '' or '.' is the root. */
  name: string;
  type: string | number;
  /** Default 1 (IN). */
  qclass?: number;
}

export interface QuerySpec extends Question {
  id?: number;
  /** Default 0 (QUERY). */
  opcode?: number;
  /** Recursion desired; default false, as a resolver asks an authoritative server. */
  rd?: boolean;
  /** Checking disabled (RFC 4035 §3.2.2) and authentic data (RFC 6840 §5.7) bits. */
  cd?: boolean;
  ad?: boolean;
  /** Set the QR bit, which a query must not have. */
  qr?: boolean;
  /** With an OPT record; absent means no EDNS. */
  edns?: { udpSize?: number; dnssecOk?: boolean; version?: number };
  /** Further questions after the first (QDCOUNT > 1). */
  moreQuestions?: Question[];
  /** Leave the question out altogether (QDCOUNT 0). */
  noQuestion?: boolean;
}

/**
 * Presentation form → wire form. A label may hold any byte through the
 * RFC 1035 §5.1 escapes: "\." is a dot inside a label, "\\" a backslash,
 * "\DDD" the byte DDD.
 */
export function encodeName(name: string): Buffer {
  const labels: number[][] = [[]];
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    const cur = labels[labels.length - 1] as number[];
    if (c === 92) {
      const ddd = name.slice(i + 1, i + 4);
      if (/^[0-9]{3}$/.test(ddd)) {
        cur.push(Number(ddd));
        i += 3;
      } else {
        cur.push(name.charCodeAt(i + 1));
        i += 1;
      }
    } else if (c === 46) {
      labels.push([]);
    } else {
      cur.push(c);
    }
  }
  // "a.b." ends with an empty label, "." and "" are the root.
  if (labels.length > 0 && (labels[labels.length - 1] as number[]).length === 0) labels.pop();
  const parts: Buffer[] = [];
  for (const l of labels) {
    if (l.length === 0 || l.length > 63) throw new Error(`bad label in ${name}`);
    parts.push(Buffer.from([l.length, ...l]));
  }
  parts.push(Buffer.from([0]));
  return Buffer.concat(parts);
}

function question(q: Question): Buffer {
  const tail = Buffer.alloc(4);
  tail.writeUInt16BE(typeCode(q.type), 0);
  tail.writeUInt16BE(q.qclass ?? 1, 2);
  return Buffer.concat([encodeName(q.name), tail]);
}

export function encodeQuery(spec: QuerySpec): Buffer {
  const header = Buffer.alloc(12);
  header.writeUInt16BE(spec.id ?? 0x4242, 0);
  const flags = (spec.qr ? 0x8000 : 0) | (((spec.opcode ?? 0) & 0xf) << 11) | (spec.rd ? 0x0100 : 0) | (spec.ad ? 0x0020 : 0) | (spec.cd ? 0x0010 : 0);
  header.writeUInt16BE(flags, 2);
  const questions = spec.noQuestion ? [] : [spec, ...(spec.moreQuestions ?? [])];
  header.writeUInt16BE(questions.length, 4);
  const parts = [header, ...questions.map(question)];
  if (spec.edns) {
    header.writeUInt16BE(1, 10);
    const opt = Buffer.alloc(11);
    opt.writeUInt16BE(41, 1);
    opt.writeUInt16BE(spec.edns.udpSize ?? 4096, 3);
    opt[6] = spec.edns.version ?? 0;
    opt.writeUInt16BE(spec.edns.dnssecOk ? 0x8000 : 0, 7);
    parts.push(opt);
  }
  return Buffer.concat(parts);
}

/** Replaces letters of `name` with upper case by a fixed pattern driven by `seed`, as 0x20 randomisation would. */
export function mixCase(name: string, seed: number): string {
  let x = (seed * 2654435761) >>> 0 || 1;
  let out = '';
  for (const ch of name) {
    x ^= x << 13; x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5; x >>>= 0;
    out += /[a-z]/.test(ch) && (x & 1) === 1 ? ch.toUpperCase() : ch;
  }
  // Make sure at least one letter changed, so the case really is mixed.
  return out === name ? name.replace(/[a-z]/, (c) => c.toUpperCase()) : out;
}
