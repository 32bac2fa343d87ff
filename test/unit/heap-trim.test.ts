/** HeapTrim: the engine's gc() is reachable without --expose-gc, runs a second after a full build, and not again within a minute; the young generation shrinks once allocation is quiet. */
import { getHeapSpaceStatistics } from 'node:v8';
import assert from 'node:assert/strict';
import { HeapTrim } from '../../src/heap-trim.js';

describe('HeapTrim', function () {
  this.timeout(30_000);

  it('collects once, a second after a full build, and not again within the minute', async () => {
    const trim = new HeapTrim();
    try {
      assert.equal(trim.available, true, 'gc() obtained without --expose-gc');
      trim.afterFullBuild();
      trim.afterFullBuild();
      await new Promise((r) => setTimeout(r, 500));
      assert.equal(trim.collections, 0, 'not before a second has passed');
      await new Promise((r) => setTimeout(r, 1000));
      assert.equal(trim.collections, 1);
      trim.afterFullBuild();
      await new Promise((r) => setTimeout(r, 1500));
      assert.equal(trim.collections, 1, 'the next one waits for the minute to pass');
    } finally {
      trim.stop();
    }
  });

  it('gives the garbage of a large build back', async () => {
    const trim = new HeapTrim();
    try {
      // About 300 MB of short-lived objects, the way a parse leaves them.
      let junk: unknown[] = [];
      for (let i = 0; i < 3_000_000; i++) junk.push({ name: `n${i}`, targets: [`10.0.${i & 255}.${i >> 8}`] });
      junk = [];
      const before = process.memoryUsage().heapUsed;
      trim.afterFullBuild();
      await new Promise((r) => setTimeout(r, 1600));
      const after = process.memoryUsage().heapUsed;
      assert.equal(junk.length, 0);
      assert.ok(after < before / 2, `heap used ${Math.round(before / 1e6)} MB before, ${Math.round(after / 1e6)} MB after`);
    } finally {
      trim.stop();
    }
  });

  it('gives the young generation back once allocation has been quiet', async () => {
    const trim = new HeapTrim();
    const youngBytes = (): number => getHeapSpaceStatistics().find((s) => s.space_name === 'new_space')?.space_size ?? 0;
    try {
      // A build's worth of survivors grows the young generation to its maximum.
      let kept: unknown[] = [];
      for (let i = 0; i < 2_000_000; i++) kept.push({ name: `n${i}` });
      const grown = youngBytes();
      kept = [];
      trim.afterFullBuild();
      await new Promise((r) => setTimeout(r, 1600));
      assert.equal(trim.youngCollections, 0, 'not with the full collections');
      await new Promise((r) => setTimeout(r, 6500));
      assert.equal(trim.youngCollections, 1);
      assert.equal(kept.length, 0);
      assert.ok(youngBytes() < grown / 4, `young generation ${Math.round(grown / 1e6)} MB grown, ${Math.round(youngBytes() / 1e6)} MB after`);
    } finally {
      trim.stop();
    }
  });
});
