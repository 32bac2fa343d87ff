import assert from 'node:assert/strict';
import { jsonEqual } from '../../../src/endpoint/json-equal.js';

describe('jsonEqual', () => {
  // Each row: two values, and whether JSON.stringify would make them the same text (key order aside).
  const table: Array<[string, unknown, unknown, boolean]> = [
    ['equal primitives', 'a', 'a', true],
    ['different strings', 'a', 'b', false],
    ['a number and its string', 1, '1', false],
    ['null and an empty object', null, {}, false],
    ['nested equal values', { a: [1, { b: 'x' }], c: true }, { c: true, a: [1, { b: 'x' }] }, true],
    ['a deep difference', { a: [1, { b: 'x' }] }, { a: [1, { b: 'y' }] }, false],
    ['arrays of other lengths', [1, 2], [1, 2, 3], false],
    ['an array and an object with index keys', [1], { 0: 1 }, false],
    ['a missing key and one holding undefined', { a: 1 }, { a: 1, b: undefined }, true],
    ['an extra key', { a: 1 }, { a: 1, b: 2 }, false],
    ['a key missing on the left', { a: 1, b: 2 }, { a: 1 }, false],
  ];
  for (const [what, a, b, want] of table) {
    it(what, () => {
      assert.equal(jsonEqual(a, b), want);
      assert.equal(jsonEqual(b, a), want, 'symmetric');
    });
  }
});
