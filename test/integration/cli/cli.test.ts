/** The crdns command as an operator runs it: help, check, query, env configuration. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CRDNS_MAIN, startCrdns } from '../../harness/crdns-process.js';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../..');
const EXAMPLES = path.join(REPO, 'examples/manifests');
const EXAMPLE_ZONES = ['5gc.mnc001.mcc001.3gppnetwork.org', 'ims.mnc001.mcc001.3gppnetwork.org', '0.10.in-addr.arpa', '1.0.0.0.0.0.0.0.0.0.d.f.ip6.arpa'];

function crdns(args: string[], env: NodeJS.ProcessEnv = {}) {
  const r = spawnSync(process.execPath, [CRDNS_MAIN, ...args], { encoding: 'utf8', env: { ...process.env, ...env }, timeout: 30000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe('crdns command line', function () {
  this.timeout(60000);

  it('prints help for every command and exits 0', () => {
    for (const cmd of [['--help'], ['serve', '--help'], ['query', '--help'], ['check', '--help']]) {
      const r = crdns(cmd);
      assert.equal(r.code, 0, cmd.join(' '));
      assert.match(r.out, /Usage: crdns/);
    }
    assert.match(crdns(['serve', '--help']).out, /--manifests DIR .*\[CRDNS_MANIFESTS\]/);
  });

  it('rejects unknown flags and commands with usage and exit 2', () => {
    const r = crdns(['serve', '--zonee', 'x']);
    assert.equal(r.code, 2);
    assert.match(r.err, /Unknown option '--zonee'/);
    assert.equal(crdns(['frobnicate']).code, 2);
    assert.match(crdns(['serve', '--manifests', '/tmp']).err, /at least one --zone is required/);
  });

  it('check: the examples are valid', () => {
    const r = crdns(['check', ...EXAMPLE_ZONES.flatMap((z) => ['--zone', z]), EXAMPLES]);
    assert.equal(r.code, 0, r.out + r.err);
    assert.match(r.out, /0 problems/);
  });

  it('check: names every bad endpoint precisely and exits 1', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'crdns-check-'));
    try {
      await writeFile(
        path.join(dir, 'bad.yaml'),
        `apiVersion: externaldns.k8s.io/v1alpha1
kind: DNSEndpoint
metadata: {name: web, namespace: ops}
spec:
  endpoints:
  - {dnsName: ok.example.test, recordType: A, targets: [192.0.2.1]}
  - {dnsName: www.example.org, recordType: A, targets: [192.0.2.1]}
  - {dnsName: srv.example.test, recordType: SRV, targets: ["10 60 sip.example.test."]}
`,
      );
      const r = crdns(['check', '--zone', 'example.test', dir]);
      assert.equal(r.code, 1);
      const lines = r.out.trim().split('\n');
      assert.equal(lines.length, 3, r.out);
      assert.match(lines[0] as string, /^.*bad\.yaml#0: ops\/web endpoints\[1\]\.dnsName: .*outside every served zone/);
      assert.match(lines[1] as string, /ops\/web endpoints\[2\]\.targets\[0\]: /);
      assert.match(lines[2] as string, /1 DNSEndpoint objects, 3 RRsets served, 2 problems/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('check: a key defined in two files is reported, and the first file wins, as serve does', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'crdns-check-dup-'));
    const doc = (ip: string) => `apiVersion: externaldns.k8s.io/v1alpha1
kind: DNSEndpoint
metadata: {name: web, namespace: ops}
spec:
  endpoints:
  - {dnsName: www.example.test, recordType: A, targets: [${ip}]}
`;
    try {
      await writeFile(path.join(dir, 'a.yaml'), doc('192.0.2.1'));
      await writeFile(path.join(dir, 'b.yaml'), doc('999.0.0.1'));
      const r = crdns(['check', '--zone', 'example.test', path.join(dir, 'b.yaml'), path.join(dir, 'a.yaml')]);
      assert.equal(r.code, 1);
      assert.match(r.out, /b\.yaml.*ops\/web/);
      assert.doesNotMatch(r.out, /999\.0\.0\.1/, 'the second definition is not validated as if served');
      assert.match(r.out, /1 DNSEndpoint objects, 3 RRsets served, 1 problem\n$/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('serve takes its settings from CRDNS_* variables; query --follow walks NAPTR → SRV → A', async () => {
    const sockDir = await mkdtemp(path.join(tmpdir(), 'crdns-env-'));
    const listen = `unix://${path.join(sockDir, 's.sock')}`;
    const proc = await startCrdns({ zones: [], listen: [], env: { CRDNS_ZONE: EXAMPLE_ZONES.join(','), CRDNS_MANIFESTS: EXAMPLES, CRDNS_LISTEN: listen } });
    try {
      assert.deepEqual(proc.addresses, [listen]);
      const r = crdns(['query', '--server', listen, '--follow', 'pcscf.ims.mnc001.mcc001.3gppnetwork.org', 'NAPTR']);
      assert.equal(r.code, 0, r.err);
      assert.match(r.out, /IN NAPTR 10 50 "S" "SIP\+D2U" "" _sip\._udp\.pcscf\.ims\.mnc001\.mcc001\.3gppnetwork\.org\./);
      assert.match(r.out, /_sip\._udp\.pcscf\.ims\.mnc001\.mcc001\.3gppnetwork\.org\. \d+ IN SRV \d+ \d+ 5060 pcscf1\./);
      assert.match(r.out, /--follow: pcscf1\.ims\.mnc001\.mcc001\.3gppnetwork\.org\. A\n[\s\S]*pcscf1\.ims\.mnc001\.mcc001\.3gppnetwork\.org\. \d+ IN A 10\./);
      const nx = crdns(['query', '--server', listen, 'nope.ims.mnc001.mcc001.3gppnetwork.org']);
      assert.equal(nx.code, 0, 'a reply came: exit 0 whatever its rcode, as dig does');
      assert.match(nx.out, /status: NXDOMAIN/);
    } finally {
      await proc.stop();
      await rm(sockDir, { recursive: true, force: true });
    }
  });
});
