/**
 * Signals and build metrics of a running `crdns serve`: SIGHUP reloads instead
 * of killing the process (it used to die without a graceful stop), and
 * /metrics says which build is running and when its snapshot was built.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { get } from 'node:http';
import path from 'node:path';
import { startCrdns } from '../../harness/crdns-process.js';
import { pollUntil } from '../../support/eventually.js';
import { dnsEndpoint, REPO, tempDir } from './support.js';

function metrics(address: string): Promise<string> {
  return new Promise((resolve, reject) => {
    get(`http://${address}/metrics`, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve(body));
    }).on('error', reject);
  });
}

describe('crdns serve: signals and build metrics', function () {
  this.timeout(120_000);
  let dir: string;
  let remove: () => Promise<void>;

  before(async () => {
    ({ dir, remove } = await tempDir('signals'));
    await writeFile(path.join(dir, 'a.yaml'), dnsEndpoint('a', ['{dnsName: www.example.test, recordType: A, targets: [192.0.2.1]}']));
  });
  after(async () => remove());

  it('SIGHUP rescans the manifest folder and keeps serving; SIGTERM still stops gracefully', async () => {
    const proc = await startCrdns({ zones: ['example.test'], manifests: dir });
    try {
      proc.child.kill('SIGHUP');
      await pollUntil(async () => proc.logs(), (l) => /"msg":"SIGHUP: manifest folder rescanned"/.test(l), 'rescan after SIGHUP logged');
      assert.equal(proc.child.exitCode, null, 'still running');
      assert.equal(proc.child.signalCode, null, 'not killed by the signal');
      proc.child.kill('SIGHUP');
      await pollUntil(async () => proc.logs(), (l) => l.split('SIGHUP: manifest folder rescanned').length === 3, 'a second SIGHUP handled too');
    } finally {
      await proc.stop();
    }
    assert.equal(proc.child.exitCode, 0, 'SIGTERM exits 0');
    assert.match(proc.logs(), /"msg":"stopping","signal":"SIGTERM"/);
  });

  it('/metrics has crdns_build_info and crdns_snapshot_timestamp_seconds', async () => {
    const started = Date.now() / 1000;
    const proc = await startCrdns({ zones: ['example.test'], manifests: dir, http: '127.0.0.1:0' });
    try {
      const text = await metrics(proc.httpAddress());
      const version = (JSON.parse(readFileSync(path.join(REPO, 'package.json'), 'utf8')) as { version: string }).version;
      assert.match(text, new RegExp(`^crdns_build_info\\{version="${version.replace(/\./g, '\\.')}",node="${process.version.replace(/\./g, '\\.')}"\\} 1$`, 'm'));
      const ts = Number(/^crdns_snapshot_timestamp_seconds (\S+)$/m.exec(text)?.[1]);
      assert.ok(ts >= Math.floor(started) && ts <= Date.now() / 1000, `snapshot timestamp ${ts} lies between start (${started}) and now`);
    } finally {
      await proc.stop();
    }
  });
});
