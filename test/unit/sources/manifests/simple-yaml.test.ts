/**
 * simple-yaml.ts reads a file only if it gives what the `yaml` package gives
 * (values, documents, positions): held to it on generated manifests in the
 * styles kubectl, Helm and people write, on scalars of every kind the core
 * schema resolves, and on broken variants of them, which it must decline or
 * read exactly as the package does.
 */
import assert from 'node:assert/strict';
import { isMap, isSeq, LineCounter, parseAllDocuments, stringify } from 'yaml';
import { readSimpleYaml } from '../../../../src/sources/manifests/simple-yaml.js';
import type { Position } from '../../../../src/sources/manifests/strict-json.js';

interface Read {
  value: unknown;
  at: Position;
  items: (Position | undefined)[];
}

/** The `yaml` package's reading, as documents.ts asks for it; undefined when it reports an error. */
function byPackage(text: string): Read[] | undefined {
  const lc = new LineCounter();
  const docs = parseAllDocuments(text, { uniqueKeys: true, logLevel: 'error', lineCounter: lc });
  if (!Array.isArray(docs)) return [];
  const out: Read[] = [];
  for (const doc of docs) {
    if (doc.errors.length > 0) return undefined;
    const pos = (offset: number): Position => {
      const p = lc.linePos(offset);
      return { line: p.line, column: p.col };
    };
    const contents = doc.contents;
    const items = isMap(contents) ? contents.get('items', true) : undefined;
    out.push({
      value: doc.toJS(),
      at: pos(contents?.range?.[0] ?? doc.range[0]),
      items: isSeq(items) ? items.items.slice(0, 6).map((n) => ((n as { range?: number[] } | null)?.range ? pos((n as { range: number[] }).range[0] as number) : undefined)) : [],
    });
  }
  return out;
}

function bySimple(text: string): Read[] | undefined {
  const docs = readSimpleYaml(text);
  if (docs === undefined) return undefined;
  return docs.map((d) => {
    const items: (Position | undefined)[] = [];
    const seq = (d.value as { items?: unknown } | null)?.items;
    if (Array.isArray(seq)) for (let i = 0; i < Math.min(seq.length, 6); i++) items.push(d.itemAt(i));
    return { value: d.value, at: d.at, items };
  });
}

/** Reads `text` both ways; true when the simple reader took it (and agreed). */
function agree(text: string): boolean {
  const simple = bySimple(text);
  if (simple === undefined) return false;
  const pkg = byPackage(text);
  // An empty document has no position that matters: documents.ts skips it.
  for (const d of [...simple, ...(pkg ?? [])]) if (d.value === null) d.at = { line: 0, column: 0 };
  const show = JSON.stringify(text.length > 400 ? `${text.slice(0, 400)}…` : text);
  assert.ok(pkg !== undefined, `the package refuses what the simple reader read: ${show}`);
  assert.deepEqual(simple, pkg, show);
  return true;
}

function random(seed: number): () => number {
  let x = seed;
  return () => (x = (x * 1103515245 + 12345) & 0x7fffffff) / 0x80000000;
}

/** Scalars the core schema resolves in every way, and strings that look like them. */
const SCALARS: unknown[] = [
  'www.example.org', '192.0.2.1', 'fd00::1', '10 60 5060 sip.example.org.', '10 50 "S" "SIP+D2U" "" _sip._udp.example.org.', 'v=spf1 -all',
  'true', 'True', 'FALSE', 'yes', 'no', 'on', 'null', 'Null', '~', '', '0', '-0', '+12', '007', '0o17', '0x1F', '1.5', '.5', '-.5e3', '1e3', '.inf', '-.Inf', '.NaN', '1_000',
  'a: b', 'a #b', 'a#b', '-x', '- x', '?x', ':x', 'x:', '"quoted"', "it's", 'back\\slash', 'tab\there', 'line\nbreak', 'ü', '\u0001', 'nbsp\u00a0', '\u00a0lead', 'ff\f', 'ls\u2028ps\u2029', 'nel\u0085',
  300, 0, -1, 1.25, 1e21, true, false, null,
];
const KEYS = ['dnsName', 'recordType', 'targets', 'recordTTL', 'labels', 'app.kubernetes.io/name', 'external-dns.alpha.kubernetes.io/hostname', 'x_y', 'a-b', 'true', 'null', '1x', 'key with space', '"q"', '__proto__'];

function value(rnd: () => number, depth: number): unknown {
  const r = rnd();
  if (depth > 3 || r < 0.45) return SCALARS[Math.floor(rnd() * SCALARS.length)];
  const n = Math.floor(rnd() * 4);
  if (r < 0.75) {
    const m: Record<string, unknown> = {};
    for (let i = 0; i < n; i++) m[KEYS[Math.floor(rnd() * KEYS.length)] as string] = value(rnd, depth + 1);
    return m;
  }
  return Array.from({ length: n }, () => value(rnd, depth + 1));
}

function dnsEndpoint(rnd: () => number, i: number): Record<string, unknown> {
  const endpoints = Array.from({ length: 1 + Math.floor(rnd() * 3) }, () => ({
    dnsName: `host${i}.example.org`,
    recordType: ['A', 'AAAA', 'SRV', 'NAPTR'][Math.floor(rnd() * 4)],
    targets: Array.from({ length: 1 + Math.floor(rnd() * 2) }, () => SCALARS[Math.floor(rnd() * 12)]),
    ...(rnd() < 0.5 ? { recordTTL: 300 } : {}),
    ...(rnd() < 0.3 ? { labels: value(rnd, 2) } : {}),
  }));
  return { apiVersion: 'externaldns.k8s.io/v1alpha1', kind: 'DNSEndpoint', metadata: { name: `n${i}`, namespace: 'default' }, spec: { endpoints } };
}

/** The styles manifests come in: kubectl (sequences at their key's indentation), Helm and yaml defaults, quoting of every kind, JSON. */
function render(rnd: () => number, v: unknown): string {
  const style = Math.floor(rnd() * 5);
  if (style === 4) return `${JSON.stringify(v, null, rnd() < 0.5 ? 2 : undefined)}\n`;
  const options = [
    { indentSeq: false },
    { indentSeq: true },
    { indentSeq: false, defaultStringType: 'QUOTE_DOUBLE' as const, defaultKeyType: 'PLAIN' as const },
    { indentSeq: true, defaultStringType: 'QUOTE_SINGLE' as const, defaultKeyType: 'PLAIN' as const },
  ][style];
  return stringify(v, { ...options, lineWidth: 0 });
}

/** Breaks a text the ways hands and tools do: a line indented differently, dropped, duplicated, a tab, a comment. */
function mutate(rnd: () => number, text: string): string {
  const lines = text.split('\n');
  const at = Math.floor(rnd() * lines.length);
  const line = lines[at] as string;
  switch (Math.floor(rnd() * 6)) {
    case 0: lines[at] = ` ${line}`; break;
    case 1: lines[at] = line.replace(/^ /, ''); break;
    case 2: lines.splice(at, 1); break;
    case 3: lines.splice(at, 0, line); break;
    case 4: lines[at] = `${line} # note`; break;
    default: lines[at] = line.replace(': ', ':  '); break;
  }
  return lines.join('\n');
}

describe('simple YAML reader', () => {
  it('reads generated DNSEndpoint manifests exactly as the yaml package does, most of them itself', () => {
    const rnd = random(5);
    let taken = 0;
    const total = 1500;
    for (let n = 0; n < total; n++) {
      const docs = Array.from({ length: 1 + Math.floor(rnd() * 3) }, (_, i) => render(rnd, dnsEndpoint(rnd, n * 10 + i)));
      const text = (rnd() < 0.3 ? '---\n' : '') + docs.join(rnd() < 0.5 ? '---\n' : '\n---\n# next\n');
      if (agree(text)) taken++;
    }
    // Declining everything would pass the comparison: the reader must take the common case.
    assert.ok(taken > total * 0.6, `took ${taken} of ${total}`);
  });

  it('reads a List as the package does, item positions included', () => {
    const rnd = random(9);
    let taken = 0;
    for (let n = 0; n < 300; n++) {
      const list = { apiVersion: 'v1', kind: 'List', items: Array.from({ length: 1 + Math.floor(rnd() * 5) }, (_, i) => dnsEndpoint(rnd, i)) };
      if (agree(render(rnd, list))) taken++;
    }
    assert.ok(taken > 150, `took ${taken} of 300`);
  });

  it('agrees on arbitrary values and on every scalar the core schema resolves', () => {
    const rnd = random(3);
    for (let n = 0; n < 3000; n++) agree(render(rnd, { root: value(rnd, 0) }));
    for (const s of SCALARS) {
      if (typeof s !== 'string') continue;
      for (const line of [`k: ${s}`, `k: "${s}"`, `k: '${s}'`, `k:\n- ${s}`, `- ${s}`]) agree(line);
    }
  });

  it('declines or agrees on broken variants, never reads what the package refuses', () => {
    const rnd = random(21);
    for (let n = 0; n < 3000; n++) {
      const text = render(rnd, dnsEndpoint(rnd, n));
      agree(mutate(rnd, mutate(rnd, text)));
    }
  });

  it('agrees on where documents begin and end', () => {
    for (const text of ['', '\n', '# only a comment\n', '---\n', '---\n---\n', 'a: 1\n---\n', '---\na: 1\n', 'a: 1\n---\n\n---\nb: 2\n', '# c\n---\na: 1\n', 'a: 1\n--- \nb: 2', 'k:\n', 'k:\n-\n- x\n', 'items:\n-\n  a: 1\n- b\n']) {
      agree(text);
    }
  });

  it('declines what only looks like one scalar a line, or agrees', () => {
    for (const text of ['k: v\u00a0\n', 'k:\u00a0v\n', '\u00a0k: v\n', 'k: v\f\n', '- v\u00a0\n', 'k: "v"\u00a0\n', "k: 'v'\u00a0\n", 'k: v\u2028w\n']) agree(text);
    const texts = [`${'['.repeat(300)}${']'.repeat(300)}\n`, '{"a": 1}\n# after\n', '{"a": 1, "a": 2}\n', 'k: a\n  b\n', 'k: a\n b: c\n', '- a\n  b\n', 'k:\n- a\n  b\n', 'k: "a\n  b"\n', "k: 'a\n  b'\n", 'k: a\n\n  b\n', 'k: |\n  a\n', 'k: >-\n  a\n', '- - a\n', '- k: a\n  - b\n', 'k: [a, b]\n', 'k: {a: 1}\n', 'k: &x a\nj: *x\n', 'k: !!str 1\n'];
    for (const text of texts) {
      const simple = readSimpleYaml(text);
      agree(text);
      assert.ok(simple === undefined || byPackage(text) !== undefined, JSON.stringify(text));
    }
    // None of these is one scalar a line, so the reader leaves them all to the package.
    assert.deepEqual(texts.filter((t) => readSimpleYaml(t) !== undefined), []);
  });
});
