/**
 * DNS correctness of crdns, measured against NSD: both serve the same zone
 * data (zone files for NSD, the same records converted to DNSEndpoint
 * manifests for crdns), both get the same corpus of queries, and every reply
 * must be identical apart from the documented softening rules and the
 * allow-list. crdns is asked over its gRPC contract, NSD over TCP. The full
 * report goes to the test output and to files under the OS temp folder
 * (their paths are printed). docs/differential.md explains it all.
 */
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startCrdns, type CrdnsProcess } from '../../harness/crdns-process.js';
import { apexDisagreements, formatReport, formatSpecialReport, grpcAsker, prepareNsdReference, scoreLine, type Asker, type NsdReference } from './api.js';

const REPORT_DIR = path.join(tmpdir(), 'crdns-differential');

describe('differential: crdns answers as NSD does', function () {
  this.timeout(600000);
  let ref: NsdReference | undefined;
  let crdns: CrdnsProcess | undefined;
  let crdnsAsk: Asker | undefined;

  before(async () => {
    ref = await prepareNsdReference();
    crdns = await startCrdns({ zones: ref.zones, manifests: ref.manifestsDir, args: ref.crdnsArgs });
    crdnsAsk = grpcAsker(crdns.addresses[0] as string);
    await mkdir(REPORT_DIR, { recursive: true });
  });

  after(async () => {
    crdnsAsk?.close();
    await crdns?.stop();
    await ref?.close();
  });

  it('the zone files hold the SOA and apex NS that crdns synthesizes', () => {
    assert.deepEqual(apexDisagreements((ref as NsdReference).fixture), []);
  });

  it('crdns accepted and serves every RRset converted from the zone files', () => {
    const lines = (crdns as CrdnsProcess).logs().split('\n');
    const complaints = lines.filter((l) => /"level":"(warn|error)"/.test(l));
    assert.deepEqual(complaints, [], 'crdns logged warnings about the converted manifests');
    const first = lines.find((l) => l.includes('"serving first snapshot"'));
    assert.ok(first, 'crdns logged its first snapshot');
    const { fixture } = ref as NsdReference;
    // One RRset per endpoint, plus the synthesized SOA and apex NS of every zone.
    const expected = fixture.zones.reduce((n, z) => n + z.manifest.spec.endpoints.length + 2, 0);
    assert.equal((JSON.parse(first) as { rrsets: number }).rrsets, expected);
  });

  it('the corpus holds at least 500 distinct queries', () => {
    const { corpus } = ref as NsdReference;
    assert.ok(corpus.length >= 500, `only ${corpus.length} queries`);
    assert.equal(new Set(corpus.map((c) => c.id)).size, corpus.length, 'query ids are unique');
  });

  it('every reply is identical to NSD\'s, or an RFC 8482 ANY answer, or on the documented allow-list', async () => {
    const report = await (ref as NsdReference).run((crdnsAsk as Asker).ask, { subjectName: 'crdns' });
    const text = formatReport(report);
    const file = path.join(REPORT_DIR, 'nsd-report.txt');
    await writeFile(file, `${text}\n`);
    await writeFile(path.join(REPORT_DIR, 'nsd-report.json'), `${JSON.stringify(report, null, 2)}\n`);
    console.log(`      ${scoreLine(report)}\n      full report: ${file}`);
    if (report.mismatches.length > 0 || report.unusedAllowEntries.length > 0) console.log(text);
    assert.equal(report.mismatches.length, 0, `${report.mismatches.length} replies differ from NSD's; see ${file}`);
    assert.deepEqual(report.unusedAllowEntries.map((e) => String(e.id)), [], 'allow-list entries that match nothing must be removed');
  });

  it('zone transfers, other opcodes and malformed messages get the RFC rcodes (and NSD\'s where it agrees)', async () => {
    const results = await (ref as NsdReference).runSpecial((crdnsAsk as Asker).ask);
    const text = formatSpecialReport(results);
    const file = path.join(REPORT_DIR, 'nsd-special.txt');
    await writeFile(file, `${text}\n`);
    console.log(`      ${text.split('\n')[0]}\n      full report: ${file}`);
    const failures = results.filter((r) => r.problems.length > 0);
    if (failures.length) console.log(text);
    assert.deepEqual(failures.map((f) => `${f.case.name}: ${f.problems.join('; ')}`), []);
  });
});
