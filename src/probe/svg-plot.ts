/**
 * The run as one self-contained SVG (no scripts, no fonts to fetch, no
 * dependencies), three panels on one time axis: accuracy per second, latency
 * p99 per second (replies only; timeouts show in accuracy), and the
 * propagation of every change with its error bound. Chaos events are
 * vertical lines across all three; the chaos window is shaded.
 */
import { windowsOf, type ProbeEvent } from './events.js';
import type { Propagation } from './propagation.js';
import type { QueryRecord } from './summary.js';

export interface PlotInput {
  title: string;
  from: number;
  to: number;
  servers: readonly string[];
  queries: readonly QueryRecord[];
  propagation: readonly (readonly Propagation[])[];
  events: readonly ProbeEvent[];
}

const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b', '#e377c2', '#17becf'];
const WIDTH = 1000;
const LEFT = 70;
const RIGHT = 20;
const PANEL = 170;
const GAP = 45;
/** Rows of event labels between the legend and the first panel, so labels close together stay readable. */
const EVENT_ROWS = 3;

/** The next 1, 2 or 5 × 10^k at or above v: axis maxima a reader can do sums with. */
export function niceCeil(v: number): number {
  if (!(v > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

export function escapeXml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c] as string);
}

const fmt = (x: number) => (Math.round(x * 10) / 10).toString();

interface Panel {
  y0: number;
  lo: number;
  hi: number;
  label: string;
  unit: (v: number) => string;
}

/** Per-second buckets of one server's queries: accuracy and latency p99. */
function perSecond(queries: readonly QueryRecord[], from: number, seconds: number): { accuracy: (number | undefined)[]; p99: (number | undefined)[] } {
  const total = new Array<number>(seconds).fill(0);
  const match = new Array<number>(seconds).fill(0);
  const lat: number[][] = Array.from({ length: seconds }, () => []);
  for (const q of queries) {
    const i = Math.floor((q.sentAt - from) / 1000);
    if (i < 0 || i >= seconds) continue;
    total[i]!++;
    if (q.grade === 'match') match[i]!++;
    if (q.grade !== 'timeout') lat[i]!.push(q.receivedAt - q.sentAt);
  }
  return {
    accuracy: total.map((t, i) => (t > 0 ? (match[i] as number) / t : undefined)),
    p99: lat.map((l) => {
      if (l.length === 0) return undefined;
      l.sort((a, b) => a - b);
      return l[Math.min(l.length - 1, Math.ceil(l.length * 0.99) - 1)];
    }),
  };
}

export function renderSvg(input: PlotInput): string {
  const seconds = Math.max(1, Math.ceil((input.to - input.from) / 1000));
  const plotW = WIDTH - LEFT - RIGHT;
  const x = (t: number) => LEFT + ((t - input.from) / (input.to - input.from || 1)) * plotW;
  const series = input.servers.map((_, i) =>
    perSecond(
      input.queries.filter((q) => q.server === i),
      input.from,
      seconds,
    ),
  );
  const legendBottom = 30 + 14 * input.servers.length;
  const TOP = legendBottom + 14 * EVENT_ROWS + 16;
  const minAcc = Math.min(1, ...series.flatMap((s) => s.accuracy.filter((a): a is number => a !== undefined)));
  const accLo = Math.min(0.9, Math.floor(minAcc * 10) / 10);
  const maxLat = Math.max(1, ...series.flatMap((s) => s.p99.filter((a): a is number => a !== undefined)));
  // Writes acknowledged after the run's end (in flight when it stopped) are outside the time axis.
  const inRange = (p: Propagation) => (p.change.ackedAt as number) >= input.from && (p.change.ackedAt as number) <= input.to;
  const seen = input.propagation.flatMap((list, server) => list.filter((p) => p.outcome === 'seen' && inRange(p)).map((p) => ({ p, server })));
  const unseen = input.propagation.flatMap((list, server) => list.filter((p) => p.outcome === 'unseen' && inRange(p)).map((p) => ({ p, server })));
  const maxProp = Math.max(0.1, ...seen.map(({ p }) => p.seconds as number));
  const panels: Panel[] = [
    { y0: TOP, lo: accLo, hi: 1, label: 'accuracy per second', unit: (v) => `${fmt(v * 100)}%` },
    { y0: TOP + PANEL + GAP, lo: 0, hi: niceCeil(maxLat), label: 'latency p99 per second (ms)', unit: (v) => fmt(v) },
    { y0: TOP + 2 * (PANEL + GAP), lo: 0, hi: niceCeil(maxProp), label: 'propagation (s), ack → first correct answer; bar = error bound', unit: (v) => fmt(v) },
  ];
  const height = TOP + 3 * PANEL + 2 * GAP + 50;
  const y = (p: Panel, v: number) => p.y0 + PANEL - ((Math.min(Math.max(v, p.lo), p.hi) - p.lo) / (p.hi - p.lo || 1)) * PANEL;
  const out: string[] = [];
  out.push(`<?xml version="1.0" encoding="UTF-8"?>`);
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="sans-serif" font-size="11">`);
  out.push(`<rect x="0" y="0" width="${WIDTH}" height="${height}" fill="#ffffff"/>`);
  out.push(`<text x="${LEFT}" y="20" font-size="14" font-weight="bold">${escapeXml(input.title)}</text>`);
  input.servers.forEach((s, i) => {
    const ly = 30 + 14 * i;
    out.push(`<rect x="${LEFT}" y="${ly + 1}" width="12" height="4" fill="${COLORS[i % COLORS.length]}"/><text x="${LEFT + 16}" y="${ly + 6}">${escapeXml(s)}</text>`);
  });
  const chaos = windowsOf(input.events, input.from, input.to).find((w) => w.name === 'during');
  for (const p of panels) {
    out.push(`<g class="panel">`);
    if (chaos) out.push(`<rect x="${fmt(x(chaos.from))}" y="${p.y0}" width="${fmt(x(chaos.to) - x(chaos.from))}" height="${PANEL}" fill="#fbe3e3"/>`);
    out.push(`<rect x="${LEFT}" y="${p.y0}" width="${plotW}" height="${PANEL}" fill="none" stroke="#999"/>`);
    out.push(`<text x="${LEFT}" y="${p.y0 - 6}" font-weight="bold">${escapeXml(p.label)}</text>`);
    for (let k = 0; k <= 4; k++) {
      const v = p.lo + ((p.hi - p.lo) * k) / 4;
      const yy = fmt(y(p, v));
      out.push(`<line x1="${LEFT - 4}" y1="${yy}" x2="${LEFT + plotW}" y2="${yy}" stroke="#eee"/><text x="${LEFT - 6}" y="${yy}" text-anchor="end" dominant-baseline="middle">${escapeXml(p.unit(v))}</text>`);
    }
    out.push(`</g>`);
  }
  const line = (p: Panel, values: (number | undefined)[], color: string) => {
    // A second without queries breaks the line rather than drawing through it.
    const parts: string[] = [];
    let run: string[] = [];
    values.forEach((v, i) => {
      if (v === undefined) {
        if (run.length) parts.push(run.join(' '));
        run = [];
        return;
      }
      run.push(`${run.length ? 'L' : 'M'}${fmt(x(input.from + i * 1000 + 500))},${fmt(y(p, v))}`);
    });
    if (run.length) parts.push(run.join(' '));
    if (parts.length) out.push(`<path d="${parts.join(' ')}" fill="none" stroke="${color}" stroke-width="1.5"/>`);
  };
  series.forEach((s, i) => {
    const color = COLORS[i % COLORS.length] as string;
    line(panels[0] as Panel, s.accuracy, color);
    line(panels[1] as Panel, s.p99, color);
  });
  const prop = panels[2] as Panel;
  for (const { p, server } of seen) {
    const color = COLORS[server % COLORS.length] as string;
    const px = fmt(x(p.change.ackedAt as number));
    const top = p.seconds as number;
    const bottom = Math.max(0, top - (p.boundSeconds as number));
    out.push(`<line x1="${px}" y1="${fmt(y(prop, bottom))}" x2="${px}" y2="${fmt(y(prop, top))}" stroke="${color}" stroke-opacity="0.5"/>`);
    out.push(`<circle cx="${px}" cy="${fmt(y(prop, top))}" r="2.5" fill="${color}"><title>${escapeXml(`${p.change.op} ${p.change.name}: ${top.toFixed(3)} s (−${(p.boundSeconds as number).toFixed(3)} s)`)}</title></circle>`);
  }
  for (const { p, server } of unseen) {
    const px = x(p.change.ackedAt as number);
    const py = prop.y0 + 6;
    out.push(`<path d="M${fmt(px - 4)},${fmt(py - 4)} L${fmt(px + 4)},${fmt(py + 4)} M${fmt(px - 4)},${fmt(py + 4)} L${fmt(px + 4)},${fmt(py - 4)}" stroke="${COLORS[server % COLORS.length]}" stroke-width="1.5"><title>${escapeXml(`never shown: ${p.change.op} ${p.change.name}`)}</title></path>`);
  }
  const bottom = TOP + 3 * PANEL + 2 * GAP;
  input.events
    .filter((e) => e.at >= input.from && e.at <= input.to)
    .forEach((e, i) => {
      const ex = x(e.at);
      const ly = legendBottom + 14 * (i % EVENT_ROWS) + 14;
      const color = e.kind === 'start' ? '#c00' : e.kind === 'end' ? '#080' : '#555';
      // Labels near the right edge run leftwards so they stay inside the picture.
      const anchor = ex > WIDTH - 200 ? 'end' : 'start';
      out.push(`<line x1="${fmt(ex)}" y1="${ly - 10}" x2="${fmt(ex)}" y2="${bottom}" stroke="${color}" stroke-dasharray="4,3"/>`);
      out.push(`<text x="${fmt(anchor === 'end' ? ex - 3 : ex + 3)}" y="${ly}" fill="${color}" text-anchor="${anchor}">${escapeXml(e.label)}</text>`);
    });
  const ticks = Math.min(10, seconds);
  for (let k = 0; k <= ticks; k++) {
    const t = input.from + ((input.to - input.from) * k) / ticks;
    out.push(`<text x="${fmt(x(t))}" y="${bottom + 16}" text-anchor="middle">${fmt((t - input.from) / 1000)} s</text>`);
  }
  out.push(`<text x="${LEFT}" y="${bottom + 34}" fill="#555">time since grading began (${escapeXml(new Date(input.from).toISOString())})</text>`);
  out.push(`</svg>`);
  return `${out.join('\n')}\n`;
}
