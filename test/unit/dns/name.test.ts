// parseName answers canonical names through one regular expression and
// everything else label by label (parseNameInFull). The two must agree on
// every input: generated names near each rule's edge, compared whole.
import assert from 'node:assert/strict';
import { parseName, parseNameInFull } from '../../../src/dns/name.js';

function random(seed: number): () => number {
  let x = seed;
  return () => {
    x = (x * 1103515245 + 12345) % 2147483648;
    return x / 2147483648;
  };
}

const PIECES = ['a', 'z', '0', '9', '-', '_', 'A', 'Q', '*', ' ', '.', '..', 'ü', '\u3002', '/', '\\', 'xn--bcher-kva'];

function generated(next: () => number): string {
  const labels: string[] = [];
  const count = 1 + Math.floor(next() * 6);
  for (let i = 0; i < count; i++) {
    const r = next();
    // Labels of 62 to 64 octets and names near 253 characters are where the limits are.
    if (r < 0.1) labels.push('a'.repeat(62 + Math.floor(next() * 3)));
    else if (r < 0.15) labels.push('*');
    else {
      let label = '';
      const length = 1 + Math.floor(next() * 8);
      for (let j = 0; j < length; j++) label += next() < 0.8 ? 'abcdefghijklmnopqrstuvwxyz0123456789'[Math.floor(next() * 36)] : PIECES[Math.floor(next() * PIECES.length)];
      labels.push(label);
    }
  }
  let name = labels.join('.');
  if (next() < 0.1) name = `${'b'.repeat(60)}.${'c'.repeat(60)}.${'d'.repeat(60)}.${'e'.repeat(50 + Math.floor(next() * 20))}.${name}`.slice(0, 250 + Math.floor(next() * 8));
  if (next() < 0.1) name += '.';
  if (next() < 0.05) name = `.${name}`;
  return name;
}

describe('parseName', () => {
  it('answers exactly as the label-by-label parser on 20,000 generated names, wildcards allowed and not', () => {
    const next = random(7);
    let canonical = 0;
    for (let i = 0; i < 20_000; i++) {
      const name = generated(next);
      for (const wildcard of [false, true]) {
        const full = parseNameInFull(name, wildcard);
        assert.deepEqual(parseName(name, wildcard), full, `${JSON.stringify(name)} wildcard=${wildcard}`);
        if (full.ok && full.name === name) canonical++;
      }
    }
    // Both paths must have been exercised: many canonical names, many not.
    assert.ok(canonical > 5_000 && canonical < 35_000, `${canonical} canonical answers of 40,000`);
  });

  it('keeps the limits at their edges: 63-octet labels, 255-octet names', () => {
    const label63 = 'a'.repeat(63);
    assert.deepEqual(parseName(label63), { ok: true, name: label63 });
    assert.equal(parseName('a'.repeat(64)).ok, false);
    const longest = [label63, label63, label63, 'a'.repeat(61)].join('.'); // 253 characters, 255 octets
    assert.deepEqual(parseName(longest), { ok: true, name: longest });
    assert.equal(parseName(`${longest}a`).ok, false);
    assert.deepEqual(parseName(`*.${'a'.repeat(61)}`, true), { ok: true, name: `*.${'a'.repeat(61)}` });
    assert.equal(parseName('*.example').ok, false);
  });
});
