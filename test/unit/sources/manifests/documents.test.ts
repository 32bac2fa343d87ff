import assert from 'node:assert/strict';
import {
  decodeManifestBytes,
  formatManifestProblem,
  isManifestFileName,
  parseManifestText,
  type ManifestParseResult,
  type ParsedManifest,
} from '../../../../src/sources/manifests/documents.js';

function ok(r: ManifestParseResult): ParsedManifest {
  if (!r.ok) assert.fail(`expected a parse, got ${formatManifestProblem(r.error)}`);
  return r;
}

const ep = (name: string, ns?: string, endpoints = '[{dnsName: a.example.org, recordType: A, targets: [10.0.0.1]}]'): string =>
  `apiVersion: externaldns.k8s.io/v1alpha1
kind: DNSEndpoint
metadata:
  name: ${name}
${ns ? `  namespace: ${ns}\n` : ''}spec:
  endpoints: ${endpoints}
`;

describe('manifest documents', () => {
  describe('YAML', () => {
    it('reads every DNSEndpoint of a multi-document file and skips (but counts) other kinds', () => {
      const text = [
        '# leading comment\n' + ep('one', 'core'),
        'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm}\ndata: {a: b}\n',
        ep('two'),
        '', // trailing empty document
      ].join('---\n');
      const r = ok(parseManifestText(text, 'dir/multi.yaml'));
      assert.deepEqual(r.objects.map((o) => o.key), ['core/one', 'default/two']);
      assert.equal(r.ignored, 1);
      assert.equal(r.documents, 3);
      assert.deepEqual(r.problems, []);
      assert.deepEqual(r.objects[0]?.origin, { source: 'manifests', namespace: 'core', name: 'one', file: 'dir/multi.yaml#0' });
      assert.deepEqual(r.objects[1]?.origin, { source: 'manifests', namespace: 'default', name: 'two', file: 'dir/multi.yaml#2' });
      assert.deepEqual(r.objects[0]?.endpoints, [{ dnsName: 'a.example.org', recordType: 'A', targets: ['10.0.0.1'] }]);
    });

    it('keeps endpoints raw, however odd, for the validator to judge one by one', () => {
      const r = ok(parseManifestText(ep('raw', undefined, '[{dnsName: 5}, "junk", null, {recordTTL: "x", targets: [1, true]}]'), 'r.yaml'));
      assert.deepEqual(r.objects[0]?.endpoints, [{ dnsName: 5 }, 'junk', null, { recordTTL: 'x', targets: [1, true] }]);
    });

    it('serves a DNSEndpoint without spec or endpoints as an object with no endpoints', () => {
      const text = 'apiVersion: externaldns.k8s.io/v1alpha1\nkind: DNSEndpoint\nmetadata: {name: empty}\n';
      const r = ok(parseManifestText(text, 'e.yaml'));
      assert.deepEqual(r.objects.map((o) => [o.key, o.endpoints.length]), [['default/empty', 0]]);
    });

    it('reports a broken file with its line and column', () => {
      const text = ep('fine') + '---\nkind: DNSEndpoint\nmetadata:\n  name: [unclosed\nspec: {}\n';
      const r = parseManifestText(text, 'broken.yaml');
      assert.equal(r.ok, false);
      if (r.ok) return;
      assert.equal(r.error.kind, 'parse');
      assert.equal(r.error.file, 'broken.yaml');
      assert.equal(r.error.line, 11);
      assert.equal(typeof r.error.column, 'number');
      assert.match(r.error.message, /flow sequence|\]/i);
      assert.match(formatManifestProblem(r.error), /^broken\.yaml:11:\d+: /);
    });

    it('pinpoints a bad indentation', () => {
      const r = parseManifestText('a: 1\nb:\n  c: 2\n d: 3\n', 'indent.yml');
      assert.equal(r.ok, false);
      if (r.ok) return;
      assert.deepEqual([r.error.line, r.error.column], [4, 1]);
      assert.match(r.error.message, /same column/);
    });

    it('refuses duplicate keys, as kubectl does', () => {
      const r = parseManifestText('kind: DNSEndpoint\nkind: DNSEndpoint\n', 'dup.yaml');
      assert.equal(r.ok, false);
      if (r.ok) return;
      assert.equal(r.error.line, 2);
      assert.equal(r.error.column, 1);
      assert.match(r.error.message, /unique/);
    });

    it('reads a YAML List, with positions for its items', () => {
      const text = `apiVersion: v1
kind: List
items:
  - apiVersion: externaldns.k8s.io/v1alpha1
    kind: DNSEndpoint
    metadata: {name: a, namespace: x}
  - apiVersion: v1
    kind: ConfigMap
    metadata: {name: cm}
  - apiVersion: externaldns.k8s.io/v1alpha1
    kind: DNSEndpoint
    metadata: {namespace: x}
`;
      const r = ok(parseManifestText(text, 'list.yaml'));
      assert.deepEqual(r.objects.map((o) => [o.key, o.origin.file]), [['x/a', 'list.yaml#0.items[0]']]);
      assert.equal(r.ignored, 1);
      assert.equal(r.problems.length, 1);
      assert.equal(r.problems[0]?.line, 10);
      assert.equal(r.problems[0]?.column, 5);
      assert.match(r.problems[0]?.message ?? '', /metadata\.name/);
    });

    it('treats a file of comments only, or an empty file, as no documents', () => {
      for (const text of ['', '# nothing here\n', '---\n---\n']) {
        const r = ok(parseManifestText(text, 'empty.yaml'));
        assert.deepEqual([r.objects.length, r.documents, r.ignored], [0, 0, 0], JSON.stringify(text));
      }
    });

    it('strips a byte order mark', () => {
      const r = ok(parseManifestText('\ufeff' + ep('bom'), 'bom.yaml'));
      assert.equal(r.objects[0]?.key, 'default/bom');
    });
  });

  describe('document problems', () => {
    const cases: Array<[string, string, RegExp, string | undefined]> = [
      ['no metadata', 'apiVersion: externaldns.k8s.io/v1alpha1\nkind: DNSEndpoint\nspec: {endpoints: []}\n', /no metadata/, undefined],
      ['no name', 'apiVersion: externaldns.k8s.io/v1alpha1\nkind: DNSEndpoint\nmetadata: {namespace: a}\n', /metadata\.name/, undefined],
      ['bad name', 'apiVersion: externaldns.k8s.io/v1alpha1\nkind: DNSEndpoint\nmetadata: {name: Not/Valid}\n', /not a valid Kubernetes object name/, undefined],
      ['bad namespace', 'apiVersion: externaldns.k8s.io/v1alpha1\nkind: DNSEndpoint\nmetadata: {name: a, namespace: a.b}\n', /namespace/, undefined],
      ['endpoints not a list', ep('notlist', 'ns', '{dnsName: a}'), /spec\.endpoints must be a list/, 'ns/notlist'],
      ['spec not a mapping', 'apiVersion: externaldns.k8s.io/v1alpha1\nkind: DNSEndpoint\nmetadata: {name: s}\nspec: [1]\n', /spec must be a mapping/, 'default/s'],
      ['other apiVersion', ep('v').replace('v1alpha1', 'v1beta9'), /apiVersion "externaldns\.k8s\.io\/v1beta9" is not supported/, 'default/v'],
    ];
    for (const [title, text, re, key] of cases) {
      it(`reports ${title} for that document alone`, () => {
        const r = ok(parseManifestText(ep('good') + '---\n' + text, 'p.yaml'));
        assert.deepEqual(r.objects.map((o) => o.key), ['default/good']);
        assert.equal(r.problems.length, 1);
        const p = r.problems[0];
        assert.equal(p?.kind, 'document');
        assert.equal(p?.document, 1);
        assert.equal(p?.line, 8, 'line of the second document');
        assert.match(p?.message ?? '', re);
        assert.equal(p?.object, key);
        assert.deepEqual(r.rejectedKeys, key === undefined ? [] : [key]);
      });
    }
  });

  describe('JSON', () => {
    const obj = (name: string) => ({
      apiVersion: 'externaldns.k8s.io/v1alpha1',
      kind: 'DNSEndpoint',
      metadata: { name, namespace: 'ims' },
      spec: { endpoints: [{ dnsName: 'x.example.org', recordType: 'TXT', targets: ['a "quoted" \u00e9 \ud83d\ude00'], recordTTL: 1.5e2 }] },
    });

    it('reads a single object', () => {
      const text = JSON.stringify(obj('j'), null, 2);
      const r = ok(parseManifestText(text, 'one.json'));
      assert.deepEqual(r.objects.map((o) => [o.key, o.origin.file]), [['ims/j', 'one.json#0']]);
      assert.deepEqual(r.objects[0]?.endpoints, obj('j').spec.endpoints);
    });

    it('reads a List with items, counting other kinds', () => {
      const list = { apiVersion: 'v1', kind: 'List', items: [obj('a'), { apiVersion: 'v1', kind: 'Secret', metadata: { name: 's' } }, obj('b')] };
      const r = ok(parseManifestText(JSON.stringify(list, null, '\t'), 'list.json'));
      assert.deepEqual(r.objects.map((o) => [o.key, o.origin.file]), [['ims/a', 'list.json#0.items[0]'], ['ims/b', 'list.json#0.items[2]']]);
      assert.equal(r.ignored, 1);
      assert.equal(r.documents, 3);
    });

    it('gives the line and column of a problem inside a List', () => {
      const text = '{"kind": "List", "items": [\n  {"kind": "ConfigMap"},\n    {"apiVersion": "externaldns.k8s.io/v1alpha1", "kind": "DNSEndpoint", "metadata": {}}\n]}';
      const r = ok(parseManifestText(text, 'l.json'));
      assert.deepEqual([r.problems[0]?.line, r.problems[0]?.column], [3, 5]);
    });

    it('parses exactly what JSON.parse parses', () => {
      const samples = [
        '{"a": [1, -0, 2.5, -1e-3, 1E+2, 0.1], "b": {"c": null, "d": true, "e": false}, "s": "\\"\\\\\\/\\b\\f\\n\\r\\t\\u0041\\ud83d\\ude00"}',
        '[]', '{}', '  "x"  ', '[[[]], {}]', '{"__proto__": {"polluted": 1}}',
      ];
      for (const s of samples) {
        const r = ok(parseManifestText(`{"kind": "Other", "v": ${s}}`, 's.json'));
        assert.equal(r.ignored, 1);
      }
      // The values themselves, through a DNSEndpoint whose endpoints carry them.
      for (const s of samples.filter((x) => x.startsWith('['))) {
        const text = `{"apiVersion": "externaldns.k8s.io/v1alpha1", "kind": "DNSEndpoint", "metadata": {"name": "n"}, "spec": {"endpoints": ${s}}}`;
        assert.deepEqual(ok(parseManifestText(text, 'v.json')).objects[0]?.endpoints, JSON.parse(s));
      }
      const proto = `{"apiVersion": "externaldns.k8s.io/v1alpha1", "kind": "DNSEndpoint", "metadata": {"name": "n"}, "spec": {"endpoints": [{"__proto__": {"x": 1}}]}}`;
      const e = ok(parseManifestText(proto, 'p.json')).objects[0]?.endpoints[0] as Record<string, unknown>;
      assert.deepEqual(Object.keys(e), ['__proto__']);
      assert.equal(Object.getPrototypeOf(e), Object.prototype);
      assert.deepEqual(e, JSON.parse('{"__proto__": {"x": 1}}'));
    });

    const bad: Array<[string, string, number, number, RegExp]> = [
      ['missing value', '{\n  "a": }', 2, 8, /expected a JSON value/],
      ['trailing comma', '{"a": [1, 2,]}', 1, 13, /expected a JSON value/],
      ['single quotes', "{'a': 1}", 1, 2, /property name/],
      ['unterminated string', '{\n\n   "abc', 3, 4, /unterminated/],
      ['garbage after', '{}\n x', 2, 2, /after the JSON value/],
      ['leading zero', '[01]', 1, 3, /malformed number/],
      ['raw newline in string', '["a\nb"]', 1, 4, /control character/],
      ['bad escape', '["\\x"]', 1, 3, /bad escape/],
      ['duplicate key', '{"a": 1,\n "a": 2}', 2, 2, /duplicate key "a"/],
      ['YAML in a .json file', 'kind: DNSEndpoint\n', 1, 1, /expected a JSON value/],
    ];
    for (const [title, text, line, column, re] of bad) {
      it(`reports ${title} at its line and column`, () => {
        const r = parseManifestText(text, 'bad.json');
        assert.equal(r.ok, false, 'should not parse');
        if (r.ok) return;
        assert.equal(r.error.kind, 'parse');
        assert.deepEqual([r.error.line, r.error.column], [line, column], r.error.message);
        assert.match(r.error.message, re);
      });
    }

    // Before: "Maximum call stack size exceeded", after seconds of work for the larger ones.
    const deepYaml: Array<[string, string, number, number]> = [
      ['flow sequences', '['.repeat(100_000) + ']'.repeat(100_000), 1, 257],
      ['flow mappings', '{"a":'.repeat(5_000) + '1' + '}'.repeat(5_000), 1, 1281],
      ['block mappings, deeper indentation on every line', Array.from({ length: 5000 }, (_, i) => `${' '.repeat(i)}a:`).join('\n') + ' 1', 257, 257],
      ['compact block sequences', '- '.repeat(20_000) + 'x', 1, 513],
      ['deep nesting inside a DNSEndpoint', ep('deep').replace('spec:', `x: ${'['.repeat(300)}${']'.repeat(300)}\nspec:`), 5, 260],
    ];
    for (const [what, text, line, column] of deepYaml) {
      it(`refuses YAML nested deeper than 256 levels, at the level past it: ${what}`, () => {
        const r = parseManifestText(text, 'deep.yaml');
        assert.equal(r.ok, false);
        if (!r.ok) assert.deepEqual([r.error.message, r.error.line, r.error.column], ['nesting deeper than 256 levels', line, column]);
      });
    }

    it('refuses the whole file when a later document is nested too deep, though the documents before it were read', () => {
      // Documents are composed one at a time; the first one must not get through on its own.
      const first = ep('good') + '---\n';
      const deep = Array.from({ length: 300 }, (_, i) => `${' '.repeat(i)}a:`).join('\n') + ' 1\n';
      const r = parseManifestText(first + deep, 'two.yaml');
      assert.equal(r.ok, false);
      if (!r.ok) assert.deepEqual([r.error.message, r.error.line], ['nesting deeper than 256 levels', first.split('\n').length - 1 + 257]);
    });

    it('parses YAML nested exactly 256 levels deep', () => {
      const r = parseManifestText(ep('deep').replace('spec:', `x: ${'['.repeat(255)}${']'.repeat(255)}\nspec:`), 'deep.yaml');
      assert.equal(ok(r).objects.length, 1);
    });

    it('refuses absurd nesting with an error instead of overflowing the stack', () => {
      const r = parseManifestText('['.repeat(100_000) + ']'.repeat(100_000), 'deep.json');
      assert.equal(r.ok, false);
      if (!r.ok) assert.match(r.error.message, /nesting/);
    });
  });

  describe('what cannot be used is reported, not skipped', () => {
    const reported: Array<[string, string, RegExp, string | undefined]> = [
      ['a kind that differs from DNSEndpoint only in case', ep('typo').replace('kind: DNSEndpoint', 'kind: DnsEndpoint'), /^kind "DnsEndpoint" is not "DNSEndpoint" \(kinds are case-sensitive\)/, 'default/typo'],
      ['another kind in the externaldns.k8s.io group', ep('grp').replace('kind: DNSEndpoint', 'kind: Endpoints'), /^kind "Endpoints" in apiVersion "externaldns\.k8s\.io\/v1alpha1" is not DNSEndpoint/, 'default/grp'],
      ['a top-level string', 'just words\n', /^document is a string, not a mapping/, undefined],
      ['a top-level number', '42\n', /^document is a number, not a mapping/, undefined],
      ['a top-level list', '- a\n- b\n', /^document is a list, not a mapping/, undefined],
      ['a mapping without kind', 'metadata: {name: x}\n', /^document has no kind/, undefined],
    ];
    for (const [title, text, re, key] of reported) {
      it(`reports ${title}, and the document before it still serves`, () => {
        const r = ok(parseManifestText(ep('good') + '---\n' + text, 'p.yaml'));
        assert.deepEqual(r.objects.map((o) => o.key), ['default/good']);
        assert.equal(r.problems.length, 1, JSON.stringify(r.problems));
        const p = r.problems[0];
        assert.equal(p?.kind, 'document');
        assert.deepEqual([p?.document, p?.line], [1, 8]);
        assert.match(p?.message ?? '', re);
        assert.equal(p?.object, key);
        // A misspelt kind keeps the object's last good version, as the API server would by refusing the apply.
        assert.deepEqual(r.rejectedKeys, key === undefined ? [] : [key]);
        assert.equal(r.ignored, 0);
      });
    }

    it('reports a List item that is not a mapping, with its position', () => {
      const r = ok(parseManifestText('kind: List\nitems:\n  - 7\n  - {kind: ConfigMap, apiVersion: v1}\n', 'l.yaml'));
      assert.equal(r.problems.length, 1);
      assert.match(r.problems[0]?.message ?? '', /^List item is a number, not a mapping/);
      assert.deepEqual([r.problems[0]?.line, r.problems[0]?.column], [3, 5]);
      assert.deepEqual(r.ignoredDocuments, [{ origin: 'l.yaml#0.items[1]', kind: 'ConfigMap' }]);
    });

    it('refuses a file with NUL bytes, at the first one', () => {
      const r = parseManifestText('kind: DNSEndpoint\nmetadata:\n  name: a\u0000b\n', 'nul.yaml');
      assert.equal(r.ok, false);
      if (r.ok) return;
      assert.equal(r.error.kind, 'parse');
      assert.deepEqual([r.error.line, r.error.column], [3, 10]);
      assert.match(r.error.message, /NUL byte/);
    });

    it('refuses a mapping key that is a list or mapping, without a warning on stderr', async () => {
      const warnings: string[] = [];
      const onWarning = (w: Error) => warnings.push(w.message);
      process.on('warning', onWarning);
      try {
        const r = parseManifestText(ep('good') + '---\nkind: ConfigMap\n? [a, b]\n: c\n', 'k.yaml');
        assert.equal(r.ok, false);
        if (r.ok) return;
        assert.deepEqual([r.error.line, r.error.column], [9, 3]);
        assert.match(r.error.message, /mapping key is itself a list or mapping/);
        // process.emitWarning delivers on a later tick.
        await new Promise((resolve) => setImmediate(resolve));
      } finally {
        process.removeListener('warning', onWarning);
      }
      assert.deepEqual(warnings, []);
    });

    it('lists the documents it ignores, with their kind', () => {
      const text = [ep('one'), 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm}\n', 'apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\n'].join('---\n');
      const r = ok(parseManifestText(text, 'm.yaml'));
      assert.deepEqual(r.ignoredDocuments, [{ origin: 'm.yaml#1', kind: 'ConfigMap' }, { origin: 'm.yaml#2', kind: 'Deployment' }]);
      assert.equal(r.ignored, 2);
      assert.deepEqual(r.problems, []);
    });

    it('decodes manifest bytes as UTF-8 and refuses anything else', () => {
      assert.deepEqual(decodeManifestBytes(Buffer.from('kind: x # é\n')), { ok: true, text: 'kind: x # é\n' });
      const bad = decodeManifestBytes(Buffer.from([0x6b, 0x3a, 0x20, 0xc3, 0x28, 0x0a]));
      assert.equal(bad.ok, false);
      if (!bad.ok) assert.match(bad.reason, /not UTF-8 text \(invalid byte 0xc3 at offset 3\)/);
      const png = decodeManifestBytes(Buffer.from([0x89, 0x50, 0x4e, 0x47]));
      assert.equal(png.ok, false);
    });
  });

  it('recognises manifest file names', () => {
    for (const n of ['a.yaml', 'b.YML', 'c.json', 'x.y.yaml']) assert.equal(isManifestFileName(n), true, n);
    for (const n of ['.yaml', '.hidden.yaml', '..data', 'a.yaml~', 'a.yaml.swp', 'a.txt', 'yaml', '.a.yaml.swp']) {
      assert.equal(isManifestFileName(n), false, n);
    }
  });
});
