/** Keeping --snapshot-file current: atomic replacement on a real file system, at most one write per interval, failures retried and never thrown. */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { removeStaleTemps, writeFileAtomic } from '../../../src/store/atomic-write.js';
import { SnapshotFileWriter } from '../../../src/store/snapshot-file-writer.js';
import { callbackLogger } from '../../support/logger.js';

/** Timers under the test's control: time moves only when advance() says so. */
class FakeTime {
  now = 1_000_000;
  private timers: Array<{ at: number; fn: () => void; id: number }> = [];
  private nextId = 0;
  clock = (): number => this.now;
  setTimer = (fn: () => void, ms: number): (() => void) => {
    const id = this.nextId++;
    this.timers.push({ at: this.now + ms, fn, id });
    return () => {
      this.timers = this.timers.filter((t) => t.id !== id);
    };
  };
  get pending(): number {
    return this.timers.length;
  }
  async advance(ms: number): Promise<void> {
    const end = this.now + ms;
    for (;;) {
      this.timers.sort((a, b) => a.at - b.at);
      const t = this.timers[0];
      if (!t || t.at > end) break;
      this.timers.shift();
      this.now = t.at;
      t.fn();
      // Let the write's promise chain run, as the event loop would between timers.
      for (let i = 0; i < 10; i++) await Promise.resolve();
    }
    this.now = end;
    for (let i = 0; i < 10; i++) await Promise.resolve();
  }
}

describe('snapshot file writer', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'crdns-snapfile-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('replaces the file atomically: concurrent readers only ever see a whole old or new version, and no temp file is left', async () => {
    const target = path.join(dir, 'snapshot.json');
    // Large enough that a non-atomic write would be seen half done.
    const versions = ['a', 'b', 'c'].map((c) => `${c.repeat(2_000_000)}\n`);
    await writeFileAtomic(target, versions[0] as string);
    let reading = true;
    let reads = 0;
    const reader = (async () => {
      while (reading) {
        const text = await readFile(target, 'utf8');
        assert.ok(versions.includes(text), `a read saw ${text.length} bytes starting ${JSON.stringify(text.slice(0, 3))}`);
        reads++;
      }
    })();
    for (let i = 0; i < 15; i++) await writeFileAtomic(target, versions[i % 3] as string);
    reading = false;
    await reader;
    assert.ok(reads > 0);
    assert.deepEqual(await readdir(dir), ['snapshot.json']);
  });

  it('leaves the old file intact and no temp file when a write fails', async () => {
    const target = path.join(dir, 'snapshot.json');
    await writeFile(target, 'old\n');
    // A non-empty folder where the file should go: the temp file is written and synced, the rename fails.
    await mkdir(path.join(dir, 'occupied'));
    await writeFile(path.join(dir, 'occupied', 'f'), 'keep');
    await assert.rejects(writeFileAtomic(path.join(dir, 'occupied'), 'new'));
    // A write that fails after the temp file was opened: the target keeps its content.
    await assert.rejects(writeFileAtomic(target, 42 as unknown as string));
    assert.deepEqual((await readdir(dir)).sort(), ['occupied', 'snapshot.json']);
    assert.equal(await readFile(target, 'utf8'), 'old\n');
  });

  it('removes only its own stale temp files', async () => {
    const target = path.join(dir, 'snapshot.json');
    const stale = path.join(dir, 'snapshot.json.123.0a1b2c3d.tmp');
    const fresh = path.join(dir, 'snapshot.json.124.0a1b2c3e.tmp');
    const other = path.join(dir, 'other.json.123.0a1b2c3d.tmp');
    for (const f of [stale, fresh, other]) await writeFile(f, 'x');
    const old = new Date(Date.now() - 3_600_000);
    await utimes(stale, old, old);
    await utimes(other, old, old);
    assert.deepEqual(await removeStaleTemps(target, 60_000), [stale]);
    assert.deepEqual((await readdir(dir)).sort(), [path.basename(fresh), path.basename(other)].sort());
  });

  it('writes about an interval after a change, with every change of that interval, and never more than once per interval', async () => {
    const time = new FakeTime();
    const writes: Array<{ at: number; data: string }> = [];
    let state = 0;
    const writer = new SnapshotFileWriter({
      path: 'unused',
      render: () => `state ${state}`,
      intervalMs: 1000,
      clock: time.clock,
      setTimer: time.setTimer,
      write: async (_p, data) => {
        writes.push({ at: time.now, data });
      },
    });
    state = 1;
    writer.changed();
    await time.advance(999);
    assert.equal(writes.length, 0, 'not before the interval');
    state = 2;
    writer.changed();
    await time.advance(1);
    assert.deepEqual(writes, [{ at: 1_001_000, data: 'state 2' }], 'one write, with the latest state');
    // A stream of changes every 100 ms for 5 s.
    for (let i = 0; i < 50; i++) {
      state = 10 + i;
      writer.changed();
      await time.advance(100);
    }
    await time.advance(2000);
    const gaps = writes.slice(1).map((w, i) => w.at - (writes[i] as { at: number }).at);
    assert.ok(gaps.every((g) => g >= 1000), `gaps ${gaps.join(',')}`);
    assert.ok(writes.length >= 5 && writes.length <= 7, `${writes.length} writes`);
    assert.equal(writes.at(-1)?.data, 'state 59', 'the last change is written');
    assert.equal(time.pending, 0, 'nothing pending once written');
  });

  it('writes nothing while render says there is nothing to write', async () => {
    const time = new FakeTime();
    let writes = 0;
    const writer = new SnapshotFileWriter({ path: 'p', render: () => undefined, clock: time.clock, setTimer: time.setTimer, write: async () => void writes++ });
    writer.changed();
    await time.advance(5000);
    assert.equal(writes, 0);
  });

  it('counts and logs a failed write once per reason, retries later, and says when it works again', async () => {
    const time = new FakeTime();
    const logs: string[] = [];
    let failing = true;
    let attempts = 0;
    let failures = 0;
    let written = 0;
    const writer = new SnapshotFileWriter({
      path: '/x/snapshot.json',
      render: () => 'data',
      intervalMs: 1000,
      retryMs: 10_000,
      clock: time.clock,
      setTimer: time.setTimer,
      logger: callbackLogger((level, msg, fields) => logs.push(`${level} ${msg} ${String(fields?.error ?? '')}`)),
      onFailed: () => failures++,
      onWritten: () => written++,
      write: async () => {
        attempts++;
        if (failing) throw new Error('ENOSPC: no space left on device');
      },
    });
    writer.changed();
    await time.advance(1000);
    assert.equal(attempts, 1);
    await time.advance(5000);
    writer.changed();
    await time.advance(1000);
    assert.equal(attempts, 1, 'a change does not bypass the retry wait');
    await time.advance(4000);
    assert.equal(attempts, 2, 'retried after retryMs without any further change');
    assert.equal(failures, 2);
    assert.equal(logs.filter((l) => l.startsWith('warn')).length, 1, logs.join('\n'));
    assert.match(logs[0] as string, /^warn snapshot file not written; serving is not affected.*ENOSPC/);
    failing = false;
    await time.advance(10_000);
    assert.equal(attempts, 3);
    assert.equal(written, 1);
    assert.ok(logs.some((l) => l.startsWith('info snapshot file written again')));
    assert.equal(time.pending, 0, 'no retry once written');
  });

  it('writes what is pending on close, at once', async () => {
    const time = new FakeTime();
    const data: string[] = [];
    const writer = new SnapshotFileWriter({ path: 'p', render: () => 'last', clock: time.clock, setTimer: time.setTimer, write: async (_p, d) => void data.push(d) });
    writer.changed();
    await writer.close();
    assert.deepEqual(data, ['last']);
    writer.changed();
    await time.advance(5000);
    assert.deepEqual(data, ['last'], 'nothing after close');
  });
});
