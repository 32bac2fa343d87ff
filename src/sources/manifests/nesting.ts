/**
 * How deep a YAML file nests, measured without recursion. The yaml package
 * builds documents recursively, so a file nested thousands deep (a few KB of
 * `[[[[` or of ever deeper indentation) ends in a stack overflow after seconds
 * of work, reported as "Maximum call stack size exceeded". Kubernetes objects
 * nest a dozen levels; refusing past MAX_YAML_DEPTH, before the documents are
 * built, gives the owner a message saying what is wrong and where, at once.
 *
 * Two passes, cheapest first: a scan of the text for flow brackets (the only
 * way to nest deep in few bytes), then the parser's token tree, walked with
 * an explicit stack, for nesting of every kind.
 */
import type { CST } from 'yaml';

/** The same order as strict-json.ts's MAX_JSON_DEPTH: far past any real object, far short of the stack. */
export const MAX_YAML_DEPTH = 256;

/**
 * Offset of the first flow bracket (`[` or `{`) opened deeper than `max`, or
 * undefined. Quoted scalars and comments are skipped. It errs on the side of
 * counting less (a quote inside a plain scalar may hide brackets), never
 * more than the parser would nest: an unbalanced `[` in a plain scalar counts,
 * but `max` of them on one path is no real manifest.
 */
export function flowTooDeepAt(text: string, max: number): number | undefined {
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x5b /* [ */ || c === 0x7b /* { */) {
      if (++depth > max) return i;
    } else if (c === 0x5d /* ] */ || c === 0x7d /* } */) {
      if (depth > 0) depth--;
    } else if (c === 0x22 /* " */ || c === 0x27 /* ' */) {
      // A quote opens a scalar only where a token may start.
      if (i > 0 && !startsToken(text.charCodeAt(i - 1))) continue;
      i = closingQuote(text, i, c);
    } else if (c === 0x23 /* # */ && (i === 0 || isSpace(text.charCodeAt(i - 1)))) {
      const nl = text.indexOf('\n', i);
      i = nl < 0 ? text.length : nl;
    }
  }
  return undefined;
}

/** Offset of the first collection nested deeper than `max` in the parser's tokens, or undefined. */
export function tokensTooDeepAt(tokens: readonly CST.Token[], max: number): number | undefined {
  const stack: Array<{ token: CST.Token; depth: number }> = tokens.map((token) => ({ token, depth: 0 }));
  for (let next = stack.pop(); next; next = stack.pop()) {
    const { token, depth } = next;
    if (token.type === 'document') {
      if (token.value) stack.push({ token: token.value, depth });
    } else if (token.type === 'block-map' || token.type === 'block-seq' || token.type === 'flow-collection') {
      if (depth >= max) return token.offset;
      for (const item of token.items) {
        if ('key' in item && item.key) stack.push({ token: item.key, depth: depth + 1 });
        if (item.value) stack.push({ token: item.value, depth: depth + 1 });
      }
    }
  }
  return undefined;
}

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;
}

function startsToken(previous: number): boolean {
  // After white space or a flow or block indicator: `- "a"`, `k: 'b'`, `["c"`, `{'d'`, `,"e"`.
  return isSpace(previous) || previous === 0x5b || previous === 0x7b || previous === 0x2c || previous === 0x3a || previous === 0x2d || previous === 0x3f;
}

/** Index of the quote closing the scalar opened at `open` (YAML: `''` escapes in single quotes, `\` in double), or the end. */
function closingQuote(text: string, open: number, quote: number): number {
  for (let j = open + 1; j < text.length; j++) {
    const c = text.charCodeAt(j);
    if (quote === 0x22 && c === 0x5c /* \ */) j++;
    else if (c === quote) {
      if (quote === 0x27 && text.charCodeAt(j + 1) === 0x27) j++;
      else return j;
    }
  }
  return text.length;
}
