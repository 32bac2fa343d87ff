import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { KubeconfigFollower } from '../../../../src/sources/peers/kubeconfig-follower.js';
import { callbackLogger } from '../../../support/logger.js';

/** A source that remembers the file text it was made from and what happened to it. */
class Recorded {
  started = false;
  stopped = false;
  constructor(readonly madeFrom: string) {}
  async stop(): Promise<void> {
    this.stopped = true;
  }
}

describe('KubeconfigFollower', () => {
  let dir: string;
  let file: string;
  let made: Recorded[];
  let lines: string[];
  let follower: KubeconfigFollower<Recorded>;
  // The content "bad" stands for a kubeconfig the loader refuses.
  let current = '';

  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'crdns-follower-'));
    file = path.join(dir, 'kubeconfig');
    made = [];
    lines = [];
    current = 'token: one';
    await writeFile(file, current);
    follower = new KubeconfigFollower({
      path: file,
      make: () => {
        if (current === 'bad') throw new Error('no current context');
        const r = new Recorded(current);
        made.push(r);
        return r;
      },
      start: async (r) => {
        r.started = true;
      },
      what: 'things',
      logger: callbackLogger((level, message) => lines.push(`${level} ${message}`)),
      checkMs: 60_000,
    });
    await follower.start();
  });

  afterEach(async () => {
    await follower.stop();
    await rm(dir, { recursive: true, force: true });
  });

  async function rewrite(text: string): Promise<void> {
    current = text;
    await writeFile(file, text);
    await follower.check();
  }

  it('starts one source from the file', () => {
    assert.equal(made.length, 1);
    assert.equal(follower.source, made[0]);
    assert.ok(made[0]?.started);
  });

  it('keeps the source while the file is unchanged', async () => {
    await follower.check();
    assert.equal(made.length, 1);
    assert.equal(follower.reloads, 0);
  });

  it('on a change stops the old source and starts one from the new file', async () => {
    await rewrite('token: two');
    assert.equal(made.length, 2);
    assert.ok(made[0]?.stopped);
    assert.equal(follower.source?.madeFrom, 'token: two');
    assert.ok(follower.source?.started);
    assert.equal(follower.reloads, 1);
    assert.ok(lines.includes('info peer kubeconfig changed; watching things with the new credentials'));
  });

  it('keeps the source in use when the new file is unusable, and takes it once fixed', async () => {
    await rewrite('bad');
    assert.equal(follower.source, made[0]);
    assert.equal(made[0]?.stopped, false);
    assert.ok(lines.some((l) => l.startsWith('warn peer kubeconfig changed but is unusable')));
    await rewrite('token: three');
    assert.equal(follower.source?.madeFrom, 'token: three');
  });

  it('keeps the source in use when the file disappears', async () => {
    await rm(file);
    await follower.check();
    assert.equal(follower.source, made[0]);
    assert.ok(lines.some((l) => l.startsWith('warn peer kubeconfig unreadable')));
  });

  it('stops the source it runs on stop', async () => {
    await follower.stop();
    assert.ok(made[0]?.stopped);
  });
});
