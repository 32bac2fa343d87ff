/** `--name-policy` as an operator uses it: `check` against the examples, and bad policy files refused with exit 2. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CRDNS_MAIN } from '../../harness/crdns-process.js';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../..');
const EXAMPLES = path.join(REPO, 'examples/manifests');
const ZONES = ['5gc.mnc001.mcc001.3gppnetwork.org', 'ims.mnc001.mcc001.3gppnetwork.org', '0.10.in-addr.arpa', '1.0.0.0.0.0.0.0.0.0.d.f.ip6.arpa'].flatMap((z) => ['--zone', z]);

function crdns(args: string[]) {
  const r = spawnSync(process.execPath, [CRDNS_MAIN, ...args], { encoding: 'utf8', timeout: 30000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe('crdns --name-policy', function () {
  this.timeout(60000);
  let dir: string;
  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'crdns-policy-'));
  });
  after(async () => rm(dir, { recursive: true, force: true }));

  it('check: the example policy accepts the examples', () => {
    const r = crdns(['check', ...ZONES, '--name-policy', path.join(REPO, 'examples/name-policy.yaml'), EXAMPLES]);
    assert.equal(r.code, 0, r.out + r.err);
    assert.match(r.out, / 0 problems/);
  });

  it('check: a policy that does not grant the IMS names rejects exactly those, naming the namespace', async () => {
    const file = path.join(dir, 'no-ims.yaml');
    await writeFile(file, 'rules:\n  - namespaces: ["5gc", lab, dns]\n    names: ["5gc.mnc001.mcc001.3gppnetwork.org", "*.5gc.mnc001.mcc001.3gppnetwork.org", "*.0.10.in-addr.arpa", "*.1.0.0.0.0.0.0.0.0.0.d.f.ip6.arpa"]\n');
    const r = crdns(['check', ...ZONES, '--name-policy', file, EXAMPLES]);
    assert.equal(r.code, 1);
    const lines = r.out.split('\n').filter((l) => l.includes('may not publish'));
    assert.ok(lines.length > 0, r.out);
    assert.ok(lines.every((l) => /namespace "ims" may not publish [^ ]*ims\.mnc001/.test(l)), lines.join('\n'));
  });

  it('refuses an unreadable or malformed policy before serving anything, naming the flag (exit 2)', async () => {
    const bad = path.join(dir, 'bad.yaml');
    await writeFile(bad, 'rules:\n  - namespaces: [a]\n');
    for (const file of [bad, path.join(dir, 'missing.yaml')]) {
      const r = crdns(['serve', ...ZONES, '--manifests', EXAMPLES, '--listen', '127.0.0.1:0', '--name-policy', file]);
      assert.equal(r.code, 2, r.err);
      assert.match(r.err, /--name-policy: /);
      assert.doesNotMatch(r.err, /grpc listening/);
    }
  });
});
