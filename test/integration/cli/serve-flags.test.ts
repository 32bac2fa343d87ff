/**
 * `crdns serve` refuses a bad command line before it binds anything: each
 * case must exit 2 with a message naming the flag, and must never have logged
 * "grpc listening" (which the harness and an operator read as success).
 */
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import path from 'node:path';
import { crdns, tempDir, type CliResult } from './support.js';

function refused(r: CliResult, flag: RegExp, what: string): void {
  assert.equal(r.code, 2, `${what}: exit code (stderr: ${r.err})`);
  assert.match(r.err, flag, `${what}: message names the flag`);
  assert.doesNotMatch(r.err, /"grpc listening"/, `${what}: nothing may be reported as listening`);
  assert.doesNotMatch(r.err, /^\s+at /m, `${what}: no stack trace`);
}

function holdPort(): Promise<{ server: Server; port: number }> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve({ server, port: (server.address() as { port: number }).port }));
  });
}

describe('crdns serve: flags are checked before anything binds', function () {
  this.timeout(120_000);
  let dir: string;
  let remove: () => Promise<void>;
  let base: string[];

  before(async () => {
    ({ dir, remove } = await tempDir('flags'));
    base = ['serve', '--zone', 'example.test', '--manifests', dir, '--listen', `unix://${path.join(dir, 's.sock')}`];
  });
  after(async () => remove());

  // A serve that wrongly accepts its flags runs until killed: 15 s is ample for the refusals, which take milliseconds.
  const serve = (args: string[], env: NodeJS.ProcessEnv = {}) => crdns([...base, ...args], env, 15_000);

  describe('numbers are range-checked', () => {
    const cases: Array<[string, string, RegExp]> = [
      ['--soa-minimum', '5000000000', /--soa-minimum .*0 to 2147483647/],
      ['--soa-ttl', '2147483648', /--soa-ttl .*0 to 2147483647/],
      ['--default-ttl', '2147483648', /--default-ttl .*0 to 2147483647/],
      ['--soa-refresh', '4294967296', /--soa-refresh .*0 to 2147483647/],
      ['--soa-retry', '99999999999', /--soa-retry .*0 to 2147483647/],
      ['--soa-expire', '2147483648', /--soa-expire .*0 to 2147483647/],
      ['--default-ttl=-1', '', /--default-ttl must be a whole number/],
    ];
    for (const [flag, value, re] of cases) {
      it(`${flag} ${value}`.trim(), async () => refused(await serve(value === '' ? [flag] : [flag, value]), re, `${flag} ${value}`));
    }

    it('CRDNS_SOA_MINIMUM=5000000000 from the environment too', async () => {
      refused(await serve([], { CRDNS_SOA_MINIMUM: '5000000000' }), /--soa-minimum .*0 to 2147483647/, 'env');
    });

    it('--watch-idle-timeout 0 (it must be at least one second)', async () => {
      const kubeconfig = path.join(dir, 'kubeconfig');
      await writeFile(kubeconfig, `apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "https://127.0.0.1:1"}}]
users: [{name: u, user: {token: t}}]
contexts: [{name: x, context: {cluster: c, user: u}}]
current-context: x
`);
      const r = await crdns(['serve', '--zone', 'example.test', '--kubeconfig', kubeconfig, '--watch-idle-timeout', '0', '--listen', `unix://${path.join(dir, 'k.sock')}`], {}, 15_000);
      refused(r, /--watch-idle-timeout .*1 to /, '--watch-idle-timeout 0');
    });
  });

  describe('addresses parse', () => {
    const cases: Array<[string[], RegExp]> = [
      [['--http', 'garbage'], /--http "garbage"/],
      [['--http', '127.0.0.1:99999'], /--http "127\.0\.0\.1:99999".*port/],
      [['--http', 'unix:///tmp/x.sock'], /--http/],
      [['--listen', 'garbage'], /--listen "garbage"/],
      [['--listen', '127.0.0.1:70000'], /--listen "127\.0\.0\.1:70000".*port/],
      [['--listen', '1.2.3.4.5:53'], /--listen "1\.2\.3\.4\.5:53"/],
      [['--listen', 'unix://relative.sock'], /--listen "unix:\/\/relative\.sock".*absolute/],
      [['--listen', `unix:///nonexistent-dir-${process.pid}/s.sock`], /--listen .*nonexistent-dir.*no such folder/],
      [['--listen', `unix:///tmp/${'x'.repeat(120)}.sock`], /--listen .*too long/],
      [['--tls-listen', 'nope', '--tls-cert', '/dev/null', '--tls-key', '/dev/null', '--tls-client-ca', '/dev/null'], /--tls-listen "nope"/],
      // Serving workers each need their own address, and --tls-listen stays on the main thread.
      [['--workers', '2'], /--workers 2 needs a --listen address with \{worker\}/],
      [['--workers', '0'], /--workers .*1 to 64/],
      [['--workers', '65'], /--workers .*1 to 64/],
      [['--workers', '2', '--listen', '127.0.0.1:99{worker}99'], /--listen "127\.0\.0\.1:99\{worker\}99" \(worker 0: "127\.0\.0\.1:99099"\): port/],
      [['--workers', '2', '--listen', 'unix:///tmp/w{worker}.sock', '--tls-listen', 'unix:///tmp/t{worker}.sock', '--tls-cert', '/dev/null', '--tls-key', '/dev/null', '--tls-client-ca', '/dev/null'], /--tls-listen .*\{worker\} belongs in --listen/],
    ];
    for (const [args, re] of cases) {
      it(args.slice(0, 2).join(' '), async () => refused(await serve(args), re, args.join(' ')));
    }
  });

  describe('files exist', () => {
    it('--manifests /nonexistent', async () => {
      const r = await crdns(['serve', '--zone', 'example.test', '--manifests', `/nonexistent-${process.pid}`, '--listen', `unix://${path.join(dir, 'm.sock')}`], {}, 15_000);
      refused(r, /--manifests "\/nonexistent-\d+": no such folder/, '--manifests');
    });

    it('--manifests naming a file', async () => {
      const file = path.join(dir, 'one.yaml');
      await writeFile(file, '');
      const r = await crdns(['serve', '--zone', 'example.test', '--manifests', file, '--listen', `unix://${path.join(dir, 'm.sock')}`], {}, 15_000);
      refused(r, /--manifests .*not a folder/, '--manifests FILE');
    });

    it('--kubeconfig /nonexistent', async () => {
      const r = await crdns(['serve', '--zone', 'example.test', '--kubeconfig', `/nonexistent-${process.pid}`, '--listen', `unix://${path.join(dir, 'k.sock')}`], {}, 15_000);
      refused(r, /--kubeconfig "\/nonexistent-\d+": /, '--kubeconfig');
    });

    it('TLS file flags without --tls-listen', async () => {
      refused(await serve(['--tls-cert', '/dev/null']), /--tls-cert .*--tls-listen/, '--tls-cert alone');
    });
  });

  describe('the manifest folder and the Kubernetes flags exclude each other', () => {
    const cases: Array<[string[], NodeJS.ProcessEnv, RegExp]> = [
      [['--namespace', 'ims'], {}, /--manifests .*--namespace/],
      [['--label-selector', 'a=b'], {}, /--manifests .*--label-selector/],
      [['--kubeconfig', '/etc/hostname'], {}, /--manifests .*--kubeconfig/],
      [['--watch-idle-timeout', '60'], {}, /--manifests .*--watch-idle-timeout/],
      [[], { CRDNS_NAMESPACE: 'ims' }, /--manifests .*--namespace/],
    ];
    for (const [args, env, re] of cases) {
      it(`--manifests with ${args[0] ?? Object.keys(env)[0]}`, async () => refused(await serve(args, env), re, args.join(' ')));
    }
  });

  describe('--snapshot-file needs a writable folder, --snapshot-wait needs --snapshot-file', () => {
    it('a folder that does not exist', async () => refused(await serve(['--snapshot-file', path.join(dir, 'nope', 'snapshot.json')]), /--snapshot-file ".*nope\/snapshot\.json": folder .* does not exist/, 'missing folder'));
    it('a folder, not a file', async () => refused(await serve(['--snapshot-file', dir]), /--snapshot-file ".*": not a regular file/, 'folder as file'));
    it('--snapshot-wait alone', async () => refused(await serve(['--snapshot-wait', '5']), /--snapshot-wait given without --snapshot-file/, 'wait alone'));
    it('CRDNS_SNAPSHOT_WAIT out of range', async () => {
      refused(await serve(['--snapshot-file', path.join(dir, 'snapshot.json')], { CRDNS_SNAPSHOT_WAIT: '3601' }), /--snapshot-wait must be from 0 to 3600/, 'wait range');
    });
  });

  describe('a taken port fails naming its flag', () => {
    let held: { server: Server; port: number };
    before(async () => (held = await holdPort()));
    after(() => held.server.close());

    it('--listen', async () => {
      const r = await crdns(['serve', '--zone', 'example.test', '--manifests', dir, '--listen', `127.0.0.1:${held.port}`], {}, 15_000);
      refused(r, new RegExp(`--listen "127\\.0\\.0\\.1:${held.port}": .*in use`), 'taken --listen');
    });

    it('--listen of a serving worker (--workers)', async () => {
      // Worker 0 gets 127.0.0.1 (taken), worker 1 127.0.1.1; the message names --listen, not --tls-listen.
      const r = await crdns(['serve', '--zone', 'example.test', '--manifests', dir, '--workers', '2', '--listen', `127.0.{worker}.1:${held.port}`], {}, 15_000);
      refused(r, new RegExp(`--listen "127\\.0\\.0\\.1:${held.port}": .*in use`), 'taken worker --listen');
    });

    it('--http, before "grpc listening" is logged', async () => {
      const r = await serve(['--http', `127.0.0.1:${held.port}`]);
      refused(r, new RegExp(`--http "127\\.0\\.0\\.1:${held.port}": .*in use`), 'taken --http');
    });
  });
});
