/** The per-name input index: one input, a few, many; adds are idempotent and removes leave the rest. */
import assert from 'node:assert/strict';
import type { RRsetInput } from '../../../src/dns/zone-input.js';
import { InputIndex } from '../../../src/store/input-index.js';

function input(name: string, i: number): RRsetInput {
  return { name, type: 'A', ttl: 60, data: [`192.0.2.${i % 250}`], origin: { object: `ns/o${i}`, since: 0 }, index: 0 };
}

describe('InputIndex', () => {
  for (const n of [1, 2, 8, 9, 40]) {
    it(`keeps ${n} input(s) at one name through adds, repeated adds and removes`, () => {
      const index = new InputIndex();
      const inputs = Array.from({ length: n }, (_, i) => input('x.example.test', i));
      const other = input('y.example.test', 999);
      index.add([...inputs, other]);
      index.add(inputs);
      assert.deepEqual(new Set(index.at('x.example.test')), new Set(inputs));
      assert.equal(index.at('x.example.test').length, n);
      assert.equal(index.size, 2);
      // Remove every other input, then the rest: the set shrinks exactly, the other name stays.
      const odd = inputs.filter((_, i) => i % 2 === 1);
      const even = inputs.filter((_, i) => i % 2 === 0);
      index.remove(odd);
      assert.deepEqual(new Set(index.at('x.example.test')), new Set(even));
      index.remove(even);
      assert.deepEqual(index.at('x.example.test'), []);
      assert.deepEqual([...index.names()], ['y.example.test']);
      assert.deepEqual(index.at('y.example.test'), [other]);
    });
  }

  it('replace leaves the inputs both versions hold and swaps the rest', () => {
    const index = new InputIndex();
    const kept = input('a.example.test', 1);
    const gone = input('a.example.test', 2);
    const moved = input('b.example.test', 3);
    index.add([kept, gone, moved]);
    const added = input('a.example.test', 4);
    index.replace([kept, gone, moved], [kept, added]);
    assert.deepEqual(new Set(index.at('a.example.test')), new Set([kept, added]));
    assert.deepEqual(index.at('b.example.test'), []);
    assert.equal(index.size, 1);
  });
});
