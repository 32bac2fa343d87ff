/**
 * The authoritative lookup: question in, answer/authority/additional out,
 * following RFC 1034 §4.3.2 with the wildcard rules of RFC 4592, negative
 * answers of RFC 2308, CNAME rcodes of RFC 6604 and minimal ANY of RFC 8482.
 * Everything is a map lookup per label; nothing scans records.
 */
import { parentName } from './name.js';
import { RCODE, TYPE } from './codes.js';
import { TYPE_CODES } from './records.js';
import { wireRRset, type Placed, type RRset } from './rrset.js';
import { encodeName } from './wire-name.js';
import { firstRRset, rrsetAt, servedZone, type Snapshot, type Zone, type ZoneNode } from './zone.js';

/** How many CNAME/DNAME hops one answer follows; matches the limit resolvers and CoreDNS's file plugin use. */
export const MAX_CHAIN = 8;

const T = TYPE_CODES;

export type { Placed } from './rrset.js';

export interface Resolution {
  rcode: number;
  aa: boolean;
  answer: Placed[];
  authority: Placed[];
  additional: Placed[];
  /** The zone that answered, for metrics; undefined when refused. */
  zone?: string;
}

export function resolve(snapshot: Snapshot, qname: string, qtype: number, qnameWire?: Buffer): Resolution {
  const zone = zoneFor(snapshot, qname, qtype);
  if (!zone) return { rcode: RCODE.REFUSED, aa: false, answer: [], authority: [], additional: [] };
  const res: Resolution = { rcode: RCODE.NOERROR, aa: true, answer: [], authority: [], additional: [], zone: zone.apex };
  if (qtype === TYPE.AXFR || qtype === TYPE.IXFR) {
    // The grpc contract is unary: a zone transfer cannot be streamed back, so refuse it as a server without transfer does.
    res.rcode = RCODE.REFUSED;
    res.aa = false;
    return res;
  }
  lookup(snapshot, zone, qname, qtype, res, [qname], qnameWire);
  return res;
}

/**
 * The served zone that answers `qtype` at `name`: the most specific one,
 * except that DS at the apex of a zone whose parent we also serve belongs to
 * the parent's side of the cut (RFC 4035 §3.1.4.1).
 */
function zoneFor(snapshot: Snapshot, name: string, qtype: number): Zone | undefined {
  const zone = servedZone(snapshot, name);
  if (qtype !== TYPE.DS || !zone || zone.apex !== name || name === '') return zone;
  return servedZone(snapshot, parentName(name) as string) ?? zone;
}

/** A one-record CNAME RRset built here rather than through dns-packet, whose encoder would split an escaped label (see parentName). */
function cnameSet(owner: string, ttl: number, target: string, targetWire: Buffer): RRset<'CNAME'> {
  const ownerWire = encodeName(owner);
  const head = Buffer.alloc(10);
  head.writeUInt16BE(T.CNAME, 0);
  head.writeUInt16BE(1, 2);
  head.writeUInt32BE(ttl, 4);
  head.writeUInt16BE(targetWire.length, 8);
  // Its own buffer, not a slab's (wire-slab.ts): it lives for one query.
  const slab = Buffer.concat([ownerWire, head, targetWire]);
  return wireRRset(owner, 'CNAME', [target], slab, 0, slab.length);
}

/**
 * Answers `name` inside `zone`. `chain` holds the names visited through
 * CNAME/DNAME so far (loop guard). `ownerWire` is the name as the client wrote
 * it, used when a wildcard synthesizes records for it.
 */
function lookup(snap: Snapshot, zone: Zone, name: string, qtype: number, res: Resolution, chain: string[], ownerWire?: Buffer): void {
  if (zone.hasCuts || zone.hasDnames) {
    const stop = walkDown(snap, zone, name, qtype, res, chain);
    if (stop) return;
  }
  const node = zone.nodes.get(name);
  if (node) {
    answerFrom(snap, zone, node, qtype, res, chain);
    return;
  }
  // Closest encloser: the apex node always exists, so this ends inside the zone.
  let ce = parentName(name) as string;
  while (!zone.nodes.has(ce)) ce = parentName(ce) as string;
  const wild = zone.nodes.get(ce === '' ? '*' : `*.${ce}`);
  if (wild) {
    answerFrom(snap, zone, wild, qtype, res, chain, ownerWire ?? encodeName(name));
    return;
  }
  res.rcode = RCODE.NXDOMAIN;
  res.authority.push({ set: zone.negativeSoa });
}

/**
 * Looks at the names between the apex and `name`, top down, for a zone cut
 * (referral) or a DNAME (substitution). Returns true when that finished the answer.
 */
function walkDown(snap: Snapshot, zone: Zone, name: string, qtype: number, res: Resolution, chain: string[]): boolean {
  const ancestors: string[] = [];
  for (let n: string | undefined = name; n !== undefined && n !== zone.apex; n = parentName(n)) ancestors.push(n);
  for (let i = ancestors.length - 1; i >= 0; i--) {
    const a = ancestors[i] as string;
    const node = zone.nodes.get(a);
    if (!node) return false; // nothing exists below a missing name, so no cut or DNAME either
    if (node.cut && !(a === name && qtype === TYPE.DS)) {
      referral(node, res);
      return true;
    }
    const dname = a !== name ? rrsetAt(node, T.DNAME) : undefined;
    if (dname) {
      substitute(snap, dname, a, name, qtype, res, chain);
      return true;
    }
  }
  return false;
}

function referral(cut: ZoneNode, res: Resolution): void {
  const ns = rrsetAt(cut, T.NS) as RRset<'NS'>;
  // RFC 1034 §4.3.2 step 3b: a referral is not authoritative, unless a CNAME we own already answered part of it.
  if (res.answer.length === 0) res.aa = false;
  res.authority.push({ set: ns });
  additional(cut, ns, res);
}

function substitute(snap: Snapshot, dname: RRset, owner: string, name: string, qtype: number, res: Resolution, chain: string[]): void {
  res.answer.push({ set: dname });
  const target = (dname as RRset<'DNAME'>).data[0] ?? '';
  const prefix = name.slice(0, name.length - owner.length - (owner === '' ? 0 : 1));
  const synthesized = target === '' ? prefix : `${prefix}.${target}`;
  const synthesizedWire = encodeName(synthesized);
  if (synthesizedWire.length > 255) {
    res.rcode = RCODE.YXDOMAIN; // RFC 6672 §2.2
    return;
  }
  res.answer.push({ set: cnameSet(name, dname.ttl, synthesized, synthesizedWire) });
  follow(snap, synthesized, qtype, res, chain);
}

function answerFrom(snap: Snapshot, zone: Zone, node: ZoneNode, qtype: number, res: Resolution, chain: string[], owner?: Buffer): void {
  const placed = (set: RRset): Placed => (owner ? { set, owner } : { set });
  if (qtype === TYPE.ANY) {
    // RFC 8482 §4.2: one RRset is a complete answer to ANY.
    const first = firstRRset(node);
    if (first) {
      res.answer.push(placed(first));
      additional(node, first, res);
    } else {
      res.authority.push({ set: zone.negativeSoa });
    }
    return;
  }
  const set = rrsetAt(node, qtype);
  if (set) {
    res.answer.push(placed(set));
    additional(node, set, res);
    return;
  }
  const cname = rrsetAt(node, T.CNAME) as RRset<'CNAME'> | undefined;
  if (cname) {
    res.answer.push(placed(cname));
    follow(snap, cname.data[0] as string, qtype, res, chain);
    return;
  }
  res.authority.push({ set: zone.negativeSoa });
}

/** Continues an answer at a CNAME target, when we serve it; otherwise the resolver chases it. */
function follow(snap: Snapshot, target: string, qtype: number, res: Resolution, chain: string[]): void {
  if (chain.length > MAX_CHAIN || chain.includes(target)) return;
  const zone = zoneFor(snap, target, qtype);
  if (!zone) return;
  chain.push(target);
  lookup(snap, zone, target, qtype, res, chain);
}

/** Appends the addresses an MX, SRV or NS RRset brings (precomputed per snapshot), each once. */
function additional(node: ZoneNode, set: RRset, res: Resolution): void {
  const extra = node.additional.get(set);
  if (!extra) return;
  for (const p of extra) {
    if (res.additional.some((q) => q.set === p.set && q.owner === p.owner)) continue;
    if (!p.owner && res.answer.some((q) => q.set === p.set && !q.owner)) continue;
    res.additional.push(p);
  }
}
