/**
 * The one question `crdns query` sends, encoded here rather than by
 * dns-packet: dns-packet turns every type missing from its own table (HTTPS,
 * SVCB, URI, TYPE65280...) into QTYPE 0, and sends a name with an empty label
 * as a malformed packet instead of refusing it.
 */
import { CLASS, TYPE } from '../dns/codes.js';

/** Encodes a query for `name` (canonical: A-labels, no trailing dot, '' for the root). */
export function encodeQuery(id: number, name: string, qtype: number, edns: boolean): Buffer {
  const labels = name === '' ? [] : name.split('.');
  const qname = Buffer.concat([...labels.map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l, 'latin1')])), Buffer.from([0])]);
  const header = Buffer.alloc(12);
  header.writeUInt16BE(id, 0);
  header.writeUInt16BE(1, 4); // QDCOUNT
  header.writeUInt16BE(edns ? 1 : 0, 10); // ARCOUNT
  const question = Buffer.alloc(4);
  question.writeUInt16BE(qtype, 0);
  question.writeUInt16BE(CLASS.IN, 2);
  // OPT (RFC 6891): root owner, 1232-byte payload (the DNS flag day 2020 value), version 0, no options.
  const opt = Buffer.from([0, TYPE.OPT >> 8, TYPE.OPT & 0xff, 1232 >> 8, 1232 & 0xff, 0, 0, 0, 0, 0, 0]);
  return Buffer.concat([header, qname, question, ...(edns ? [opt] : [])]);
}
