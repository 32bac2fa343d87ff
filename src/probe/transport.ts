/**
 * Asking one server for one A record, over UDP or TCP as a stub resolver
 * does. gRPC (crdns itself, without CoreDNS in front) is wired in by the
 * command from `crdns query`'s client, so this module stays below cli/.
 *
 * A transport never throws for what a server does: every outcome is a Reply,
 * because a refused connection is as much a result of a chaos run as an answer.
 */
import dgram from 'node:dgram';
import net from 'node:net';
import dnsPacket from 'dns-packet';
import type { Packet } from 'dns-packet';

export type Reply =
  | { kind: 'answer'; rcode: number; addresses: string[] }
  | { kind: 'timeout' }
  | { kind: 'error'; reason: string };

export interface Transport {
  /** `name` canonical (lowercase, no trailing dot). Resolves within the timeout, never rejects. */
  ask(name: string): Promise<Reply>;
  close(): void;
}

export type Scheme = 'udp' | 'tcp' | 'grpc' | 'unix';

export interface ServerTarget {
  /** As given on the command line, the server's name in metrics and the summary. */
  text: string;
  scheme: Scheme;
  /** For udp, tcp and grpc. */
  host: string;
  port: number;
  /** For unix (gRPC over a unix socket). */
  path: string;
  /** Ask only the names of these clusters; undefined: every cluster's. */
  clusters: string[] | undefined;
}

const DEFAULT_PORTS: Record<Scheme, number> = { udp: 53, tcp: 53, grpc: 8053, unix: 0 };

/**
 * `udp://HOST[:PORT]`, `tcp://…`, `grpc://HOST:PORT`, `unix:///path`; an
 * optional `?clusters=a,b` limits the names asked. Hosts are IP addresses:
 * a probe that resolves its servers' names would measure a second resolver.
 * Throws a TypeError saying what is wrong.
 */
export function parseServer(text: string): ServerTarget {
  const bad = (why: string) => new TypeError(`${JSON.stringify(text)}: ${why}`);
  const m = /^(udp|tcp|grpc|unix):\/\/([^?]*)(?:\?(.*))?$/.exec(text);
  if (!m) throw bad('must be udp://HOST[:PORT], tcp://HOST[:PORT], grpc://HOST:PORT or unix:///PATH, optionally ?clusters=A,B');
  const scheme = m[1] as Scheme;
  const rest = m[2] as string;
  let clusters: string[] | undefined;
  if (m[3] !== undefined) {
    const params = new URLSearchParams(m[3]);
    for (const key of params.keys()) if (key !== 'clusters') throw bad(`unknown parameter "${key}" (only clusters=A,B)`);
    clusters = (params.get('clusters') ?? '').split(',').map((c) => c.trim()).filter((c) => c !== '');
    if (clusters.length === 0) throw bad('clusters= names no cluster');
  }
  if (scheme === 'unix') {
    if (!rest.startsWith('/')) throw bad('the socket path must be absolute: unix:///absolute/path');
    return { text, scheme, host: '', port: 0, path: rest, clusters };
  }
  const hp = /^(?:\[([^\]]+)\]|([^:[\]]+))(?::(\d{1,5}))?$/.exec(rest);
  if (!hp) throw bad('expected HOST or HOST:PORT ([IPv6]:PORT)');
  const host = (hp[1] ?? hp[2]) as string;
  if (net.isIP(host) === 0) throw bad(`"${host}" is not an IP address`);
  if (hp[1] !== undefined && net.isIP(host) !== 6) throw bad(`"${host}" in brackets is not an IPv6 address`);
  const port = hp[3] !== undefined ? Number(hp[3]) : DEFAULT_PORTS[scheme];
  if (scheme === 'grpc' && hp[3] === undefined) throw bad('a grpc:// server needs a port');
  if (port < 1 || port > 65535) throw bad(`port ${port} is not from 1 to 65535`);
  return { text, scheme, host, port, path: '', clusters };
}

/** The A records for `name` in a decoded reply (CNAMEs and other owners are no answer to a probe). */
export function replyOf(packet: Packet, name: string): Reply {
  const rcode = (packet.flags ?? 0) & 0xf;
  const addresses: string[] = [];
  for (const a of packet.answers ?? []) {
    if (a.type === 'A' && a.name.toLowerCase().replace(/\.$/, '') === name && typeof a.data === 'string') addresses.push(a.data);
  }
  return { kind: 'answer', rcode, addresses };
}

function queryBytes(id: number, name: string): Buffer {
  // RD set, as every stub sets it, so a probe pointed at a recursive resolver (kube-dns) measures what pods see.
  return dnsPacket.encode({ type: 'query', id, flags: dnsPacket.RECURSION_DESIRED, questions: [{ name, type: 'A', class: 'IN' }] });
}

function decodeFor(msg: Buffer, name: string): Reply {
  try {
    return replyOf(dnsPacket.decode(msg), name);
  } catch (err) {
    return { kind: 'error', reason: `reply does not decode: ${(err as Error).message}` };
  }
}

/** One socket for every query to the server, replies matched by ID and question, as a stub does. */
export function udpTransport(host: string, port: number, timeoutMs: number): Transport {
  const socket = dgram.createSocket(net.isIPv6(host) ? 'udp6' : 'udp4');
  const pending = new Map<number, { name: string; done: (r: Reply) => void }>();
  socket.on('message', (msg) => {
    if (msg.length < 12) return;
    const p = pending.get(msg.readUInt16BE(0));
    if (!p) return; // late reply after its timeout, or not ours
    let packet: Packet;
    try {
      packet = dnsPacket.decode(msg);
    } catch (err) {
      return p.done({ kind: 'error', reason: `reply does not decode: ${(err as Error).message}` });
    }
    // A reply to another question under a reused ID is not this query's answer.
    const q = packet.questions?.[0]?.name.toLowerCase().replace(/\.$/, '');
    if (q !== undefined && q !== p.name) return;
    const r = replyOf(packet, p.name);
    p.done(r);
  });
  // Errors on an unconnected UDP socket are transient (ICMP, ENOBUFS): the query they belong to times out.
  socket.on('error', () => undefined);
  let closed = false;
  return {
    ask: (name) =>
      new Promise<Reply>((resolve) => {
        if (closed) return resolve({ kind: 'error', reason: 'transport closed' });
        let id = Math.floor(Math.random() * 65536);
        for (let tries = 0; pending.has(id) && tries < 65536; tries++) id = (id + 1) & 0xffff;
        if (pending.has(id)) return resolve({ kind: 'error', reason: 'no free query ID (65536 queries in flight)' });
        const timer = setTimeout(() => finish({ kind: 'timeout' }), timeoutMs);
        const finish = (r: Reply) => {
          clearTimeout(timer);
          pending.delete(id);
          resolve(r);
        };
        pending.set(id, { name, done: finish });
        socket.send(queryBytes(id, name), port, host, (err) => {
          if (err) finish({ kind: 'error', reason: `send: ${err.message}` });
        });
      }),
    close: () => {
      closed = true;
      for (const p of pending.values()) p.done({ kind: 'error', reason: 'transport closed' });
      socket.close();
    },
  };
}

/** A connection per query: what a client falling back to TCP does, and no reconnect state to get wrong. */
export function tcpTransport(host: string, port: number, timeoutMs: number): Transport {
  const open = new Set<net.Socket>();
  return {
    ask: (name) =>
      new Promise<Reply>((resolve) => {
        const id = Math.floor(Math.random() * 65536);
        const conn = net.createConnection({ host, port });
        open.add(conn);
        let buf = Buffer.alloc(0);
        let settled = false;
        const finish = (r: Reply) => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          open.delete(conn);
          conn.destroy();
          resolve(r);
        };
        const timer = setTimeout(() => finish({ kind: 'timeout' }), timeoutMs);
        conn.on('error', (err) => finish({ kind: 'error', reason: err.message }));
        conn.on('connect', () => {
          const q = queryBytes(id, name);
          const len = Buffer.alloc(2);
          len.writeUInt16BE(q.length, 0);
          conn.write(Buffer.concat([len, q]));
        });
        conn.on('data', (d: Buffer) => {
          buf = Buffer.concat([buf, d]);
          if (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) finish(decodeFor(buf.subarray(2, 2 + buf.readUInt16BE(0)), name));
        });
        conn.on('end', () => finish({ kind: 'error', reason: 'connection closed before a full reply' }));
      }),
    close: () => {
      for (const c of open) c.destroy();
    },
  };
}

/** A dialer for a target; gRPC targets come from the command, which owns the gRPC client. */
export type Dialer = (target: ServerTarget, timeoutMs: number) => Transport;

export function dialDns(target: ServerTarget, timeoutMs: number): Transport {
  if (target.scheme === 'udp') return udpTransport(target.host, target.port, timeoutMs);
  if (target.scheme === 'tcp') return tcpTransport(target.host, target.port, timeoutMs);
  throw new Error(`${target.text}: no DNS transport for ${target.scheme}`);
}
