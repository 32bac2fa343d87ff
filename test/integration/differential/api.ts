/**
 * The differential test as a library, for any way of reaching crdns.
 *
 * A server under test is an `Ask`: `(query: Buffer) => Promise<Buffer>`, one
 * DNS message in, the reply message out. The reference is NSD serving the
 * fixture zone files over TCP. Typical use (CoreDNS in front of crdns):
 *
 *   import { prepareNsdReference, tcpAsker, formatReport, scoreLine } from './api.js';
 *
 *   const ref = await prepareNsdReference();          // loads the fixture, writes manifests, starts NSD
 *   const crdns = await startCrdns({ zones: ref.zones, manifests: ref.manifestsDir, args: ref.crdnsArgs });
 *   // … start CoreDNS with `grpc . <crdns address>` on 127.0.0.1:PORT …
 *   const viaCoreDns = tcpAsker('127.0.0.1', PORT);   // or udpAsker (EDNS queries ask for 4096 bytes;
 *                                                      // queries without EDNS may come back TC=1 over UDP)
 *   const report = await ref.run(viaCoreDns.ask, { subjectName: 'CoreDNS+crdns' });
 *   console.log(scoreLine(report)); if (report.mismatches.length) console.log(formatReport(report));
 *   const special = await ref.runSpecial(viaCoreDns.ask);  // AXFR, opcodes, malformed messages
 *   viaCoreDns.close(); await crdns.stop(); await ref.close();
 *
 * `ref.run(ask, opts)` sends every corpus query (see corpus.ts; `opts.corpus`
 * narrows it) to NSD and to `ask`, one at a time, and returns a
 * DifferentialReport (compare.ts): `total`, `identical`, `anyRrset` (ANY
 * answered with another complete RRset, RFC 8482), `allowed` (matched an
 * ALLOW_LIST entry, pass `opts.allowList` to use another list), `mismatches`
 * (Outcome[] with both replies as views and the differences as text) and
 * `unusedAllowEntries`. It never throws for a server's failure: a timeout is a
 * mismatch. The views normalise only: names lowercased, SOA serial 0, section
 * order, and NSD's apex NS in the authority of positive answers (compare.ts
 * normaliseReference). `runDifferential` runs any two Asks against each
 * other; `runSpecialCases` the table of special messages (special.ts).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startNsd, type NsdProcess } from '../../harness/nsd.js';
import { ALLOW_LIST } from './allow-list.js';
import { runDifferential, type AllowEntry, type Ask, type DifferentialReport } from './compare.js';
import { buildCorpus, type QueryCase } from './corpus.js';
import { crdnsZoneArgs, loadFixture, writeManifests, type Fixture } from './fixture.js';
import { runSpecialCases, type SpecialResult } from './special.js';
import { tcpAsker, type Asker } from './transports.js';

export { ALLOW_LIST } from './allow-list.js';
export { diffViews, formatReport, runDifferential, scoreLine, viewOf, type AllowEntry, type Ask, type DifferentialReport, type Outcome, type ReplyView } from './compare.js';
export { buildCorpus, type QueryCase } from './corpus.js';
export { apexDisagreements, crdnsZoneArgs, loadFixture, writeManifests, type Fixture } from './fixture.js';
export { formatSpecialReport, runSpecialCases, specialCases, type SpecialCase, type SpecialResult } from './special.js';
export { grpcAsker, tcpAsker, udpAsker, type Asker } from './transports.js';
export { encodeQuery, type QuerySpec } from './wire.js';

export interface RunOptions {
  subjectName?: string;
  corpus?: readonly QueryCase[];
  allowList?: readonly AllowEntry[];
}

export interface NsdReference {
  fixture: Fixture;
  /** Zone apexes, for `--zone`. */
  zones: string[];
  /** The fixture as DNSEndpoint manifests (one JSON file per zone), for `--manifests`. */
  manifestsDir: string;
  /** `--ns`/`--soa-*` flags that make crdns synthesize the zone files' SOA and apex NS. */
  crdnsArgs: string[];
  corpus: QueryCase[];
  nsd: NsdProcess;
  /** Asks NSD over TCP. */
  ask: Ask;
  run(subject: Ask, opts?: RunOptions): Promise<DifferentialReport>;
  runSpecial(subject: Ask): Promise<SpecialResult[]>;
  /** Stops NSD and removes the manifests folder. */
  close(): Promise<void>;
}

export async function prepareNsdReference(): Promise<NsdReference> {
  const fixture = loadFixture();
  const work = await mkdtemp(path.join(tmpdir(), 'crdns-differential-'));
  const manifestsDir = path.join(work, 'manifests');
  let nsd: NsdProcess | undefined;
  let asker: Asker | undefined;
  try {
    await writeManifests(fixture, manifestsDir);
    nsd = await startNsd({ zones: fixture.zones.map((z) => ({ name: z.apex, file: z.file })) });
    asker = tcpAsker(nsd.host, nsd.port);
  } catch (err) {
    await nsd?.stop();
    await rm(work, { recursive: true, force: true });
    throw err;
  }
  const started = nsd;
  const ask = asker.ask;
  const zones = fixture.zones.map((z) => z.apex);
  const corpus = buildCorpus(fixture);
  return {
    fixture,
    zones,
    manifestsDir,
    crdnsArgs: crdnsZoneArgs(),
    corpus,
    nsd: started,
    ask,
    run: (subject, opts = {}) =>
      runDifferential({
        corpus: opts.corpus ?? corpus,
        reference: ask,
        subject,
        referenceName: 'NSD',
        subjectName: opts.subjectName ?? 'crdns',
        apexes: zones,
        allowList: opts.allowList ?? ALLOW_LIST,
      }),
    runSpecial: (subject) => runSpecialCases(ask, subject),
    close: async () => {
      asker?.close();
      await started.stop();
      await rm(work, { recursive: true, force: true });
    },
  };
}
