/**
 * `crdns query`: asks a crdns (or anything speaking the CoreDNS grpc
 * contract) one question and prints the answer the way dig does, so an
 * operator can debug from inside the pod without CoreDNS in the way.
 * `--follow` walks NAPTR → SRV → address chains, the way a SIP client would.
 *
 * Exit status as dig's, except for usage errors, which exit 2 like every
 * crdns command: 0 when a reply came (whatever its rcode), 9 when none did.
 */
import * as grpc from '@grpc/grpc-js';
import dnsPacket from 'dns-packet';
import type { Answer, DecodedPacket, NaptrData, SrvData } from 'dns-packet';
import { presentName, presentRecord } from '../dns/presentation.js';
import { opcodeName, rcodeName, typeCode, typeName } from '../dns/codes.js';
import { parseName } from '../dns/name.js';
import { dnsServiceClient, MAX_GRPC_MESSAGE_BYTES } from '../server/protos.js';
import { parseAddress } from './addresses.js';
import { helpText, parseFlags, UsageError, type FlagSpec } from './options.js';
import { encodeQuery } from './query-message.js';

/** dig's status for "no reply from the server". */
export const EXIT_NO_REPLY = 9;

/** The server never replied: unreachable, not ready, timed out, or not a DnsService at all. */
export class NoReplyError extends Error {
  /** The gRPC status, so a caller can tell a deadline (DEADLINE_EXCEEDED) from a refusal. */
  constructor(message: string, readonly code?: grpc.status) {
    super(message);
  }
}

export const QUERY_FLAGS: FlagSpec[] = [
  { name: 'server', kind: 'string', arg: 'ADDR', default: '127.0.0.1:8053', help: 'crdns gRPC address, host:port or unix:///path' },
  { name: 'timeout', kind: 'int', arg: 'MS', default: '2000', min: 1, max: 3_600_000, help: 'give up after this many milliseconds' },
  { name: 'follow', kind: 'boolean', help: 'also resolve NAPTR replacements and SRV targets, step by step' },
  { name: 'no-edns', kind: 'boolean', help: 'send the query without an OPT record' },
];

export const QUERY_USAGE = helpText('crdns query [--server ADDR] [--follow] NAME [TYPE]', 'Sends one DNS query over gRPC and prints the reply like dig.', QUERY_FLAGS);

export interface QueryClient {
  /** `name` as a person writes it (parseName's rules), `type` a mnemonic, TYPEnnn or number. Throws a UsageError for either being unusable. */
  ask(name: string, type: string | number): Promise<DecodedPacket & { raw: Buffer }>;
  close(): void;
}

/** The question as it goes on the wire; a name or type that cannot be sent is a UsageError. */
export function question(name: string, type: string | number): { name: string; qtype: number } {
  const parsed = parseName(name, true);
  if (!parsed.ok) throw new UsageError(`NAME: ${parsed.reason}`);
  const qtype = typeof type === 'number' ? type : typeCode(type);
  if (qtype === undefined || !Number.isInteger(qtype) || qtype < 0 || qtype > 0xffff) {
    throw new UsageError(`unknown type ${JSON.stringify(String(type))}: use a mnemonic such as A, AAAA, SRV, NAPTR, HTTPS, or TYPEnnn (RFC 3597)`);
  }
  return { name: parsed.name, qtype };
}

export function queryClient(server: string, timeoutMs: number, edns = true): QueryClient {
  const Client = dnsServiceClient();
  const client = new Client(server, grpc.credentials.createInsecure(), {
    'grpc.max_receive_message_length': MAX_GRPC_MESSAGE_BYTES,
    'grpc.max_send_message_length': MAX_GRPC_MESSAGE_BYTES,
  }) as unknown as grpc.Client & { Query: (req: { msg: Buffer }, opts: grpc.CallOptions, cb: (err: grpc.ServiceError | null, res?: { msg: Buffer }) => void) => void };
  return {
    ask: (name, type) =>
      new Promise((resolve, reject) => {
        const q = question(name, type);
        const msg = encodeQuery(Math.floor(Math.random() * 65536), q.name, q.qtype, edns);
        client.Query({ msg }, { deadline: Date.now() + timeoutMs }, (err, res) => {
          if (err) return reject(new NoReplyError(`${server}: ${grpc.status[err.code]}: ${err.details}`, err.code));
          const raw = res?.msg ?? Buffer.alloc(0);
          try {
            resolve(Object.assign(dnsPacket.decode(raw), { raw }));
          } catch (e) {
            reject(new Error(`${server} sent a reply that does not decode: ${(e as Error).message}`));
          }
        });
      }),
    close: () => client.close(),
  };
}

/** dns-packet names types outside its table UNKNOWN_n; print them as crdns's table or RFC 3597 would. */
function presentType(t: string): string {
  const m = /^UNKNOWN_(\d+)$/.exec(t);
  return m ? typeName(Number(m[1])) : t;
}

export function formatReply(reply: DecodedPacket & { raw?: Buffer }, server: string, ms: number): string {
  // From the wire: dns-packet's decoded flags leave out QR.
  const flags = reply.raw && reply.raw.length >= 4 ? reply.raw.readUInt16BE(2) : (reply.flags ?? 0);
  const names = [['qr', 0x8000], ['aa', 0x400], ['tc', 0x200], ['rd', 0x100], ['ra', 0x80], ['ad', 0x20], ['cd', 0x10]] as const;
  const set = names.filter(([, bit]) => flags & bit).map(([n]) => n).join(' ');
  const opt = (reply.additionals ?? []).find((r) => r.type === 'OPT');
  const additional = (reply.additionals ?? []).filter((r) => r.type !== 'OPT');
  const section = (title: string, rows: string[]) => (rows.length ? `\n;; ${title} SECTION:\n${rows.join('\n')}` : '');
  const q = reply.questions ?? [];
  return [
    `;; ->>HEADER<<- opcode: ${opcodeName((flags >> 11) & 0xf)}, status: ${rcodeName(rcodeOf(reply))}, id: ${reply.id}`,
    `;; flags: ${set}; QUERY: ${q.length}, ANSWER: ${reply.answers?.length ?? 0}, AUTHORITY: ${reply.authorities?.length ?? 0}, ADDITIONAL: ${(reply.additionals ?? []).length}`,
    opt ? `;; OPT PSEUDOSECTION: EDNS: version: 0, udp: ${(opt as { udpPayloadSize?: number }).udpPayloadSize}` : '',
    section('QUESTION', q.map((x) => `;${presentName(x.name)}\t${x.class}\t${presentType(x.type)}`)),
    section('ANSWER', (reply.answers ?? []).map(presentRecord)),
    section('AUTHORITY', (reply.authorities ?? []).map(presentRecord)),
    section('ADDITIONAL', additional.map(presentRecord)),
    `\n;; Query time: ${ms} msec\n;; SERVER: ${server} (gRPC)\n`,
  ]
    .filter((s) => s !== '')
    .join('\n');
}

export function rcodeOf(reply: DecodedPacket): number {
  const opt = (reply.additionals ?? []).find((r) => r.type === 'OPT') as { extendedRcode?: number } | undefined;
  return ((opt?.extendedRcode ?? 0) << 4) | ((reply.flags ?? 0) & 0xf);
}

/** The next questions a client would ask after this answer: NAPTR → SRV or A/AAAA, SRV → A/AAAA. */
export function nextSteps(answers: readonly Answer[]): [string, string][] {
  const steps: [string, string][] = [];
  for (const rr of answers) {
    if (rr.type === 'NAPTR') {
      const d = rr.data as NaptrData;
      const target = d.replacement;
      if (!target || target === '.') continue;
      const flag = d.flags.toLowerCase();
      if (flag === 's') steps.push([target, 'SRV']);
      else if (flag === 'a') steps.push([target, 'A'], [target, 'AAAA']);
    } else if (rr.type === 'SRV') {
      const t = (rr.data as SrvData).target;
      if (t && t !== '.') steps.push([t, 'A'], [t, 'AAAA']);
    }
  }
  return steps;
}

export async function query(argv: readonly string[], env: NodeJS.ProcessEnv, out: (s: string) => void = (s) => process.stdout.write(s)): Promise<number> {
  const { values: v, positionals } = parseFlags(QUERY_FLAGS, argv, env);
  if (v.help) {
    out(QUERY_USAGE);
    return 0;
  }
  const [nameArg, typeArg = 'A', ...rest] = positionals;
  if (!nameArg) throw new UsageError('a NAME to query is required');
  if (rest.length > 0) throw new UsageError(`unexpected argument "${rest[0]}"`);
  const first = question(nameArg, typeArg);
  const server = v.server as string;
  parseAddress('server', server, { unix: true });
  const client = queryClient(server, v.timeout as number, !v['no-edns']);
  try {
    const queue: [string, number][] = [[first.name, first.qtype]];
    const seen = new Set<string>();
    while (queue.length > 0) {
      const [n, t] = queue.shift() as [string, number];
      const key = `${n}|${t}`;
      if (seen.has(key) || seen.size >= 32) continue;
      seen.add(key);
      const started = Date.now();
      let reply;
      try {
        reply = await client.ask(n, t);
      } catch (err) {
        if (!(err instanceof NoReplyError)) throw err;
        process.stderr.write(`;; no reply from ${err.message}\n`);
        return EXIT_NO_REPLY;
      }
      if (seen.size > 1) out(`\n;; --follow: ${presentName(n)} ${typeName(t)}\n`);
      out(formatReply(reply, server, Date.now() - started));
      if (v.follow) {
        for (const [name, type] of nextSteps(reply.answers ?? [])) {
          const p = parseName(name);
          if (p.ok) queue.push([p.name, typeCode(type) as number]);
        }
      }
    }
    return 0;
  } finally {
    client.close();
  }
}
