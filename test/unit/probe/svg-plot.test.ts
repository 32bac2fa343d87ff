import assert from 'node:assert/strict';
import { parseEvents } from '../../../src/probe/events.js';
import { Ledger } from '../../../src/probe/ledger.js';
import { renderSvg } from '../../../src/probe/svg-plot.js';
import type { QueryRecord } from '../../../src/probe/summary.js';

const T0 = Date.parse('2026-03-06T10:00:00Z');

/**
 * A rough XML check, enough to catch what a hand-written SVG gets wrong:
 * unbalanced or misnested tags, an unescaped & or <, attributes without quotes.
 * Returns the element names in document order.
 */
function parseXml(text: string): string[] {
  const body = text.replace(/^<\?xml[^>]*\?>\s*/, '');
  const names: string[] = [];
  const stack: string[] = [];
  const token = /<(\/?)([A-Za-z][\w:-]*)((?:\s+[\w:-]+="[^"<]*")*)\s*(\/?)>|([^<]+)/y;
  let pos = 0;
  while (pos < body.length) {
    token.lastIndex = pos;
    const m = token.exec(body);
    if (!m) throw new Error(`not XML at ${pos}: ${JSON.stringify(body.slice(pos, pos + 40))}`);
    pos = token.lastIndex;
    if (m[5] !== undefined) {
      if (/&(?!(amp|lt|gt|quot|apos);)/.test(m[5])) throw new Error(`unescaped & in ${JSON.stringify(m[5])}`);
      continue;
    }
    for (const a of (m[3] ?? '').matchAll(/="([^"]*)"/g)) if (/&(?!(amp|lt|gt|quot|apos);)/.test(a[1] ?? '')) throw new Error(`unescaped & in attribute ${a[1]}`);
    const name = m[2] as string;
    if (m[1]) {
      if (stack.pop() !== name) throw new Error(`</${name}> closes nothing open`);
    } else {
      names.push(name);
      if (!m[4]) stack.push(name);
    }
  }
  if (stack.length) throw new Error(`unclosed: ${stack.join(', ')}`);
  return names;
}

describe('probe SVG plot', () => {
  it('the checker itself refuses what is not XML', () => {
    assert.throws(() => parseXml('<svg><g></svg>'), /closes nothing|unclosed/);
    assert.throws(() => parseXml('<svg><text>a & b</text></svg>'), /unescaped/);
    assert.throws(() => parseXml('<svg width=3></svg>'), /not XML/);
  });

  it('is well-formed SVG with three panels, a line per server, propagation points and event lines', () => {
    const queries: QueryRecord[] = [];
    for (let i = 0; i < 600; i++) {
      const sentAt = T0 + i * 100;
      for (const server of [0, 1]) queries.push({ server, name: 'a', cluster: 'x', sentAt, receivedAt: sentAt + 3 + (i % 7), grade: i > 200 && i < 260 ? 'timeout' : 'match' });
    }
    const l = new Ledger(['a', 'b']);
    const c = l.begin('a', 'x', 'update', 1, T0 + 10_000);
    l.ack(c, T0 + 10_050);
    const d = l.begin('b', 'x', 'delete', null, T0 + 50_000);
    l.ack(d, T0 + 50_050);
    const events = parseEvents('2026-03-06T10:00:20Z start kill <crdns> & "friends"\n2026-03-06T10:00:26Z end kill\n2026-03-06T10:00:40Z note\n', 0);
    const svg = renderSvg({
      title: 'probe & <run>',
      from: T0,
      to: T0 + 60_000,
      servers: ['udp://127.0.0.1:53', 'grpc://127.0.0.1:8053'],
      queries,
      propagation: [[{ change: c, outcome: 'seen', seconds: 0.4, boundSeconds: 0.2, shownAt: T0 + 10_450 }], [{ change: d, outcome: 'unseen' }]],
      events,
    });
    const names = parseXml(svg);
    assert.equal(names[0], 'svg');
    assert.match(svg, /xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
    assert.equal(names.filter((n) => n === 'g').length, 3, 'three panels');
    assert.equal((svg.match(/<path d="M[^"]*" fill="none" stroke="#/g) ?? []).length, 4, 'accuracy and latency lines for each of two servers');
    assert.equal(names.filter((n) => n === 'circle').length, 1, 'one propagation point');
    assert.match(svg, /never shown: delete b/);
    assert.equal((svg.match(/stroke-dasharray/g) ?? []).length, 3, 'a line per event');
    assert.match(svg, /kill &lt;crdns&gt; &amp; &quot;friends&quot;/);
    assert.match(svg, /fill="#fbe3e3"/, 'the chaos window shaded');
    assert.doesNotMatch(svg, /NaN|undefined|Infinity/);
  });

  it('draws an empty run without failing', () => {
    const svg = renderSvg({ title: 't', from: T0, to: T0, servers: ['udp://127.0.0.1:53'], queries: [], propagation: [[]], events: [] });
    parseXml(svg);
    assert.doesNotMatch(svg, /NaN|undefined|Infinity/);
  });
});
