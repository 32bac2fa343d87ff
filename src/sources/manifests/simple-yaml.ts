/**
 * A fast reader for the YAML that kubectl, Helm and people write for
 * Kubernetes objects: block mappings and sequences with one scalar a line
 * (plain, single- or double-quoted), or documents written whole as JSON. At
 * 100k records the `yaml` package took most of the time to the first answer
 * (about 4 of 7 s, and the garbage of its syntax trees), for files that use
 * none of what makes YAML hard.
 *
 * It either gives exactly what the `yaml` package gives for the whole file
 * (values by the YAML 1.2 core schema, document boundaries, positions) or
 * declines, and the file goes to the `yaml` package as before: anything
 * outside the subset (anchors, tags, flow collections other than [] and {}
 * in a block document, block or multi-line scalars, tabs, directives,
 * comments after a value, unusual keys, a duplicate key, deep nesting) and
 * anything malformed, so every error message still comes from the one
 * parser. A differential test holds the two together.
 */
import { flowTooDeepAt } from './nesting.js';
import { parseStrictJson, type JsonDocument, type Position } from './strict-json.js';

/** Deeper than this the file is declined: the `yaml` path has the nesting limit and its message. */
const MAX_DEPTH = 64;

interface Line {
  /** 1-based line number. */
  number: number;
  indent: number;
  /** The line after its indentation, trailing spaces removed. */
  content: string;
}

class Decline extends Error {}

const decline = (): never => {
  throw new Decline();
};

/** The file's documents, or undefined when it is not in the subset. */
export function readSimpleYaml(text: string): JsonDocument[] | undefined {
  if (text.includes('\t') || text.includes('\r')) return undefined;
  try {
    return new Reader(text).documents();
  } catch (err) {
    if (err instanceof Decline || err instanceof RangeError) return undefined;
    throw err;
  }
}

class Reader {
  private lines: Line[] = [];
  private at = 0;

  constructor(private readonly text: string) {}

  documents(): JsonDocument[] {
    const docs: JsonDocument[] = [];
    const raw = this.text.split('\n');
    // The yaml package starts a document at the first content or marker; a "---" opens the next one.
    let current: Line[] | undefined;
    let sawMarker = false;
    for (let n = 0; n < raw.length; n++) {
      const full = raw[n] as string;
      const trimmed = trimSpacesEnd(full);
      if (trimmed === '---') {
        if (current !== undefined || sawMarker) docs.push(this.document(current ?? [], raw, n));
        current = [];
        sawMarker = true;
        continue;
      }
      if (trimmed.startsWith('---') || trimmed.startsWith('...') || trimmed.startsWith('%')) decline();
      const content = trimSpacesStart(trimmed);
      if (content === '' || content.startsWith('#')) continue;
      (current ??= []).push({ number: n + 1, indent: trimmed.length - content.length, content });
    }
    if (current !== undefined) docs.push(this.document(current, raw, raw.length));
    return docs;
  }

  /** One document: its content lines, and the file's lines up to the one that ends it (`end`, exclusive). */
  private document(lines: Line[], raw: readonly string[], end: number): JsonDocument {
    this.lines = lines;
    this.at = 0;
    const first = lines[0];
    if (first === undefined) return { value: null, at: { line: 1, column: 1 }, itemAt: () => undefined };
    if (first.indent !== 0) decline();
    if (first.content.startsWith('{') || first.content.startsWith('[')) return jsonDocument(raw.slice(first.number - 1, end).join('\n'), first.number - 1);
    const itemStarts: Position[] = [];
    const value = this.node(0, 0, itemStarts);
    if (this.at < lines.length) decline();
    return { value, at: { line: first.number, column: 1 }, itemAt: (i) => itemStarts[i] };
  }

  /** The block node whose first line is the current one, at `indent`. */
  private node(indent: number, depth: number, itemStarts?: Position[]): unknown {
    if (depth > MAX_DEPTH) decline();
    const line = this.lines[this.at] as Line;
    if (line.indent !== indent) decline();
    if (isSequenceEntry(line.content)) return this.sequence(indent, depth, itemStarts);
    return this.mapping(indent, depth, itemStarts);
  }

  private mapping(indent: number, depth: number, itemStarts?: Position[]): Record<string, unknown> {
    const map: Record<string, unknown> = {};
    for (;;) {
      const line = this.lines[this.at];
      if (line === undefined || line.indent < indent) return map;
      if (line.indent > indent || isSequenceEntry(line.content)) decline();
      const colon = line.content.indexOf(':');
      if (colon <= 0) decline();
      const key = line.content.slice(0, colon);
      if (!isSimpleKey(key) || Object.prototype.hasOwnProperty.call(map, key)) decline();
      const rest = line.content.slice(colon + 1);
      if (rest !== '' && rest.charCodeAt(0) !== 32) decline();
      this.at++;
      const inline = trimSpacesStart(rest);
      if (inline !== '') {
        // A deeper line after it would continue the scalar: the loop declines it.
        map[key] = scalar(inline);
        continue;
      }
      const next = this.lines[this.at];
      if (next !== undefined && (next.indent > indent || (next.indent === indent && isSequenceEntry(next.content)))) {
        // A sequence may sit at its key's own indentation.
        map[key] = this.node(next.indent, depth + 1, depth === 0 && key === 'items' ? itemStarts : undefined);
      } else {
        map[key] = null;
      }
    }
  }

  private sequence(indent: number, depth: number, itemStarts?: Position[]): unknown[] {
    const seq: unknown[] = [];
    for (;;) {
      const line = this.lines[this.at];
      if (line === undefined || line.indent < indent) return seq;
      if (line.indent > indent || !isSequenceEntry(line.content)) {
        // A sequence at its key's indentation ends where the next key of that mapping starts.
        if (line.indent === indent) return seq;
        decline();
      }
      const inline = trimSpacesStart(line.content.slice(1));
      if (inline === '') {
        this.at++;
        const next = this.lines[this.at];
        if (next !== undefined && next.indent > indent) {
          itemStarts?.push({ line: next.number, column: next.indent + 1 });
          seq.push(this.node(next.indent, depth + 1));
        } else {
          itemStarts?.push({ line: line.number, column: indent + 2 });
          seq.push(null);
        }
        continue;
      }
      const column = line.content.length - inline.length + indent;
      itemStarts?.push({ line: line.number, column: column + 1 });
      if (isSequenceEntry(inline)) decline();
      if (startsMappingEntry(inline)) {
        // "- key: value": a mapping whose first line starts after the dash.
        this.lines[this.at] = { number: line.number, indent: column, content: inline };
        seq.push(this.mapping(column, depth + 1));
        continue;
      }
      this.at++;
      seq.push(scalar(inline));
    }
  }
}

/**
 * A document written as JSON (one per document is how some tools write
 * YAML): JSON is YAML 1.2, and strict JSON refuses what the yaml package
 * would (duplicate keys) or declines. `lineOffset`: lines before `text`.
 */
function jsonDocument(text: string, lineOffset: number): JsonDocument {
  if (flowTooDeepAt(text, MAX_DEPTH) !== undefined) decline();
  const r = parseStrictJson(text);
  if (!r.ok || r.document === undefined) return decline();
  const doc = r.document;
  const shift = (p: Position | undefined): Position | undefined => (p === undefined ? undefined : { line: p.line + lineOffset, column: p.column });
  return { value: doc.value, at: shift(doc.at) as Position, itemAt: (i) => shift(doc.itemAt(i)), compact: doc.compact === true };
}

// YAML's white space is the space and the tab (tabs are declined); String#trim would also take a
// no-break space or a form feed, which YAML keeps as part of the scalar.
function trimSpacesEnd(s: string): string {
  let end = s.length;
  while (end > 0 && s.charCodeAt(end - 1) === 32) end--;
  return end === s.length ? s : s.slice(0, end);
}

function trimSpacesStart(s: string): string {
  let start = 0;
  while (start < s.length && s.charCodeAt(start) === 32) start++;
  return start === 0 ? s : s.slice(start);
}

function onlySpaces(s: string, from: number): boolean {
  for (let i = from; i < s.length; i++) if (s.charCodeAt(i) !== 32) return false;
  return true;
}

function isSequenceEntry(content: string): boolean {
  return content.charCodeAt(0) === 45 && (content.length === 1 || content.charCodeAt(1) === 32);
}

/** "key:" or "key: …" with a simple key. */
function startsMappingEntry(content: string): boolean {
  const colon = content.indexOf(':');
  return colon > 0 && (colon === content.length - 1 || content.charCodeAt(colon + 1) === 32) && isSimpleKey(content.slice(0, colon));
}

/** Keys that are plain strings by every reading: a letter first, no word the schema would turn into null or a boolean. */
const SIMPLE_KEY = /^[A-Za-z_][A-Za-z0-9_./-]*$/;
const NOT_A_STRING = /^(?:[Nn]ull|NULL|[Tt]rue|TRUE|[Ff]alse|FALSE)$/;

function isSimpleKey(key: string): boolean {
  return SIMPLE_KEY.test(key) && !NOT_A_STRING.test(key) && key !== '__proto__';
}

/** A scalar written on one line, resolved as the `yaml` package resolves it (YAML 1.2 core schema). */
function scalar(s: string): unknown {
  const c = s.charCodeAt(0);
  if (c === 34) return doubleQuoted(s);
  if (c === 39) return singleQuoted(s);
  if (s === '[]') return [];
  if (s === '{}') return {};
  // Indicators, and what a plain scalar cannot hold on one line: a comment, a nested "key: value".
  if ('?:,[]{}#&*!|>%@`'.includes(s[0] as string) || s === '-' || s.startsWith('- ')) decline();
  if (s.includes(' #') || s.includes(': ') || s.endsWith(':')) decline();
  return plain(s);
}

function plain(s: string): unknown {
  if (/^(?:~|[Nn]ull|NULL)?$/.test(s)) return null;
  if (/^(?:[Tt]rue|TRUE)$/.test(s)) return true;
  if (/^(?:[Ff]alse|FALSE)$/.test(s)) return false;
  if (/^0o[0-7]+$/.test(s)) return parseInt(s.substring(2), 8);
  if (/^[-+]?[0-9]+$/.test(s)) return parseInt(s, 10);
  if (/^0x[0-9a-fA-F]+$/.test(s)) return parseInt(s.substring(2), 16);
  if (/^(?:[-+]?\.(?:inf|Inf|INF)|\.nan|\.NaN|\.NAN)$/.test(s)) return s.slice(-3).toLowerCase() === 'nan' ? NaN : s[0] === '-' ? Number.NEGATIVE_INFINITY : Number.POSITIVE_INFINITY;
  if (/^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)[eE][-+]?[0-9]+$/.test(s)) return parseFloat(s);
  if (/^[-+]?(?:\.[0-9]+|[0-9]+\.[0-9]*)$/.test(s)) return parseFloat(s);
  return s;
}

/** "…" on one line with JSON's escapes only (YAML has more: \x, \e, \N, \_, a line break…). */
function doubleQuoted(s: string): string {
  let end = 1;
  for (; end < s.length; end++) {
    const c = s.charCodeAt(end);
    if (c === 92) {
      if (!'"\\/bfnrtu'.includes(s[end + 1] ?? '')) decline();
      end++;
    } else if (c === 34) {
      break;
    }
  }
  if (end >= s.length || !onlySpaces(s, end + 1)) decline();
  const body = s.slice(1, end);
  if (!body.includes('\\')) return body;
  try {
    return JSON.parse(s.slice(0, end + 1)) as string;
  } catch {
    return decline();
  }
}

/** '…' on one line; '' is a quote. */
function singleQuoted(s: string): string {
  let out = '';
  let run = 1;
  for (let i = 1; i < s.length; i++) {
    if (s.charCodeAt(i) !== 39) continue;
    if (s.charCodeAt(i + 1) === 39) {
      out += s.slice(run, i + 1);
      run = ++i + 1;
      continue;
    }
    if (!onlySpaces(s, i + 1)) decline();
    return out + s.slice(run, i);
  }
  return decline();
}
