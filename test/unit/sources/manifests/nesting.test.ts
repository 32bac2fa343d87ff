import assert from 'node:assert/strict';
import { Parser } from 'yaml';
import { flowTooDeepAt, tokensTooDeepAt } from '../../../../src/sources/manifests/nesting.js';

describe('manifest nesting limits', () => {
  describe('flowTooDeepAt: the text scan for flow brackets', () => {
    const table: Array<[string, string, number | undefined]> = [
      ['within the limit', '[[[a]]]', undefined],
      ['one past the limit', '[[[[a]]]]', 3],
      ['closed brackets do not add up', '[a] [b] [c] [d] {e: f}', undefined],
      ['brackets in double quotes', '"[[[[[[" [x]', undefined],
      ['brackets in single quotes, with an escaped quote', "'it''s [[[[[[' [x]", undefined],
      ['an escaped double quote does not end the scalar', '"a\\"[[[[[[" [x]', undefined],
      ['brackets in a comment', 'a: 1 # [[[[[[[\n[x]', undefined],
      ['a # inside a word is not a comment', 'a#[[[[', 5],
      ['a quote inside a plain word opens nothing', "don't [[[[", 9],
    ];
    for (const [what, text, want] of table) {
      it(what, () => assert.equal(flowTooDeepAt(text, 3), want));
    }
  });

  describe('tokensTooDeepAt: the parser tokens, every kind of collection', () => {
    const table: Array<[string, string, number | undefined]> = [
      ['block mappings within the limit', 'a:\n  b:\n    c: 1\n', undefined],
      ['block mappings one past the limit: at the first key of the fourth', 'a:\n  b:\n    c:\n      d: 1\n', 21],
      ['a block sequence, a mapping and a flow sequence', '- a: [1]\n', undefined],
      ['the same with a sequence between', '- a:\n  - [1]\n', 9],
      ['several documents, each measured from the top', 'a:\n  b:\n    c: 1\n---\na:\n  b:\n    c: 1\n', undefined],
    ];
    for (const [what, text, want] of table) {
      it(what, () => assert.equal(tokensTooDeepAt([...new Parser().parse(text)], 3), want));
    }
  });
});
