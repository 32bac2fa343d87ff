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
}

export type JsonParseResult = { ok: true; document: JsonDocument | undefined } | { ok: false; at: Position; message: string };

/** Parses one JSON text; `document` is undefined when it holds only whitespace. */
export function parseStrictJson(text: string): JsonParseResult {
  const lineStarts = [0];
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 10) lineStarts.push(i + 1);
  const pos = (offset: number): Position => {
    let lo = 0;
    let hi = lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((lineStarts[mid] as number) <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, column: offset - (lineStarts[lo] as number) + 1 };
  };
  const p = new JsonParser(text);
  try {
    p.ws();
    if (p.i >= text.length) return { ok: true, document: undefined };
    const start = p.i;
    const value = p.value(0);
    p.ws();
    if (p.i < text.length) p.fail('unexpected content after the JSON value');
    return { ok: true, document: { value, at: pos(start), itemAt: (i) => (p.itemStarts[i] !== undefined ? pos(p.itemStarts[i] as number) : undefined) } };
  } catch (err) {
    if (err instanceof JsonSyntaxError) return { ok: false, at: pos(err.offset), message: err.message };
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
