// The peers other integration tests rely on are present and are the versions the setup script
// pins. A missing binary fails here with the same message every harness gives.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { peerBin, pinnedVersion, requireTool } from '../../harness/peers.js';

// Runs a binary to completion and returns stdout + stderr; a non-zero exit fails the test.
function run(bin: string, args: string[], env: NodeJS.ProcessEnv = process.env, okStatus = [0]): string {
  const result = spawnSync(bin, args, { encoding: 'utf8', timeout: 60_000, env });
  if (result.error !== undefined) throw result.error;
  const output = `${result.stdout}${result.stderr}`;
  assert.ok(
    result.status !== null && okStatus.includes(result.status),
    `${bin} ${args.join(' ')} exited ${String(result.status ?? result.signal)}:\n${output}`,
  );
  return output;
}

function lines(text: string): string[] {
  return text.split('\n').map((l) => l.trim());
}

describe('peers built by scripts/setup-peers.sh', function () {
  this.timeout(120_000);

  it('coredns is the pinned stock build and has the grpc plugin', () => {
    const bin = peerBin('coredns');
    const version = pinnedVersion('coredns');
    assert.ok(lines(run(bin, ['-version'])).includes(`CoreDNS-${version.slice(1)}`));
    const plugins = lines(run(bin, ['-plugins']));
    assert.ok(plugins.includes('grpc'), 'grpc plugin missing from coredns -plugins');
    assert.ok(plugins.includes('cache'), 'cache plugin missing from coredns -plugins');
  });

  it('etcd reports the pinned version', () => {
    const out = run(peerBin('etcd'), ['--version']);
    assert.ok(lines(out).includes(`etcd Version: ${pinnedVersion('etcd').slice(1)}`), out);
  });

  it('kube-apiserver reports the pinned Kubernetes version', () => {
    const out = run(peerBin('kube-apiserver'), ['--version']);
    assert.equal(out.trim(), `Kubernetes ${pinnedVersion('kube-apiserver')}`);
  });

  it('kubectl reports the pinned client version', () => {
    const out = run(peerBin('kubectl'), ['version', '--client']);
    assert.ok(lines(out).includes(`Client Version: ${pinnedVersion('kubectl')}`), out);
  });

  describe('helm', () => {
    let home = '';
    before(() => {
      home = mkdtempSync(join(tmpdir(), 'crdns-helm-'));
    });
    after(() => {
      rmSync(home, { recursive: true, force: true });
    });

    // Keeps helm's config/cache/data writes inside the test's own folder.
    const helmEnv = (): NodeJS.ProcessEnv => ({
      ...process.env,
      HELM_CONFIG_HOME: join(home, 'config'),
      HELM_CACHE_HOME: join(home, 'cache'),
      HELM_DATA_HOME: join(home, 'data'),
    });

    it('reports the pinned version', () => {
      const out = run(peerBin('helm'), ['version', '--template', '{{.Version}}'], helmEnv());
      assert.equal(out.trim(), pinnedVersion('helm'));
    });

    it('renders with the Kubernetes minor of the pinned apiserver as its default', () => {
      const chart = join(home, 'chart');
      mkdirSync(join(chart, 'templates'), { recursive: true });
      writeFileSync(join(chart, 'Chart.yaml'), 'apiVersion: v2\nname: probe\nversion: 0.1.0\n');
      writeFileSync(
        join(chart, 'templates', 'kube-version.yaml'),
        'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: probe\ndata:\n' +
          '  kube: "{{ .Capabilities.KubeVersion.Version }}"\n',
      );
      const out = run(peerBin('helm'), ['template', 'probe', chart], helmEnv());
      const [major, minor] = pinnedVersion('kube-apiserver').slice(1).split('.');
      assert.match(out, new RegExp(`kube: "v${String(major)}\\.${String(minor)}\\.0"`));
    });
  });

  // pdns_server --version (4.7) exits 99 after printing its banner.
  it('Debian DNS tools are installed and run', () => {
    assert.match(run(requireTool('dig'), ['-v']), /DiG 9\./);
    assert.match(run(requireTool('delv'), ['-v']), /delv 9\./);
    assert.match(run(requireTool('kdig'), ['--version']), /kdig.*Knot DNS/);
    assert.match(run(requireTool('nsd'), ['-v']), /NSD version 4\./);
    assert.match(run(requireTool('knotd'), ['--version']), /Knot DNS/);
    assert.match(run(requireTool('pdns_server'), ['--version'], process.env, [0, 99]), /PowerDNS Authoritative Server/);
    assert.match(run(requireTool('dnsperf'), ['-h']), /Usage: dnsperf/);
    assert.match(run(requireTool('ldns-verify-zone'), ['-v']), /\d+\.\d+/);
    // dnspython is a Debian package, so it is the system interpreter's, not one earlier on PATH.
    const dnspython = ['-c', 'import dns.dnssec, dns.version; print(dns.version.version)'];
    assert.match(run(requireTool('/usr/bin/python3'), dnspython), /^2\./);
  });
});
