/**
 * Where `crdns serve` listens: an empty host means every address family (the
 * chart renders `--http=:9253`, and an IPv6-only cluster probes over IPv6),
 * and a unix socket path is taken over only when it is a dead socket.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { get } from 'node:http';
import { createServer, type Server } from 'node:net';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { healthServiceClient } from '../../../src/server/protos.js';
import { startCrdns } from '../../harness/crdns-process.js';
import { crdns, dnsEndpoint, tempDir } from './support.js';

function httpStatus(host: string, port: number, urlPath: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = get({ host, port, path: urlPath, timeout: 5000 }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
  });
}

function healthCheck(address: string): Promise<string> {
  const Health = healthServiceClient();
  const client = new Health(address, grpc.credentials.createInsecure()) as unknown as grpc.Client & {
    Check: (req: { service: string }, opts: grpc.CallOptions, cb: (err: grpc.ServiceError | null, res?: { status: string }) => void) => void;
  };
  return new Promise((resolve, reject) =>
    client.Check({ service: '' }, { deadline: Date.now() + 5000 }, (err, res) => {
      client.close();
      if (err) reject(err);
      else resolve(res?.status ?? 'none');
    }),
  );
}

function portOf(address: string): number {
  return Number(/:(\d+)$/.exec(address)?.[1]);
}

describe('crdns serve: listening addresses', function () {
  this.timeout(120_000);
  let dir: string;
  let remove: () => Promise<void>;

  before(async () => {
    ({ dir, remove } = await tempDir('listen'));
    await writeFile(path.join(dir, 'a.yaml'), dnsEndpoint('a', ['{dnsName: www.example.test, recordType: A, targets: [192.0.2.1]}']));
  });
  after(async () => remove());

  it('--http :PORT and --listen :PORT answer over IPv4 and IPv6', async () => {
    const proc = await startCrdns({ zones: ['example.test'], manifests: dir, listen: [':0'], http: ':0' });
    try {
      const grpcPort = portOf(proc.addresses[0] as string);
      const httpPort = portOf(proc.httpAddress());
      assert.equal(await httpStatus('127.0.0.1', httpPort, '/healthz'), 200, 'http over IPv4');
      assert.equal(await httpStatus('::1', httpPort, '/healthz'), 200, 'http over IPv6');
      assert.equal(await healthCheck(`127.0.0.1:${grpcPort}`), 'SERVING', 'grpc over IPv4');
      assert.equal(await healthCheck(`[::1]:${grpcPort}`), 'SERVING', 'grpc over IPv6');
    } finally {
      await proc.stop();
    }
  });

  describe('a unix socket path', () => {
    it('that holds a regular file is refused and the file kept', async () => {
      const file = path.join(dir, 'precious.sock');
      await writeFile(file, 'not a socket');
      const r = await crdns(['serve', '--zone', 'example.test', '--manifests', dir, '--listen', `unix://${file}`], {}, 15_000);
      assert.equal(r.code, 2, r.err);
      assert.match(r.err, /--listen "unix:\/\/.*precious\.sock": .*not a socket/);
      assert.equal(await readFile(file, 'utf8'), 'not a socket');
    });

    it('with a live server behind it is refused and left alone', async () => {
      const sock = path.join(dir, 'live.sock');
      const server: Server = createServer((c) => c.end());
      await new Promise<void>((resolve) => server.listen(sock, resolve));
      try {
        const before = (await stat(sock)).ino;
        const r = await crdns(['serve', '--zone', 'example.test', '--manifests', dir, '--listen', `unix://${sock}`], {}, 15_000);
        assert.equal(r.code, 2, r.err);
        assert.match(r.err, /--listen "unix:\/\/.*live\.sock": .*in use/);
        assert.doesNotMatch(r.err, /"grpc listening"/);
        assert.equal((await stat(sock)).ino, before, 'the live socket file is the same one');
      } finally {
        server.close();
      }
    });

    it('left by a killed process is removed and reused', async () => {
      const sock = path.join(dir, 'stale.sock');
      // A process killed with SIGKILL cannot unlink its socket: exactly what a crashed predecessor leaves.
      const child = spawn(process.execPath, ['-e', `require('net').createServer().listen(${JSON.stringify(sock)}, () => process.kill(process.pid, 'SIGKILL'))`]);
      await new Promise((resolve) => child.once('exit', resolve));
      assert.ok(existsSync(sock), 'the killed process left its socket');
      const proc = await startCrdns({ zones: ['example.test'], manifests: dir, listen: [`unix://${sock}`] });
      try {
        assert.equal(await healthCheck(`unix://${sock}`), 'SERVING');
      } finally {
        await proc.stop();
      }
    });
  });
});
