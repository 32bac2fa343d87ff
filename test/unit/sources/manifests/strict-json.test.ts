/**
 * parseStrictJson (JSON.parse, then a scan for what it leaves unchecked) must
 * give what the JavaScript parser gives, value, positions and errors alike:
 * held to it on generated texts, duplicate keys, escapes and depth included.
 */
import assert from 'node:assert/strict';
import { parseStrictJson, parseWithPositions, type JsonParseResult } from '../../../../src/sources/manifests/strict-json.js';

function random(seed: number): () => number {
  let x = seed;
  return () => (x = (x * 1103515245 + 12345) & 0x7fffffff) / 0x80000000;
}

/** A JSON text with keys from a tiny alphabet (so duplicates happen), some written with escapes. */
function generate(rnd: () => number, depth = 0): string {
  const ws = (): string => [' ', '', '\n', '\t', '\r\n  '][Math.floor(rnd() * 5)] as string;
  const keys = ['"a"', '"b"', '"\\u0061"', '"items"', '"\\u0069tems"', '""', '"k\\"q"', '"k\\\\"'];
  const r = rnd();
  if (depth > 4 || r < 0.3) {
    const scalars = ['1', '-0.5e3', '0', 'true', 'false', 'null', '"x"', '"esc\\n\\u00e9\\/"', '"long enough to be sliced from the text"'];
    return scalars[Math.floor(rnd() * scalars.length)] as string;
  }
  const count = Math.floor(rnd() * 5);
  const parts: string[] = [];
  if (r < 0.65) {
    for (let i = 0; i < count; i++) parts.push(`${ws()}${keys[Math.floor(rnd() * keys.length)]}${ws()}:${ws()}${generate(rnd, depth + 1)}${ws()}`);
    return `{${parts.join(',')}}`;
  }
  for (let i = 0; i < count; i++) parts.push(`${ws()}${generate(rnd, depth + 1)}${ws()}`);
  return `[${parts.join(',')}]`;
}

function same(text: string): void {
  const fast: JsonParseResult = parseStrictJson(text);
  const slow: JsonParseResult = parseWithPositions(text);
  const show = JSON.stringify(text.length > 300 ? `${text.slice(0, 300)}…` : text);
  assert.equal(fast.ok, slow.ok, show);
  if (!fast.ok || !slow.ok) {
    assert.deepEqual(fast, slow, show);
    return;
  }
  assert.deepEqual(fast.document?.value, slow.document?.value, show);
  assert.deepEqual(fast.document?.at, slow.document?.at, show);
  for (let i = 0; i < 8; i++) assert.deepEqual(fast.document?.itemAt(i), slow.document?.itemAt(i), `${show} item ${i}`);
}

describe('strict JSON', () => {
  it('agrees with the JavaScript parser on 5,000 generated texts', () => {
    const rnd = random(11);
    let duplicates = 0;
    for (let n = 0; n < 5000; n++) {
      const text = n % 3 === 0 ? `{"kind":"List",${n % 2 ? ' ' : '\n'}"items":${generate(rnd, 1)}}` : generate(rnd);
      same(text);
      const r = parseStrictJson(text);
      if (!r.ok && r.message.startsWith('duplicate key')) duplicates++;
    }
    // The generator must exercise the duplicate check, or the comparison proves little.
    assert.ok(duplicates > 500, `${duplicates} texts with a duplicate key`);
  });

  it('agrees on keys that are equal only once their escapes are read', () => {
    for (const text of ['{"a":1,"\\u0061":2}', '{"\\u0061":1,"a":2}', '{"items":[1],"\\u0069tems":[2]}', '{"\\u0069tems":[{"a":1},\n {"b":2}]}', '{"x":{"a":1},"y":{"a":2}}', '{"a":{},"b":[{}],"c":"a"}', '[{},"a",{"a":1,"a":2}]', '{"items":[{},"x",{}]}', '{"items":[{}, [], "x", 1]}']) same(text);
  });

  it('agrees on objects past the linear comparison, with and without a duplicate', () => {
    const keys = Array.from({ length: 40 }, (_, i) => `"k${i}":${i}`);
    same(`{${keys.join(',')}}`);
    same(`{${keys.join(',')},"k3":0}`);
    same(`{${keys.join(',')},"k\\u0033":0}`);
  });

  it('agrees on depth at, and one past, the limit', () => {
    for (const depth of [512, 513, 514, 600]) {
      same('['.repeat(depth) + ']'.repeat(depth));
      same(`${'['.repeat(depth)}1${']'.repeat(depth)}`);
      same(`${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`);
    }
  });

  it('agrees on texts JSON.parse refuses, and on whitespace only', () => {
    for (const text of ['', '  \n', '{"a":}', '[1,]', "{'a':1}", '[01]', '{} x', '"\\x"', '{"a":1,"a":2,}']) same(text);
  });
});
