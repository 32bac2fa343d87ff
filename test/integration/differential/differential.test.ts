/**
 * DNS correctness of crdns, measured against NSD: both serve the same zone
 * data (zone files for NSD, the same records converted to DNSEndpoint
 * manifests for crdns), both get the same corpus of queries, and every reply
 * must be identical apart from the documented softening rules and the
 * allow-list. The full report goes to the test output and to a file under
 * the OS temp folder (its path is printed).
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startCrdns, type CrdnsProcess } from '../../harness/crdns-process.js';
import { startNsd, type NsdProcess } from '../../harness/nsd.js';
import { ALLOW_LIST } from './allow-list.js';
import { formatReport, runDifferential, scoreLine, type DifferentialReport } from './compare.js';
import { buildCorpus } from './corpus.js';
import { apexDisagreements, crdnsZoneArgs, loadFixture, writeManifests, type Fixture } from './fixture.js';
import { formatSpecialReport, runSpecialCases } from './special.js';
import { grpcAsker, tcpAsker, type Asker } from './transports.js';

describe('differential: crdns answers as NSD does', function () {
  this.timeout(600000);
  let fixture: Fixture;
  let work: string;
  let nsd: NsdProcess | undefined;
  let crdns: CrdnsProcess | undefined;
  let nsdAsk: Asker | undefined;
  let crdnsAsk: Asker | undefined;

  before(async () => {
    fixture = loadFixture();
    work = await mkdtemp(path.join(tmpdir(), 'crdns-differential-'));
    const manifests = path.join(work, 'manifests');
    await writeManifests(fixture, manifests);
    nsd = await startNsd({ zones: fixture.zones.map((z) => ({ name: z.apex, file: z.file })) });
    crdns = await startCrdns({ zones: fixture.zones.map((z) => z.apex), manifests, args: crdnsZoneArgs() });
    nsdAsk = tcpAsker(nsd.host, nsd.port);
    crdnsAsk = grpcAsker(crdns.addresses[0] as string);
  });

  after(async () => {
    nsdAsk?.close();
    crdnsAsk?.close();
    await crdns?.stop();
    await nsd?.stop();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('the zone files hold the SOA and apex NS that crdns synthesizes', () => {
    assert.deepEqual(apexDisagreements(fixture), []);
  });

  it('crdns accepted every endpoint converted from the zone files', () => {
    const complaints = (crdns as CrdnsProcess)
      .logs()
      .split('\n')
      .filter((l) => /"level":"(warn|error)"/.test(l));
    assert.deepEqual(complaints, [], 'crdns logged warnings about the converted manifests');
  });

  it('the corpus holds at least 500 queries', () => {
    const corpus = buildCorpus(fixture);
    assert.ok(corpus.length >= 500, `only ${corpus.length} queries`);
    assert.equal(new Set(corpus.map((c) => c.id)).size, corpus.length, 'query ids are unique');
  });

  it('every reply is identical to NSD\'s (or on the documented allow-list)', async () => {
    const report: DifferentialReport = await runDifferential({
      corpus: buildCorpus(fixture),
      reference: (nsdAsk as Asker).ask,
      subject: (crdnsAsk as Asker).ask,
      referenceName: 'NSD',
      subjectName: 'crdns',
      apexes: fixture.zones.map((z) => z.apex),
      allowList: ALLOW_LIST,
    });
    const text = formatReport(report);
    const dir = path.join(tmpdir(), 'crdns-differential');
    await mkdir(dir, { recursive: true });
    const file = path.join(dir, 'nsd-report.txt');
    await writeFile(file, `${text}\n`);
    await writeFile(path.join(dir, 'nsd-report.json'), `${JSON.stringify(report, null, 2)}\n`);
    console.log(`      ${scoreLine(report)}\n      full report: ${file}`);
    if (report.mismatches.length > 0 || report.unusedAllowEntries.length > 0) console.log(text);
    assert.equal(report.mismatches.length, 0, `${report.mismatches.length} replies differ from NSD's; see ${file}`);
    assert.deepEqual(report.unusedAllowEntries.map((e) => String(e.id)), [], 'allow-list entries that match nothing must be removed');
  });

  it('zone transfers, other opcodes and malformed messages get the RFC rcodes (and NSD\'s where it agrees)', async () => {
    const results = await runSpecialCases((nsdAsk as Asker).ask, (crdnsAsk as Asker).ask);
    const text = formatSpecialReport(results);
    const dir = path.join(tmpdir(), 'crdns-differential');
    await mkdir(dir, { recursive: true });
    await writeFile(path.join(dir, 'nsd-special.txt'), `${text}\n`);
    const failures = results.filter((r) => r.problems.length > 0);
    if (failures.length) console.log(text);
    assert.deepEqual(failures.map((f) => `${f.case.name}: ${f.problems.join('; ')}`), []);
  });
});
