/**
 * The DNS code tables crdns uses, in one place: response codes, opcodes,
 * classes and record types, with their mnemonics. The resolver, the metrics
 * and the CLI all read these, so a name printed anywhere means one number.
 */

/** RFC 1035 §4.1.1, RFC 6672, RFC 6891 (BADVERS is an extended rcode). */
export const RCODE = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5, YXDOMAIN: 6, YXRRSET: 7, NXRRSET: 8, NOTAUTH: 9, NOTZONE: 10, BADVERS: 16 } as const;

export const OPCODE = { QUERY: 0, IQUERY: 1, STATUS: 2, NOTIFY: 4, UPDATE: 5 } as const;

export const CLASS = { IN: 1, CH: 3, HS: 4, NONE: 254, ANY: 255 } as const;

/** Record types by mnemonic: the ones crdns serves, plus those it must recognise in questions. */
export const TYPE = {
  A: 1, NS: 2, CNAME: 5, SOA: 6, PTR: 12, MX: 15, TXT: 16, AAAA: 28, SRV: 33, NAPTR: 35, DNAME: 39, OPT: 41,
  DS: 43, SSHFP: 44, RRSIG: 46, NSEC: 47, DNSKEY: 48, NSEC3: 50, NSEC3PARAM: 51, TLSA: 52, CDS: 59, CDNSKEY: 60,
  SVCB: 64, HTTPS: 65, SPF: 99, IXFR: 251, AXFR: 252, ANY: 255, URI: 256, CAA: 257,
} as const;

const TYPE_NAMES = new Map<number, string>(Object.entries(TYPE).map(([name, code]) => [code, name]));
const RCODE_NAMES = new Map<number, string>(Object.entries(RCODE).map(([name, code]) => [code, name]));
const OPCODE_NAMES = new Map<number, string>(Object.entries(OPCODE).map(([name, code]) => [code, name]));

/** The mnemonic of a type in the table, else undefined (metrics fold those into one label). */
export function knownTypeName(code: number): string | undefined {
  return TYPE_NAMES.get(code);
}

/** The mnemonic, or RFC 3597's TYPEnnn for a type without one. */
export function typeName(code: number): string {
  return TYPE_NAMES.get(code) ?? `TYPE${code}`;
}

/** The code of a mnemonic (any case) or of RFC 3597's TYPEnnn; undefined for anything else. */
export function typeCode(name: string): number | undefined {
  const upper = name.toUpperCase();
  const known = (TYPE as Record<string, number>)[upper];
  if (known !== undefined) return known;
  const m = /^TYPE(\d{1,5})$/.exec(upper);
  if (!m) return undefined;
  const n = Number(m[1]);
  return n <= 0xffff ? n : undefined;
}

export function rcodeName(rcode: number): string {
  return RCODE_NAMES.get(rcode) ?? `RCODE${rcode}`;
}

export function opcodeName(opcode: number): string {
  return OPCODE_NAMES.get(opcode) ?? `OPCODE${opcode}`;
}
