/**
 * Strict JSON for manifest files: RFC 8259 exactly (JSON.parse on Node 20
 * cannot say where it failed), with line and column on every error, duplicate
 * keys refused as for YAML, and the start of each top-level `items` entry
 * remembered so problems in a List point at the item.
 */

export interface Position {
  line: number;
  column: number;
}

export interface JsonDocument {
  value: unknown;
  at: Position;
  /** Where the i-th element of the top-level object's "items" array starts. */
  itemAt(i: number): Position | undefined;
  /**
   * Whether `value` is already as small as its content (what JSON.parse
   * makes: flat strings, arrays of their exact length), so a kept manifest
   * needs no compacting copy (compact-value.ts).
   */
  compact?: boolean;
}

export type JsonParseResult = { ok: true; document: JsonDocument | undefined } | { ok: false; at: Position; message: string };

/**
 * Parses one JSON text; `document` is undefined when it holds only whitespace.
 *
 * JSON.parse does the parsing: RFC 8259 is ECMAScript's JSON grammar, and
 * the engine's parser is several times faster than one in JavaScript and
 * makes flat strings and arrays of their exact length, which is what a kept
 * manifest should be made of. What it does not do is checked after it by a
 * scan that allocates next to nothing (duplicate keys, depth, where items
 * start); when JSON.parse refuses the text, the parser below says where.
 */
export function parseStrictJson(text: string): JsonParseResult {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    // Not JSON (or nested past the engine's stack): the slow parser finds the place.
    return parseWithPositions(text);
  }
  const positions = new LinePositions(text);
  const scan = scanParsed(text);
  if (scan.error) return { ok: false, at: positions.at(scan.error.offset), message: scan.error.message };
  const items = scan.itemStarts;
  return { ok: true, document: { value, at: positions.near(scan.start), itemAt: (i) => (items[i] !== undefined ? positions.at(items[i] as number) : undefined), compact: true } };
}

/** Offsets → line and column; the line table is made when first needed. */
class LinePositions {
  private starts: number[] | undefined;
  constructor(private readonly text: string) {}

  /** Where `offset` is, counting lines up to it only: for the one position every parse needs (a document's start, near the top). */
  near(offset: number): Position {
    let line = 1;
    let lineStart = 0;
    for (let i = this.text.indexOf('\n'); i >= 0 && i < offset; i = this.text.indexOf('\n', i + 1)) {
      line++;
      lineStart = i + 1;
    }
    return { line, column: offset - lineStart + 1 };
  }

  at(offset: number): Position {
    if (!this.starts) {
      this.starts = [0];
      for (let i = 0; i < this.text.length; i++) if (this.text.charCodeAt(i) === 10) this.starts.push(i + 1);
    }
    const starts = this.starts;
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((starts[mid] as number) <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, column: offset - (starts[lo] as number) + 1 };
  }
}

/** Past this many keys an object's duplicates are found with a Set rather than by comparing each pair. */
const LINEAR_KEYS = 16;

interface Scan {
  /** Offset of the top-level value. */
  start: number;
  itemStarts: number[];
  error?: { offset: number; message: string };
}

/**
 * What JSON.parse leaves unchecked, over a text it accepted (so every token
 * is well formed): no object holds a key twice, nothing is nested deeper
 * than MAX_JSON_DEPTH, and where each element of the top-level object's
 * "items" array starts. The same errors at the same offsets as
 * parseWithPositions gives.
 */
function scanParsed(text: string): Scan {
  const n = text.length;
  // One entry per open container: 1 object, 2 array; an object's keys are keyStarts/keyEnds from its base.
  const kinds: number[] = [];
  const bases: number[] = [];
  const sets: (Set<string> | undefined)[] = [];
  const keyStarts: number[] = [];
  const keyEnds: number[] = [];
  const itemStarts: number[] = [];
  let expectKey = false;
  let topKeyIsItems = false;
  let inItems = false;
  let start = -1;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === 32 || c === 9 || c === 10 || c === 13 || c === 58) continue;
    const open = kinds.length;
    if (c === 44) {
      if (kinds[open - 1] === 1) expectKey = true;
      continue;
    }
    if (c === 125 || c === 93) {
      kinds.pop();
      keyStarts.length = keyEnds.length = bases.pop() as number;
      sets.pop();
      // What follows a value is "," or a closer, never a key.
      expectKey = false;
      if (open === 2) inItems = false;
      continue;
    }
    const isKey = expectKey && c === 34;
    if (!isKey) {
      // A value starts here.
      if (start < 0) start = i;
      if (open > MAX_JSON_DEPTH) return { start, itemStarts, error: { offset: i, message: `nesting deeper than ${MAX_JSON_DEPTH}` } };
      if (inItems && open === 2) itemStarts.push(i);
    }
    if (c === 123 || c === 91) {
      kinds.push(c === 123 ? 1 : 2);
      bases.push(keyStarts.length);
      sets.push(undefined);
      expectKey = c === 123;
      if (c === 91 && open === 1 && kinds[0] === 1 && topKeyIsItems) inItems = true;
      continue;
    }
    if (c !== 34) {
      // A number or a literal: skip to its end.
      while (i + 1 < n && !isDelimiter(text.charCodeAt(i + 1))) i++;
      continue;
    }
    let end = i + 1;
    let escaped = false;
    for (;; end++) {
      const d = text.charCodeAt(end);
      if (d === 92) {
        escaped = true;
        end++;
      } else if (d === 34) {
        break;
      }
    }
    if (isKey) {
      expectKey = false;
      const base = bases[open - 1] as number;
      const count = keyStarts.length - base;
      let set = sets[open - 1];
      if (set === undefined && (escaped || count >= LINEAR_KEYS)) {
        // Escapes make equal keys look different, and many keys make pairs many: compare decoded keys.
        set = new Set<string>();
        for (let k = base; k < keyStarts.length; k++) set.add(decodeKey(text, keyStarts[k] as number, keyEnds[k] as number));
        sets[open - 1] = set;
      }
      const duplicate = set !== undefined ? set.has(decodeKey(text, i, end + 1)) : sameAsAnyKey(text, i, end + 1, keyStarts, keyEnds, base);
      if (duplicate) return { start, itemStarts, error: { offset: i, message: `duplicate key "${decodeKey(text, i, end + 1)}"` } };
      set?.add(decodeKey(text, i, end + 1));
      keyStarts.push(i);
      keyEnds.push(end + 1);
      if (open === 1) topKeyIsItems = end + 1 - i === 7 ? text.startsWith('"items"', i) : escaped && decodeKey(text, i, end + 1) === 'items';
    }
    i = end;
  }
  return { start: Math.max(start, 0), itemStarts };
}

function isDelimiter(c: number): boolean {
  return c === 44 || c === 93 || c === 125 || c === 32 || c === 9 || c === 10 || c === 13;
}

function decodeKey(text: string, start: number, end: number): string {
  return JSON.parse(text.slice(start, end)) as string;
}

/** Whether the raw key text[start, end) equals one of the object's raw keys so far (none has an escape: the first one makes a Set). */
function sameAsAnyKey(text: string, start: number, end: number, starts: number[], ends: number[], base: number): boolean {
  const length = end - start;
  for (let k = base; k < starts.length; k++) {
    const s = starts[k] as number;
    if ((ends[k] as number) - s !== length) continue;
    let j = 1;
    while (j < length - 1 && text.charCodeAt(s + j) === text.charCodeAt(start + j)) j++;
    if (j >= length - 1) return true;
  }
  return false;
}

/** The JavaScript parser: slower, but it knows where it failed. Exported for the test that holds parseStrictJson to it. */
export function parseWithPositions(text: string): JsonParseResult {
  const positions = new LinePositions(text);
  const p = new JsonParser(text);
  try {
    p.ws();
    if (p.i >= text.length) return { ok: true, document: undefined };
    const start = p.i;
    const value = p.value(0);
    p.ws();
    if (p.i < text.length) p.fail('unexpected content after the JSON value');
    return { ok: true, document: { value, at: positions.at(start), itemAt: (i) => (p.itemStarts[i] !== undefined ? positions.at(p.itemStarts[i] as number) : undefined) } };
  } catch (err) {
    if (err instanceof JsonSyntaxError) return { ok: false, at: positions.at(err.offset), message: err.message };
    throw err;
  }
}

class JsonSyntaxError extends Error {
  constructor(message: string, readonly offset: number) {
    super(message);
  }
}

const MAX_JSON_DEPTH = 512;

class JsonParser {
  i = 0;
  /** Offsets of the elements of the top-level object's "items" array. */
  itemStarts: number[] = [];
  constructor(private readonly s: string) {}

  fail(message: string, at = this.i): never {
    throw new JsonSyntaxError(message, at);
  }

  ws(): void {
    const s = this.s;
    while (this.i < s.length) {
      const c = s.charCodeAt(this.i);
      if (c === 32 || c === 9 || c === 10 || c === 13) this.i++;
      else break;
    }
  }

  private describe(): string {
    return this.i >= this.s.length ? 'end of input' : `"${this.s[this.i]}"`;
  }

  value(depth: number, itemsOfTop = false): unknown {
    if (depth > MAX_JSON_DEPTH) this.fail(`nesting deeper than ${MAX_JSON_DEPTH}`);
    const c = this.s[this.i];
    if (c === '{') return this.object(depth);
    if (c === '[') return this.array(depth, itemsOfTop);
    if (c === '"') return this.string();
    if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) return this.number();
    for (const [word, v] of [['true', true], ['false', false], ['null', null]] as const) {
      if (this.s.startsWith(word, this.i)) {
        this.i += word.length;
        return v;
      }
    }
    return this.fail(`expected a JSON value, found ${this.describe()}`);
  }

  private object(depth: number): Record<string, unknown> {
    const obj: Record<string, unknown> = {};
    const seen = new Set<string>();
    this.i++;
    this.ws();
    if (this.s[this.i] === '}') {
      this.i++;
      return obj;
    }
    for (;;) {
      if (this.s[this.i] !== '"') this.fail(`expected a property name in double quotes, found ${this.describe()}`);
      const keyAt = this.i;
      const key = this.string();
      if (seen.has(key)) this.fail(`duplicate key "${key}"`, keyAt);
      seen.add(key);
      this.ws();
      if (this.s[this.i] !== ':') this.fail(`expected ":" after property name, found ${this.describe()}`);
      this.i++;
      this.ws();
      const v = this.value(depth + 1, depth === 0 && key === 'items');
      // defineProperty so a "__proto__" key is data, as JSON.parse treats it.
      Object.defineProperty(obj, key, { value: v, enumerable: true, writable: true, configurable: true });
      this.ws();
      const c = this.s[this.i];
      if (c === ',') {
        this.i++;
        this.ws();
        continue;
      }
      if (c === '}') {
        this.i++;
        return obj;
      }
      this.fail(`expected "," or "}" after property value, found ${this.describe()}`);
    }
  }

  private array(depth: number, record: boolean): unknown[] {
    const arr: unknown[] = [];
    this.i++;
    this.ws();
    if (this.s[this.i] === ']') {
      this.i++;
      return arr;
    }
    for (;;) {
      if (record) this.itemStarts.push(this.i);
      arr.push(this.value(depth + 1));
      this.ws();
      const c = this.s[this.i];
      if (c === ',') {
        this.i++;
        this.ws();
        continue;
      }
      if (c === ']') {
        this.i++;
        return arr;
      }
      this.fail(`expected "," or "]" after array element, found ${this.describe()}`);
    }
  }

  private string(): string {
    const s = this.s;
    const start = this.i;
    this.i++;
    let out = '';
    let run = this.i;
    for (;;) {
      if (this.i >= s.length) this.fail('unterminated string', start);
      const c = s.charCodeAt(this.i);
      if (c === 34) {
        out += s.slice(run, this.i);
        this.i++;
        return out;
      }
      if (c < 0x20) this.fail('control character in string (must be escaped)');
      if (c !== 92) {
        this.i++;
        continue;
      }
      out += s.slice(run, this.i);
      const e = s[this.i + 1];
      const simple: Record<string, string> = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };
      if (e !== undefined && e in simple) {
        out += simple[e];
        this.i += 2;
      } else if (e === 'u') {
        const hex = s.slice(this.i + 2, this.i + 6);
        if (!/^[0-9a-fA-F]{4}$/.test(hex)) this.fail('bad \\u escape in string');
        out += String.fromCharCode(parseInt(hex, 16));
        this.i += 6;
      } else {
        this.fail(`bad escape "\\${e ?? ''}" in string`);
      }
      run = this.i;
    }
  }

  private number(): number {
    const m = /^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/.exec(this.s.slice(this.i, this.i + 400));
    if (!m) this.fail('malformed number');
    const next = this.s[this.i + m[0].length];
    if (next !== undefined && /[0-9.eE+-]/.test(next)) this.fail('malformed number', this.i + m[0].length);
    this.i += m[0].length;
    return Number(m[0]);
  }
}
