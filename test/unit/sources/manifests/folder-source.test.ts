import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rename, rm, symlink, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ManifestProblem } from '../../../../src/sources/manifests/documents.js';
import { ManifestFolderSource, type ManifestFolderOptions } from '../../../../src/sources/manifests/folder-source.js';
import { loadManifestFolder, MAX_MANIFEST_BYTES } from '../../../../src/sources/manifests/read-files.js';
import { callbackLogger } from '../../../support/logger.js';
import { eventually } from '../../../support/eventually.js';
import { RecordingSink } from '../../../support/recording-sink.js';

const manifest = (name: string, ip: string, ns = 'core'): string => `# ${name}
apiVersion: externaldns.k8s.io/v1alpha1
kind: DNSEndpoint
metadata:
  name: ${name}
  namespace: ${ns}
spec:
  endpoints:
    - dnsName: ${name}.5gc.mnc001.mcc001.3gppnetwork.org
      recordType: A
      targets: [${ip}]
`;

describe('manifest folder source', function () {
  let dir: string;
  let source: ManifestFolderSource | undefined;
  let sink: RecordingSink;
  let fileErrors: Array<[string, ManifestProblem]>;
  let otherProblems: ManifestProblem[];
  let recovered: string[];
  let unexpected: unknown[];

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'crdns-manifests-'));
    sink = new RecordingSink();
    fileErrors = [];
    otherProblems = [];
    recovered = [];
    unexpected = [];
  });

  afterEach(async () => {
    await source?.stop();
    source = undefined;
    await rm(dir, { recursive: true, force: true });
    await rm(`${dir}-moved`, { recursive: true, force: true });
  });

  async function startSource(extra: Partial<ManifestFolderOptions> = {}): Promise<ManifestFolderSource> {
    source = new ManifestFolderSource({
      dir,
      debounceMs: 20,
      // The watcher alone must carry live changes in these tests; the rescan has its own test.
      rescanIntervalMs: 0,
      logger: callbackLogger((level, message, f = {}) => {
        const p = { kind: f.kind, file: f.file, line: f.line, column: f.column, document: f.document, object: f.object, message: f.reason } as ManifestProblem;
        if (message.startsWith('manifest file unusable')) fileErrors.push([p.file, p]);
        else if (message === 'manifest problem') otherProblems.push(p);
        else if (message === 'manifest file readable again') recovered.push(f.file as string);
        else if (level === 'error') unexpected.push(f.error);
      }),
      ...extra,
    });
    await source.start(sink);
    return source;
  }

  const state = (): string => sink.summary();

  it('loads the folder, sorted and filtered, with one replaceAll and then synced', async () => {
    await writeFile(join(dir, 'b.yaml'), manifest('amf1', '10.0.1.1') + '---\n' + manifest('amf2', '10.0.1.2'));
    await writeFile(join(dir, 'a.json'), JSON.stringify({ apiVersion: 'externaldns.k8s.io/v1alpha1', kind: 'DNSEndpoint', metadata: { name: 'nrf' }, spec: { endpoints: [{ targets: ['10.0.0.10'] }] } }));
    await writeFile(join(dir, 'notes.txt'), manifest('ignored-txt', '10.9.9.9'));
    await writeFile(join(dir, '.hidden.yaml'), manifest('ignored-dot', '10.9.9.9'));
    await mkdir(join(dir, 'sub'));
    await writeFile(join(dir, 'sub', 'c.yaml'), manifest('ignored-sub', '10.9.9.9'));
    await mkdir(join(dir, 'dir.yaml'));
    await writeFile(join(dir, 'other.yml'), 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n');
    await startSource();

    assert.deepEqual(sink.calls, [{ op: 'replaceAll', keys: ['core/amf1', 'core/amf2', 'default/nrf'] }, { op: 'synced' }]);
    assert.equal(sink.state.get('core/amf2')?.origin.file, join(dir, 'b.yaml') + '#1');
    assert.equal(sink.state.get('default/nrf')?.origin.source, 'manifests');
    assert.deepEqual(source?.problems(), []);
    assert.deepEqual([fileErrors, otherProblems, unexpected], [[], [], []]);
  });

  it('applies added, changed and deleted files live', async () => {
    await writeFile(join(dir, 'amf.yaml'), manifest('amf1', '10.0.1.1'));
    await startSource();
    assert.equal(sink.target('core/amf1'), '10.0.1.1');

    await writeFile(join(dir, 'smf.yaml'), manifest('smf1', '10.0.2.1'));
    await eventually('smf1 added', () => sink.target('core/smf1') === '10.0.2.1', state);

    await writeFile(join(dir, 'amf.yaml'), manifest('amf1', '10.0.1.99'));
    await eventually('amf1 changed', () => sink.target('core/amf1') === '10.0.1.99', state);

    await unlink(join(dir, 'smf.yaml'));
    await eventually('smf1 removed', () => !sink.state.has('core/smf1'), state);

    // Untouched objects are not re-sent: amf1 was upserted once, for its change only.
    assert.deepEqual(sink.calls.filter((c) => c.op === 'upsert' && c.key === 'core/amf1').length, 1);
    assert.deepEqual(sink.calls.filter((c) => c.op === 'replaceAll' || c.op === 'synced').length, 2, 'replaceAll and synced only once each');
    assert.deepEqual(unexpected, []);
  });

  it('keeps serving the last good objects of a broken file, and takes the fixed content', async () => {
    const file = join(dir, 'pcscf.yaml');
    await writeFile(file, manifest('pcscf1', '10.0.40.1') + '---\n' + manifest('pcscf2', '10.0.40.2'));
    await startSource();

    await writeFile(file, manifest('pcscf1', '10.0.40.111') + '---\nkind: DNSEndpoint\nmetadata:\n  name: [oops\n');
    await eventually('the parse error reported', () => fileErrors.length > 0, () => JSON.stringify(fileErrors));
    const [errFile, problem] = fileErrors[0] as [string, ManifestProblem];
    assert.equal(errFile, file);
    assert.equal(problem.kind, 'parse');
    assert.equal(problem.line, 16);
    assert.deepEqual(source?.problems().map((p) => [p.kind, p.file, p.line]), [['parse', file, 16]]);
    // Nothing of the broken version was served: not even its good first document.
    assert.equal(sink.target('core/pcscf1'), '10.0.40.1');
    assert.equal(sink.target('core/pcscf2'), '10.0.40.2');

    await writeFile(file, manifest('pcscf1', '10.0.40.11'));
    await eventually('fixed content served', () => sink.target('core/pcscf1') === '10.0.40.11' && !sink.state.has('core/pcscf2'), state);
    assert.deepEqual(source?.problems(), []);
    assert.deepEqual(recovered, [file]);
    assert.equal(fileErrors.length, 1, 'the same error is reported once');
  });

  it('refuses a file over the size bound unread, and keeps serving its last good content', async () => {
    const file = join(dir, 'huge.yaml');
    await writeFile(file, manifest('huge1', '10.0.41.1'));
    await startSource();
    // Valid YAML all along (a comment), so only the size can be what refuses it; renamed into
    // place, so no read sees it half written (that part would be a valid, smaller file).
    await writeFile(`${dir}/.huge.tmp`, manifest('huge1', '10.0.41.2') + `# ${'x'.repeat(MAX_MANIFEST_BYTES)}\n`);
    await rename(`${dir}/.huge.tmp`, file);
    await eventually('the size reported', () => fileErrors.length > 0, () => JSON.stringify(fileErrors));
    assert.match(fileErrors[0]?.[1].message ?? '', /larger than 32 MiB/);
    assert.equal(sink.target('core/huge1'), '10.0.41.1');
    const r = await loadManifestFolder(dir);
    assert.deepEqual(r.problems.map((p) => [p.file, /larger than 32 MiB/.test(p.message)]), [[file, true]]);
  });

  it('keeps the last good version of one DNSEndpoint that becomes malformed in a good file', async () => {
    const file = join(dir, 'upf.yaml');
    await writeFile(file, manifest('upf1', '10.0.3.1') + '---\n' + manifest('upf2', '10.0.3.2'));
    await startSource();
    await writeFile(file, manifest('upf1', '10.0.3.11') + '---\n' + manifest('upf2', '10.0.3.2').replace(/endpoints:[\s\S]*$/, 'endpoints: {not: a list}\n'));
    await eventually('upf1 updated', () => sink.target('core/upf1') === '10.0.3.11', state);
    assert.equal(sink.target('core/upf2'), '10.0.3.2');
    assert.deepEqual(otherProblems.map((p) => [p.kind, p.object, p.document]), [['document', 'core/upf2', 1]]);
  });

  it('serves a key defined twice from the first file by name, and falls back when that file goes', async () => {
    await writeFile(join(dir, 'b.yaml'), manifest('nrf', '10.0.0.2'));
    await writeFile(join(dir, 'a.yaml'), manifest('nrf', '10.0.0.1'));
    await startSource();
    assert.equal(sink.target('core/nrf'), '10.0.0.1');
    assert.deepEqual(source?.problems().map((p) => [p.kind, p.file, p.object]), [['duplicate', join(dir, 'b.yaml'), 'core/nrf']]);
    assert.equal(otherProblems.length, 1);

    await unlink(join(dir, 'a.yaml'));
    await eventually('b.yaml takes over', () => sink.target('core/nrf') === '10.0.0.2', state);
    assert.deepEqual(source?.problems(), []);
    assert.equal(sink.state.get('core/nrf')?.origin.file, join(dir, 'b.yaml') + '#0');

    // Within one file the first document wins.
    await writeFile(join(dir, 'c.yaml'), manifest('amf', '10.0.1.1') + '---\n' + manifest('amf', '10.0.1.2'));
    await eventually('amf from the first document', () => sink.target('core/amf') === '10.0.1.1', state);
    await eventually('duplicate reported', () => otherProblems.some((p) => p.object === 'core/amf' && p.kind === 'duplicate'), () => JSON.stringify(otherProblems));
  });

  it('follows a ConfigMap volume update (atomic ..data symlink swap)', async () => {
    // kubelet's layout: files are links into ..data, which links to a timestamped directory.
    await mkdir(join(dir, '..2024_01_01_00_00_00.000000001'));
    await writeFile(join(dir, '..2024_01_01_00_00_00.000000001', 'zone.yaml'), manifest('nrf', '10.0.0.1'));
    await symlink('..2024_01_01_00_00_00.000000001', join(dir, '..data'));
    await symlink(join('..data', 'zone.yaml'), join(dir, 'zone.yaml'));
    await startSource();
    assert.deepEqual([...sink.state.keys()], ['core/nrf']);
    assert.equal(sink.target('core/nrf'), '10.0.0.1');
    assert.equal(sink.state.get('core/nrf')?.origin.file, join(dir, 'zone.yaml') + '#0');

    await mkdir(join(dir, '..2024_01_01_00_01_00.000000002'));
    await writeFile(join(dir, '..2024_01_01_00_01_00.000000002', 'zone.yaml'), manifest('nrf', '10.0.0.2') + '---\n' + manifest('nssf', '10.0.0.3'));
    await symlink('..2024_01_01_00_01_00.000000002', join(dir, '..data_tmp'));
    await rename(join(dir, '..data_tmp'), join(dir, '..data'));
    await rm(join(dir, '..2024_01_01_00_00_00.000000001'), { recursive: true });
    await eventually('the new ConfigMap content', () => sink.target('core/nrf') === '10.0.0.2' && sink.target('core/nssf') === '10.0.0.3', state);
    assert.deepEqual(unexpected, []);
    assert.deepEqual(source?.problems(), []);
  });

  it("follows an editor's write-then-rename replace", async () => {
    await writeFile(join(dir, 'amf.yaml'), manifest('amf1', '10.0.1.1'));
    await startSource();
    await writeFile(join(dir, '.amf.yaml.swp'), manifest('amf1', '10.0.1.2'));
    await rename(join(dir, '.amf.yaml.swp'), join(dir, 'amf.yaml'));
    await eventually('renamed-over content', () => sink.target('core/amf1') === '10.0.1.2', state);
  });

  it('rides out a non-atomic rewrite: a truncated file is not applied before it settles, so its records never vanish', async () => {
    await writeFile(join(dir, 'amf.yaml'), manifest('amf1', '10.0.1.1') + '---\n' + manifest('amf2', '10.0.1.2'));
    await startSource({ settleMs: 500 });
    await writeFile(join(dir, 'amf.yaml'), '');
    await new Promise((r) => setTimeout(r, 200));
    await source?.rescan();
    assert.equal(sink.target('core/amf1'), '10.0.1.1', 'still served while the empty file settles');
    await writeFile(join(dir, 'amf.yaml'), manifest('amf1', '10.0.1.1') + '---\n' + manifest('amf2', '10.0.1.3'));
    await eventually('the rewritten content', () => sink.target('core/amf2') === '10.0.1.3', state);
    assert.deepEqual(sink.calls.filter((c) => c.op === 'remove'), [], 'nothing was ever removed');
  });

  it('applies a file that really shrinks once it has stayed so for the settle time', async () => {
    await writeFile(join(dir, 'amf.yaml'), manifest('amf1', '10.0.1.1') + '---\n' + manifest('amf2', '10.0.1.2'));
    await startSource({ settleMs: 300 });
    const shrunk = Date.now();
    await writeFile(join(dir, 'amf.yaml'), manifest('amf1', '10.0.1.1'));
    await eventually('amf2 withdrawn', () => !sink.state.has('core/amf2'), state);
    assert.ok(Date.now() - shrunk >= 300, 'not before the settle time');
    assert.equal(sink.target('core/amf1'), '10.0.1.1');
  });

  it('picks changes up through the periodic rescan alone when no watcher runs', async () => {
    await writeFile(join(dir, 'amf.yaml'), manifest('amf1', '10.0.1.1'));
    await startSource({ watch: false, rescanIntervalMs: 50 });
    await writeFile(join(dir, 'amf.yaml'), manifest('amf1', '10.0.1.2'));
    await eventually('rescan saw the change', () => sink.target('core/amf1') === '10.0.1.2', state);
  });

  it('keeps serving when the folder disappears, and says so', async () => {
    await writeFile(join(dir, 'amf.yaml'), manifest('amf1', '10.0.1.1'));
    const s = await startSource();
    await rename(dir, `${dir}-moved`);
    await s.rescan();
    assert.equal(sink.target('core/amf1'), '10.0.1.1');
    assert.deepEqual(s.problems().map((p) => p.kind), ['folder']);
    assert.ok(otherProblems.some((p) => p.kind === 'folder'));

    // A new directory in its place (another inode): the rescan reads it and a
    // fresh watch on it carries the next change.
    await mkdir(dir);
    await writeFile(join(dir, 'amf.yaml'), manifest('amf1', '10.0.1.5'));
    await s.rescan();
    assert.deepEqual(s.problems(), []);
    assert.equal(sink.target('core/amf1'), '10.0.1.5');
    // Let events from the move run out, so only the new watch can deliver the next change.
    // Events from the move are debounced for 20 ms; after ten times that none can still trigger a rescan.
    await new Promise((r) => setTimeout(r, 200));
    await writeFile(join(dir, 'amf.yaml'), manifest('amf1', '10.0.1.6'));
    await eventually('change in the new folder', () => sink.target('core/amf1') === '10.0.1.6', state);
  });

  it('refuses to start on a folder it cannot read', async () => {
    const s = new ManifestFolderSource({ dir: join(dir, 'missing'), rescanIntervalMs: 0 });
    await assert.rejects(s.start(sink), /cannot read manifest folder .*missing.*ENOENT/);
    assert.deepEqual(sink.calls, []);
  });

  it('calls nothing on the sink after stop', async () => {
    await writeFile(join(dir, 'amf.yaml'), manifest('amf1', '10.0.1.1'));
    const s = await startSource();
    await s.stop();
    const n = sink.calls.length;
    await writeFile(join(dir, 'amf.yaml'), manifest('amf1', '10.0.1.2'));
    await s.rescan();
    assert.equal(sink.calls.length, n);
  });

  it('loads a folder once for checking, with its problems', async () => {
    await writeFile(join(dir, 'a.yaml'), manifest('x', '10.0.0.1'));
    await writeFile(join(dir, 'b.yaml'), manifest('x', '10.0.0.2') + '---\n' + manifest('y', '10.0.0.3'));
    await writeFile(join(dir, 'c.json'), '{"kind": }');
    const r = await loadManifestFolder(dir);
    assert.deepEqual(r.files, ['a.yaml', 'b.yaml', 'c.json']);
    assert.deepEqual(r.objects.map((o) => o.key), ['core/x', 'core/y']);
    assert.deepEqual(r.problems.map((p) => [p.kind, p.file, p.line ?? null]), [
      ['duplicate', join(dir, 'b.yaml'), null],
      ['parse', join(dir, 'c.json'), 1],
    ]);
  });
});
