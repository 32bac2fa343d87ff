import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { UsageError } from '../../../src/cli/options.js';
import { probe, PROBE_USAGE } from '../../../src/cli/probe.js';

describe('crdns probe flags', () => {
  let dir: string;
  before(async () => (dir = await mkdtemp(path.join(tmpdir(), 'crdns-probe-flags-'))));
  after(() => rm(dir, { recursive: true, force: true }));

  const refuses = async (args: string[], message: RegExp) => {
    await assert.rejects(probe(args, {}, () => undefined), (err: unknown) => err instanceof UsageError && message.test(err.message));
  };

  it('--help prints the usage and exits 0', async () => {
    let text = '';
    assert.equal(await probe(['--help'], {}, (s) => (text += s)), 0);
    assert.equal(text, PROBE_USAGE);
    assert.match(text, /--create-delete-every SECONDS/);
  });

  it('refuses, before writing anything, what cannot work', async () => {
    await refuses([], /--zone is required/);
    await refuses(['--zone', 'a..b'], /--zone/);
    await refuses(['--zone', 'z.test'], /at least one --cluster/);
    await refuses(['--zone', 'z.test', '--manifests', path.join(dir, 'nope')], /no such folder/);
    await refuses(['--zone', 'z.test', '--cluster', 'nokubeconfig'], /expected NAME=PATH/);
    await refuses(['--zone', 'z.test', '--cluster', `a=${path.join(dir, 'missing.yaml')}`], /--cluster a:/);
    await refuses(['--zone', 'z.test', '--manifests', dir, '--id', 'Not_A_Label'], /--id/);
    await refuses(['--zone', 'z.test', '--manifests', `Bad=${dir}`], /--manifests name/);
    await refuses(['--zone', 'z.test', '--manifests', dir, '--namespace', 'No'], /not a namespace name/);
    await refuses(['--zone', 'z.test', '--manifests', `a=${dir}`, '--manifests', `a=${dir}`], /given twice/);
    await refuses(['--zone', 'z.test', '--manifests', dir, '--server', 'dns.example:53'], /--server/);
    await refuses(['--zone', 'z.test', '--manifests', dir, '--server', 'udp://127.0.0.1?clusters=elsewhere'], /no cluster "elsewhere"/);
    await refuses(['--zone', 'z.test', '--manifests', dir, '--plot', 'out.png'], /SVG/);
    await refuses(['--zone', 'z.test', '--manifests', dir, '--qps', '0'], /--qps must be from 1/);
    await refuses(['--zone', 'z.test', '--manifests', dir, '--names', '0', '--churn-names', '0', '--absent-names', '0'], /nothing to probe/);
    await refuses(['--zone', 'z.test', '--manifests', dir, '--http', 'nohost'], /--http/);
    await refuses(['--zone', 'z.test', '--manifests', dir, 'extra'], /unexpected argument/);
  });
});
