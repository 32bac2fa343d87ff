/**
 * `crdns check` and the live folder report what they cannot use instead of
 * passing over it: a misspelt kind, bytes that are not text, a document that
 * is not an object, a file named on the command line that crdns never reads.
 * Kinds that are simply not ours are listed as ignored, and are no problem.
 */
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { startCrdns } from '../../harness/crdns-process.js';
import { pollUntil } from '../../support/eventually.js';
import { crdns, dnsEndpoint, tempDir } from './support.js';

const GOOD = dnsEndpoint('good', ['{dnsName: www.example.test, recordType: A, targets: [192.0.2.1]}']);

describe('crdns check: nothing is passed over in silence', function () {
  this.timeout(120_000);
  let dir: string;
  let remove: () => Promise<void>;
  beforeEach(async () => ({ dir, remove } = await tempDir('check')));
  afterEach(async () => remove());

  async function checkFile(name: string, content: string | Buffer): Promise<{ code: number; out: string }> {
    const file = path.join(dir, name);
    await writeFile(file, content);
    const r = await crdns(['check', '--zone', 'example.test', file]);
    return { code: r.code, out: r.out + r.err };
  }

  const problems: Array<[string, string, string | Buffer, RegExp]> = [
    ['a kind that differs from DNSEndpoint only in case', 'typo.yaml', GOOD.replace('kind: DNSEndpoint', 'kind: DnsEndpoint'), /typo\.yaml:\d+:\d+: kind "DnsEndpoint" is not "DNSEndpoint"/],
    ['another kind in the externaldns.k8s.io group', 'group.yaml', GOOD.replace('kind: DNSEndpoint', 'kind: Endpoint'), /group\.yaml:\d+:\d+: kind "Endpoint" in apiVersion "externaldns\.k8s\.io\/v1alpha1"/],
    ['random bytes', 'noise.yaml', Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0xff, 0xfe, 0x41]), /noise\.yaml: .*not UTF-8 text/],
    ['NUL bytes in UTF-8 text', 'nul.yaml', 'kind: DNSEndpoint\n\u0000\u0000\n', /nul\.yaml:2:1: .*NUL/],
    ['a top-level string', 'scalar.yaml', 'just some words\n', /scalar\.yaml:1:1: .*a string, not a mapping/],
    ['a top-level list', 'seq.yaml', '- a\n- b\n', /seq\.yaml:1:1: .*a list, not a mapping/],
    ['a top-level JSON array', 'arr.json', '[1, 2]', /arr\.json:1:1: .*a list, not a mapping/],
    ['a mapping without kind', 'nokind.yaml', 'foo: bar\n', /nokind\.yaml:1:1: .*no kind/],
    ['a .txt file named explicitly', 'notes.txt', GOOD, /notes\.txt: not a manifest file: \.txt; crdns reads \.yaml, \.yml, \.json/],
  ];
  for (const [title, name, content, re] of problems) {
    it(`reports ${title} and exits 1`, async () => {
      const r = await checkFile(name, content);
      assert.equal(r.code, 1, r.out);
      assert.match(r.out, re);
      assert.match(r.out, /[1-9]\d* problems?\n$/);
    });
  }

  it('lists other kinds as ignored, on their own line, and exits 0', async () => {
    const r = await checkFile('mixed.yaml', `${GOOD}---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm}\n`);
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /^ignored: .*mixed\.yaml#1 kind=ConfigMap$/m);
    assert.match(r.out, /^1 DNSEndpoint objects, \d+ RRsets served, 0 problems$/m);
  });

  it('serve logs the same problems from its folder and keeps serving the rest', async () => {
    await writeFile(path.join(dir, 'good.yaml'), GOOD);
    await writeFile(path.join(dir, 'typo.yaml'), GOOD.replace('kind: DNSEndpoint', 'kind: DnsEndpoint').replace('name: good', 'name: typo'));
    await writeFile(path.join(dir, 'noise.yaml'), Buffer.from([0xff, 0xfe, 0x00, 0x41]));
    const proc = await startCrdns({ zones: ['example.test'], manifests: dir });
    try {
      const logs = await pollUntil(async () => proc.logs(), (l) => /DnsEndpoint/.test(l) && /not UTF-8 text/.test(l), 'problems logged');
      assert.match(logs, /"msg":"manifest problem".*"reason":"kind \\"DnsEndpoint\\" is not \\"DNSEndpoint\\"/);
      assert.match(logs, /"msg":"manifest file unusable.*noise\.yaml.*not UTF-8 text/);
    } finally {
      await proc.stop();
    }
  });
});
