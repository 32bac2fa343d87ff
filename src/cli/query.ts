/**
 * `crdns query`: asks a crdns (or anything speaking the CoreDNS grpc
 * contract) one question and prints the answer the way dig does, so an
 * operator can debug from inside the pod without CoreDNS in the way.
 * `--follow` walks NAPTR → SRV → address chains, the way a SIP client would.
 */
import * as grpc from '@grpc/grpc-js';
import dnsPacket from 'dns-packet';
import type { Answer, DecodedPacket, NaptrData, SrvData } from 'dns-packet';
import { presentName, presentRecord } from '../dns/presentation.js';
import { opcodeName, rcodeName } from '../dns/codes.js';
import { dnsServiceClient, MAX_GRPC_MESSAGE_BYTES } from '../server/protos.js';
import { helpText, parseFlags, UsageError, type FlagSpec } from './options.js';

export const QUERY_FLAGS: FlagSpec[] = [
  { name: 'server', kind: 'string', arg: 'ADDR', default: '127.0.0.1:8053', help: 'crdns gRPC address, host:port or unix:///path' },
  { name: 'timeout', kind: 'int', arg: 'MS', default: '2000', help: 'give up after this many milliseconds' },
  { name: 'follow', kind: 'boolean', help: 'also resolve NAPTR replacements and SRV targets, step by step' },
  { name: 'no-edns', kind: 'boolean', help: 'send the query without an OPT record' },
];

export const QUERY_USAGE = helpText('crdns query [--server ADDR] [--follow] NAME [TYPE]', 'Sends one DNS query over gRPC and prints the reply like dig.', QUERY_FLAGS);

export interface QueryClient {
  ask(name: string, type: string): Promise<DecodedPacket & { raw: Buffer }>;
  close(): void;
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
        const msg = dnsPacket.encode({
          type: 'query',
          id: Math.floor(Math.random() * 65536),
          flags: 0,
          questions: [{ name, type: type as never, class: 'IN' }],
          ...(edns ? { additionals: [{ type: 'OPT', name: '.', udpPayloadSize: 1232 } as never] } : {}),
        });
        client.Query({ msg }, { deadline: Date.now() + timeoutMs }, (err, res) => {
          if (err) return reject(new Error(`${server}: ${grpc.status[err.code]}: ${err.details}`));
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

export function formatReply(reply: DecodedPacket, server: string, ms: number): string {
  const flags = reply.flags ?? 0;
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
    section('QUESTION', q.map((x) => `;${presentName(x.name)}\t${x.class}\t${x.type}`)),
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
  const [name, type = 'A', ...rest] = positionals;
  if (!name) throw new UsageError('a NAME to query is required');
  if (rest.length > 0) throw new UsageError(`unexpected argument "${rest[0]}"`);
  const server = v.server as string;
  const client = queryClient(server, v.timeout as number, !v['no-edns']);
  try {
    const queue: [string, string][] = [[name, type.toUpperCase()]];
    const seen = new Set<string>();
    let status = 0;
    while (queue.length > 0) {
      const [n, t] = queue.shift() as [string, string];
      const key = `${n.toLowerCase()}|${t}`;
      if (seen.has(key) || seen.size >= 32) continue;
      seen.add(key);
      const started = Date.now();
      const reply = await client.ask(n, t);
      if (seen.size > 1) out(`\n;; --follow: ${presentName(n)} ${t}\n`);
      out(formatReply(reply, server, Date.now() - started));
      if (seen.size === 1) status = rcodeOf(reply) === 0 ? 0 : 1;
      if (v.follow) queue.push(...nextSteps(reply.answers ?? []));
    }
    return status;
  } finally {
    client.close();
  }
}
