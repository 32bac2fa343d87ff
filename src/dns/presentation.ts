/**
 * Records in zone-file presentation form (RFC 1035 §5.1), from dns-packet's
 * decoded shapes. Used by `crdns query` and by the tests, which compare
 * answers as sorted presentation lines.
 */
import type { Answer } from 'dns-packet';

export function presentName(name: string): string {
  if (name === '' || name === '.') return '.';
  return name.endsWith('.') ? name : `${name}.`;
}

/** A character-string in quotes, with '"' and '\' escaped and non-printable bytes as \DDD. */
export function presentString(value: Buffer | string): string {
  const buf = typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
  let out = '"';
  for (const b of buf) {
    if (b === 0x22 || b === 0x5c) out += `\\${String.fromCharCode(b)}`;
    else if (b < 0x20 || b > 0x7e) out += `\\${b.toString().padStart(3, '0')}`;
    else out += String.fromCharCode(b);
  }
  return `${out}"`;
}

interface Loose {
  name: string;
  type: string;
  ttl?: number;
  class?: string;
  data?: unknown;
}

export function presentRdata(type: string, data: unknown): string {
  const d = data as Record<string, unknown>;
  switch (type) {
    case 'A':
    case 'AAAA':
      return String(data);
    case 'CNAME':
    case 'NS':
    case 'PTR':
    case 'DNAME':
      return presentName(String(data));
    case 'MX':
      return `${d.preference} ${presentName(String(d.exchange))}`;
    case 'SRV':
      return `${d.priority} ${d.weight} ${d.port} ${presentName(String(d.target))}`;
    case 'NAPTR':
      return `${d.order} ${d.preference} ${presentString(String(d.flags))} ${presentString(String(d.services))} ${presentString(String(d.regexp))} ${presentName(String(d.replacement))}`;
    case 'TXT': {
      const parts = Array.isArray(data) ? (data as (Buffer | string)[]) : [data as Buffer | string];
      return parts.map(presentString).join(' ');
    }
    case 'CAA':
      return `${d.flags ?? 0} ${d.tag} ${presentString(String(d.value))}`;
    case 'SOA':
      return `${presentName(String(d.mname))} ${presentName(String(d.rname))} ${d.serial} ${d.refresh} ${d.retry} ${d.expire} ${d.minimum}`;
    default:
      return Buffer.isBuffer(data) ? `\\# ${data.length} ${data.toString('hex')}` : JSON.stringify(data);
  }
}

/** "name. TTL IN TYPE rdata" for one decoded record. */
export function presentRecord(rr: Answer): string {
  const r = rr as unknown as Loose;
  return `${presentName(r.name)} ${r.ttl ?? 0} ${r.class ?? 'IN'} ${r.type} ${presentRdata(r.type, r.data)}`;
}
