/**
 * The NSD differential corpus (test/integration/differential/), run through
 * stock CoreDNS in front of crdns, over TCP and over UDP. CoreDNS runs a
 * minimal Corefile without cache (a cache rewrites TTLs and AA, see
 * support.ts `differences`) so what is measured is the grpc path itself.
 *
 * Two scores are printed:
 *  - CoreDNS→crdns against NSD: the end-to-end answer a DNS client gets,
 *    judged exactly as the direct crdns-vs-NSD test judges crdns (same
 *    softening rules, same allow-list);
 *  - CoreDNS→crdns against crdns over gRPC: what CoreDNS itself changes.
 *    Expected: nothing the comparison can see. CoreDNS re-encodes (name
 *    compression may differ) and rewrites the OPT record (UDP size), which
 *    the views ignore.
 * Over UDP only the EDNS cases of the corpus are asked (they advertise 4096
 * bytes): without EDNS a client is limited to 512 bytes and CoreDNS
 * truncates, which records.test.ts covers.
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startCoreDNS, type CorednsProcess } from '../../harness/coredns.js';
import { startCrdns, type CrdnsProcess } from '../../harness/crdns-process.js';
import { startNsd, type NsdProcess } from '../../harness/nsd.js';
import { ALLOW_LIST } from '../differential/allow-list.js';
import { decodeReply, formatReport, rcodeName, runDifferential, scoreLine, type Ask, type DifferentialReport } from '../differential/compare.js';
import { buildCorpus, type QueryCase } from '../differential/corpus.js';
import { specialCases } from '../differential/special.js';
import { crdnsZoneArgs, loadFixture, writeManifests, type Fixture } from '../differential/fixture.js';
import { grpcAsker, tcpAsker, udpAsker, type Asker } from '../differential/transports.js';
import { socketPath } from './support.js';

/** The grpc path and nothing else: no cache, no log (1,600+ queries), errors kept for diagnosis. */
const COREFILE = `.:{$COREDNS_PORT} {
    bind {$COREDNS_BIND}
    errors
    grpc . unix://{$CRDNS_SOCKET}
}
`;

/**
 * Malformed and unusual messages that CoreDNS answers (or drops) itself,
 * before crdns sees them; every other special message reaches crdns and its
 * answer passes through unchanged.
 */
const COREDNS_OWN_ANSWERS: Record<string, { coredns: string; why: string }> = {
  'QR bit set (a response sent as a query)': {
    coredns: 'no reply',
    why: 'miekg/dns DefaultMsgAcceptFunc ignores messages with QR set, so CoreDNS drops them (RFC 1035 §7.3 discards responses too)',
  },
  'header only, QDCOUNT 1': {
    coredns: 'SERVFAIL',
    why: 'the message unpacks to no question and core/dnsserver answers SERVFAIL for a request without a question; crdns would say FORMERR',
  },
};

async function describe1(ask: Ask, message: Buffer): Promise<string> {
  let reply: Buffer;
  try {
    reply = await ask(message);
  } catch {
    return 'no reply';
  }
  if (reply.length < 12) return `short reply (${reply.length} bytes)`;
  const flags = reply.readUInt16BE(2);
  let rcode = flags & 0xf;
  try {
    const opt = (decodeReply(reply).additionals ?? []).find((r) => r.type === 'OPT') as { extendedRcode?: number } | undefined;
    rcode |= (opt?.extendedRcode ?? 0) << 4;
  } catch {
    // the header is enough for a reply to a malformed message
  }
  return `${rcodeName(rcode)}${flags & 0x400 ? ' aa' : ''}`;
}

describe('differential through CoreDNS: the NSD corpus via CoreDNS → crdns', function () {
  this.timeout(900000);
  let fixture: Fixture;
  let work: string;
  let nsd: NsdProcess | undefined;
  let crdns: CrdnsProcess | undefined;
  let coredns: CorednsProcess | undefined;
  const askers: Asker[] = [];
  const reports: string[] = [];

  before(async () => {
    fixture = loadFixture();
    work = await mkdtemp(path.join(tmpdir(), 'crdns-coredns-differential-'));
    const manifests = path.join(work, 'manifests');
    await writeManifests(fixture, manifests);
    nsd = await startNsd({ zones: fixture.zones.map((z) => ({ name: z.apex, file: z.file })) });
    crdns = await startCrdns({ zones: fixture.zones.map((z) => z.apex), manifests, args: crdnsZoneArgs() });
    coredns = await startCoreDNS({ corefileText: COREFILE, env: { CRDNS_SOCKET: socketPath(crdns) } });
  });

  after(async () => {
    for (const a of askers) a.close();
    await coredns?.stop();
    await crdns?.stop();
    await nsd?.stop();
    if (work) await rm(work, { recursive: true, force: true });
    if (reports.length) console.log(`      ${reports.join('\n      ')}`);
  });

  function asker(a: Asker): Asker {
    askers.push(a);
    return a;
  }

  async function runAndReport(name: string, corpus: QueryCase[], reference: Asker, referenceName: string, subject: Asker, subjectName: string, allowList: typeof ALLOW_LIST): Promise<DifferentialReport> {
    const report = await runDifferential({ corpus, reference: reference.ask, subject: subject.ask, referenceName, subjectName, apexes: fixture.zones.map((z) => z.apex), allowList, normaliseReference: referenceName === 'NSD' });
    const dir = path.join(tmpdir(), 'crdns-differential');
    await mkdir(dir, { recursive: true });
    const file = path.join(dir, `coredns-${name}.txt`);
    await writeFile(file, `${formatReport(report)}\n`);
    reports.push(`${scoreLine(report)}  (report: ${file})`);
    console.log(`      ${scoreLine(report)}\n      full report: ${file}`);
    return report;
  }

  const tcp = () => tcpAsker((coredns as CorednsProcess).host, (coredns as CorednsProcess).port);
  const udp = () => udpAsker((coredns as CorednsProcess).host, (coredns as CorednsProcess).port);

  it('over TCP, CoreDNS changes nothing crdns answers (compared with crdns over gRPC)', async () => {
    const r = await runAndReport('tcp-vs-grpc', buildCorpus(fixture), asker(grpcAsker((crdns as CrdnsProcess).addresses[0] as string)), 'crdns gRPC', asker(tcp()), 'CoreDNS TCP', []);
    assert.equal(r.mismatches.length, 0, `${r.mismatches.length} replies changed by CoreDNS`);
  });

  /**
   * Judged against NSD, through CoreDNS, the replies must score as crdns's
   * own do: any reply that differs from NSD's through CoreDNS must differ the
   * same way when crdns is asked directly. (Whether crdns itself matches NSD
   * is test/integration/differential's business; this test is about what
   * CoreDNS adds.)
   */
  async function throughCoreDnsVsNsd(name: string, subject: Asker, subjectName: string, corpus: QueryCase[]): Promise<void> {
    const nsdAsk = asker(tcpAsker((nsd as NsdProcess).host, (nsd as NsdProcess).port));
    const direct = await runAndReport(`${name}-direct`, corpus, nsdAsk, 'NSD', asker(grpcAsker((crdns as CrdnsProcess).addresses[0] as string)), 'crdns gRPC (same corpus)', ALLOW_LIST);
    const via = await runAndReport(name, corpus, nsdAsk, 'NSD', subject, subjectName, ALLOW_LIST);
    const directDiffs = new Map(direct.mismatches.map((m) => [m.case.id, m.diffs.join('; ')]));
    const added = via.mismatches.filter((m) => directDiffs.get(m.case.id) !== m.diffs.join('; ').replaceAll(subjectName, 'crdns gRPC (same corpus)'));
    assert.deepEqual(added.map((m) => `${m.case.id}: ${m.diffs.join('; ')}`), [], 'differences from NSD that only appear through CoreDNS');
    assert.equal(via.mismatches.length, direct.mismatches.length);
  }

  it('over TCP, CoreDNS → crdns scores against NSD exactly as crdns does directly', async () => {
    await throughCoreDnsVsNsd('tcp-vs-nsd', asker(tcp()), 'CoreDNS TCP', buildCorpus(fixture));
  });

  it('special messages (transfers, opcodes, malformed): CoreDNS passes crdns\'s answer on, except the ones it answers itself', async () => {
    const direct = asker(grpcAsker((crdns as CrdnsProcess).addresses[0] as string, 2000));
    const problems: string[] = [];
    const lines: string[] = [];
    for (const transport of ['TCP', 'UDP'] as const) {
      const via = asker(transport === 'TCP' ? tcpAsker((coredns as CorednsProcess).host, (coredns as CorednsProcess).port, 2000) : udpAsker((coredns as CorednsProcess).host, (coredns as CorednsProcess).port, 2000));
      for (const c of specialCases()) {
        const mine = await describe1(direct.ask, c.message);
        const theirs = await describe1(via.ask, c.message);
        const own = COREDNS_OWN_ANSWERS[c.name];
        const expected = own ? own.coredns : mine;
        lines.push(`${transport} ${c.name}: crdns ${mine}, through CoreDNS ${theirs}${own ? ` (CoreDNS's own: ${own.why})` : ''}`);
        if (theirs !== expected) problems.push(`${transport} ${c.name}: expected ${expected} through CoreDNS, got ${theirs} (crdns: ${mine})`);
      }
    }
    reports.push(`special messages through CoreDNS: ${lines.length - problems.length}/${lines.length} as expected`);
    assert.deepEqual(problems, [], lines.join('\n'));
  });

  it('over UDP with a 4096-byte EDNS buffer, CoreDNS → crdns scores against NSD exactly as crdns does directly', async () => {
    await throughCoreDnsVsNsd('udp-vs-nsd', asker(udp()), 'CoreDNS UDP', buildCorpus(fixture).filter((c) => c.edns));
  });
});
