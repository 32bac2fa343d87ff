/**
 * Turns the text of one manifest file into EndpointObjects. A folder handed
 * to crdns is usually the same folder people `kubectl apply -f`, so this reads
 * what kubectl reads: multi-document YAML, JSON, and `List`s of objects, and
 * passes over the kinds that are not ours (listing them, so `check` can say so).
 * What kubectl would refuse, or what looks like a DNSEndpoint gone wrong (a
 * misspelt kind, bytes that are not text, a document that is not an object),
 * is a problem, never silently nothing.
 *
 * Only the envelope is checked here (kind, apiVersion, metadata.name, that
 * spec.endpoints is a list); each endpoint is validated later on its own, so
 * one bad entry cannot hide its siblings. Services and Ingresses are turned
 * into entries here too (workload-documents.ts), published without readiness.
 */
import { isUtf8 } from 'node:buffer';
import type { CST, Document, LineCounter } from 'yaml';
import { yamlPackage } from '../../yaml-package.js';
import type { EndpointObject } from '../../endpoint/endpoint.js';
import { compactValue } from './compact-value.js';
import { readSimpleYaml } from './simple-yaml.js';
import { flowTooDeepAt, MAX_YAML_DEPTH, tokensTooDeepAt } from './nesting.js';
import { parseStrictJson, type JsonDocument, type Position } from './strict-json.js';
import { convertWorkload, WORKLOAD_KEY_PREFIX, workloadEnvelopeProblem, workloadKindOf } from './workload-documents.js';

export const DNSENDPOINT_API_VERSION = 'externaldns.k8s.io/v1alpha1';
export const DNSENDPOINT_KIND = 'DNSEndpoint';
export const MANIFEST_SOURCE = 'manifests';
export const MANIFEST_EXTENSIONS = ['.yaml', '.yml', '.json'] as const;

/** Something wrong with a manifest file or a document in it. Lines and columns are 1-based. */
export interface ManifestProblem {
  /**
   * parse: the file is not valid YAML/JSON; read: it could not be read;
   * document: a DNSEndpoint in it is malformed; duplicate: its key is already
   * defined by an earlier document; folder: the folder itself could not be listed;
   * not-manifest: a file named explicitly (to `check`) that crdns would never read;
   * annotation: a Service's or Ingress's annotation value was ignored (the rest of it is served).
   */
  kind: 'parse' | 'read' | 'document' | 'duplicate' | 'folder' | 'not-manifest' | 'annotation';
  file: string;
  line?: number;
  column?: number;
  /** Index of the document in the file, 0-based. */
  document?: number;
  /** EndpointObject key, when it is known. */
  object?: string;
  message: string;
}

export interface ParsedManifest {
  ok: true;
  /** DNSEndpoints in document order. A key may appear twice; the caller decides which wins. */
  objects: EndpointObject[];
  /** Per-document problems; the rest of the file is still usable. */
  problems: ManifestProblem[];
  /** Keys of DNSEndpoints that had a problem, so a caller can keep their last good version. */
  rejectedKeys: string[];
  /** Documents (or List items) that were not DNSEndpoints and were skipped. */
  ignored: number;
  /** The same documents, where and of which kind, for `check` to list. */
  ignoredDocuments: IgnoredDocument[];
  /** Non-empty documents seen, List items counted one by one. */
  documents: number;
  /** Worth saying but not wrong: a Service's name that the manifest gives no address for. */
  notes: ManifestNote[];
}

export interface ManifestNote {
  /** file#document, as in IgnoredDocument. */
  origin: string;
  object: string;
  message: string;
}

export interface ParseOptions {
  /** Where Services' and Ingresses' ExternalDNS annotations are read; default both ExternalDNS prefixes. */
  annotationPrefixes?: readonly string[];
}

/** A document of another kind (ConfigMap, Service...), skipped as kubectl users expect. */
export interface IgnoredDocument {
  /** file#document, or file#document.items[i] for a List item. */
  origin: string;
  kind: string;
  /** Why a document of a kind crdns reads under another apiVersion was not read (a Knative Service, a v1beta1 Ingress). */
  note?: string;
}

export interface ManifestParseFailure {
  ok: false;
  error: ManifestProblem;
}

export type ManifestParseResult = ParsedManifest | ManifestParseFailure;

export function isManifestFileName(name: string): boolean {
  // Dotfiles include editor swap files and the "..data" machinery of ConfigMap volumes.
  if (name.startsWith('.')) return false;
  const lower = name.toLowerCase();
  return MANIFEST_EXTENSIONS.some((ext) => lower.endsWith(ext) && lower.length > ext.length);
}

/** Why a file named explicitly is not one crdns reads, or undefined when it is. */
export function notManifestReason(name: string): string | undefined {
  if (isManifestFileName(name)) return undefined;
  if (name.startsWith('.')) return 'not a manifest file: crdns skips dotfiles (editor swap files, the ..data links of ConfigMap volumes)';
  const dot = name.lastIndexOf('.');
  const ext = dot > 0 ? name.slice(dot) : 'no extension';
  return `not a manifest file: ${ext}; crdns reads ${MANIFEST_EXTENSIONS.join(', ')}`;
}

/**
 * A manifest file's bytes as text. Anything but UTF-8 is refused: decoding
 * it anyway would turn binary junk into a YAML string that silently holds nothing.
 */
export function decodeManifestBytes(bytes: Buffer): { ok: true; text: string } | { ok: false; reason: string } {
  if (isUtf8(bytes)) return { ok: true, text: bytes.toString('utf8') };
  const at = invalidUtf8Offset(bytes);
  const utf16 = bytes.length >= 2 && ((bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff));
  const hint = utf16 ? '; it looks like UTF-16, save it as UTF-8' : '';
  return { ok: false, reason: `file is not UTF-8 text (invalid byte 0x${(bytes[at] ?? 0).toString(16).padStart(2, '0')} at offset ${at})${hint}` };
}

/** Offset of the first byte that does not start or continue a well-formed UTF-8 sequence (RFC 3629 §4). */
function invalidUtf8Offset(b: Buffer): number {
  let i = 0;
  while (i < b.length) {
    const c = b[i] as number;
    if (c < 0x80) {
      i++;
      continue;
    }
    const n = c >= 0xc2 && c <= 0xdf ? 1 : c >= 0xe0 && c <= 0xef ? 2 : c >= 0xf0 && c <= 0xf4 ? 3 : 0;
    if (n === 0 || i + n >= b.length) return i;
    const c1 = b[i + 1] as number;
    const lo = c === 0xe0 ? 0xa0 : c === 0xf0 ? 0x90 : 0x80;
    const hi = c === 0xed ? 0x9f : c === 0xf4 ? 0x8f : 0xbf;
    if (c1 < lo || c1 > hi) return i;
    for (let k = 2; k <= n; k++) if (((b[i + k] as number) & 0xc0) !== 0x80) return i;
    i += n + 1;
  }
  return b.length;
}

/** "file:line:col: message", the form editors and CI logs link to. */
export function formatManifestProblem(p: ManifestProblem): string {
  let where = p.file;
  if (p.line !== undefined) where += `:${p.line}` + (p.column !== undefined ? `:${p.column}` : '');
  const what = p.object !== undefined ? ` (${p.object})` : '';
  return `${where}: ${p.message}${what}`;
}


/** Where each document starts, and where each of its `items` starts if it is a List. */
type LocatedDocument = JsonDocument;

/**
 * Parses one file. `file` is used for messages and origins only. JSON files
 * are parsed as strict JSON (a YAML parser would accept `{"a":}`), YAML files
 * as YAML 1.2 with duplicate keys rejected, like kubectl's strict decoding.
 */
export function parseManifestText(text: string, file: string, options: ParseOptions = {}): ManifestParseResult {
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const nul = text.indexOf('\u0000');
  if (nul >= 0) {
    const before = text.slice(0, nul);
    const line = before.split('\n').length;
    const column = nul - before.lastIndexOf('\n');
    return { ok: false, error: { kind: 'parse', file, line, column, message: 'file holds a NUL byte: not a text manifest' } };
  }
  let docs: LocatedDocument[];
  const json = file.toLowerCase().endsWith('.json');
  try {
    const r = json ? locateJson(text) : locateYaml(text);
    if (!r.ok) return { ok: false, error: { kind: 'parse', file, line: r.at.line, column: r.at.column, message: r.message } };
    docs = r.docs;
  } catch (err) {
    // Stack exhaustion on absurd nesting, alias expansion limits and the like.
    return { ok: false, error: { kind: 'parse', file, line: 1, column: 1, message: errorMessage(err) } };
  }

  const out: ParsedManifest = { ok: true, objects: [], problems: [], rejectedKeys: [], ignored: 0, ignoredDocuments: [], documents: 0, notes: [] };
  docs.forEach((doc, d) => {
    if (doc.value === null || doc.value === undefined) return; // empty document, e.g. a trailing "---"
    // What JSON.parse made, in a JSON file or a YAML document written as JSON, is as small as it can
    // be (strict-json.ts); the YAML readers' values need compacting to be kept.
    const keep = doc.compact === true ? keepAsParsed : compactValue;
    if (isList(doc.value)) {
      const items = (doc.value as { items?: unknown }).items;
      if (items === undefined || items === null) return;
      if (!Array.isArray(items)) {
        out.documents++;
        out.problems.push({ kind: 'document', file, document: d, ...doc.at, message: 'a List must have an "items" array' });
        return;
      }
      items.forEach((item, i) => {
        const at = doc.itemAt(i) ?? doc.at;
        readDocument(item, file, d, `${file}#${d}.items[${i}]`, at, out, 'List item', options, keep);
      });
      return;
    }
    readDocument(doc.value, file, d, `${file}#${d}`, doc.at, out, 'document', options, keep);
  });
  return out;
}

function isList(v: unknown): boolean {
  if (!isPlainObject(v)) return false;
  // kubectl writes "List" (apiVersion v1); a typed list such as DNSEndpointList is the same shape.
  return typeof v.kind === 'string' && (v.kind === 'List' || v.kind.endsWith('List')) && 'items' in v;
}

// Kubernetes' own rules: names are DNS subdomains, namespaces DNS labels. Holding
// manifests to them keeps "namespace/name" keys unambiguous and the same as the
// Kubernetes source would produce for the same object.
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** "a string", "a list"...: what a value is, for a message. */
function describe(v: unknown): string {
  if (Array.isArray(v)) return 'a list';
  if (Buffer.isBuffer(v) || v instanceof Uint8Array) return 'binary data';
  if (v === null) return 'null';
  const t = typeof v;
  return t === 'object' ? 'a value of another type' : `a ${t}`;
}

/** The key a document would have, when its metadata makes one; for keeping a misspelt object's last good version. */
function keyOf(meta: unknown): string | undefined {
  if (!isPlainObject(meta) || typeof meta.name !== 'string' || !DNS_SUBDOMAIN.test(meta.name) || meta.name.length > 253) return undefined;
  const ns = meta.namespace;
  if (ns !== undefined && ns !== null && ns !== '' && (typeof ns !== 'string' || ns.length > 63 || !DNS_LABEL.test(ns))) return undefined;
  return `${typeof ns === 'string' && ns !== '' ? ns : 'default'}/${meta.name}`;
}

function keepAsParsed(value: unknown): unknown {
  return value;
}

function readDocument(value: unknown, file: string, d: number, origin: string, at: Position, out: ParsedManifest, what: 'document' | 'List item', options: ParseOptions, keep: (value: unknown) => unknown): void {
  out.documents++;
  const problem = (message: string, object?: string): void => {
    out.problems.push({ kind: 'document', file, document: d, ...at, message, ...(object !== undefined ? { object } : {}) });
    if (object !== undefined) out.rejectedKeys.push(object);
  };
  if (!isPlainObject(value)) return problem(`${what} is ${describe(value)}, not a mapping: a Kubernetes object is a mapping with apiVersion, kind and metadata`);
  const kind = value.kind;
  if (kind === undefined || kind === null || kind === '') return problem(`${what} has no kind: a Kubernetes object needs apiVersion and kind (kubectl refuses it too)`);
  if (typeof kind !== 'string') return problem(`${what}'s kind is ${describe(kind)}, not a string`);
  const workload = workloadKindOf(value.apiVersion, kind);
  if (kind !== DNSENDPOINT_KIND && workload === undefined) {
    const apiVersion = value.apiVersion;
    const ourGroup = typeof apiVersion === 'string' && apiVersion.startsWith(`${DNSENDPOINT_API_VERSION.split('/')[0]}/`);
    if (kind.toLowerCase() === DNSENDPOINT_KIND.toLowerCase()) {
      return problem(`kind ${JSON.stringify(kind)} is not "${DNSENDPOINT_KIND}" (kinds are case-sensitive); the document is not served`, keyOf(value.metadata));
    }
    if (ourGroup) {
      return problem(`kind ${JSON.stringify(kind)} in apiVersion ${JSON.stringify(apiVersion)} is not ${DNSENDPOINT_KIND}, the only kind crdns reads from that group; the document is not served`, keyOf(value.metadata));
    }
    out.ignored++;
    const reads = kind === 'Service' ? 'v1 Services' : kind === 'Ingress' ? 'networking.k8s.io/v1 Ingresses' : undefined;
    out.ignoredDocuments.push({ origin, kind, ...(reads ? { note: `apiVersion ${JSON.stringify(apiVersion)}; crdns reads ${reads}` } : {}) });
    return;
  }

  const meta = value.metadata;
  if (!isPlainObject(meta)) return problem(`${kind} has no metadata`);
  const name = meta.name;
  if (typeof name !== 'string' || name === '') return problem(`${kind} has no metadata.name`);
  if (name.length > 253 || !DNS_SUBDOMAIN.test(name)) {
    return problem(`metadata.name "${name}" is not a valid Kubernetes object name (lowercase DNS subdomain)`);
  }
  const ns = meta.namespace;
  if (ns !== undefined && ns !== null && (typeof ns !== 'string' || (ns !== '' && (ns.length > 63 || !DNS_LABEL.test(ns))))) {
    return problem(`metadata.namespace ${JSON.stringify(ns)} is not a valid Kubernetes namespace (lowercase DNS label)`);
  }
  const namespace = typeof ns === 'string' && ns !== '' ? ns : 'default';
  if (workload !== undefined) {
    const key = `${WORKLOAD_KEY_PREFIX[workload]}${namespace}/${name}`;
    const envelope = workloadEnvelopeProblem(workload, value);
    if (envelope !== undefined) return problem(`${kind} ${envelope}`, key);
    const converted = convertWorkload(workload, value, options.annotationPrefixes);
    for (const p of converted.problems) {
      out.problems.push({ kind: 'annotation', file, document: d, ...at, object: key, message: `annotation ${p.annotation}: ${p.reason}; ignored` });
    }
    if (converted.note !== undefined) out.notes.push({ origin, object: key, message: converted.note });
    out.objects.push({ key, origin: { source: MANIFEST_SOURCE, namespace, name, file: origin }, endpoints: converted.endpoints });
    return;
  }
  const key = `${namespace}/${name}`;

  if (value.apiVersion !== DNSENDPOINT_API_VERSION) {
    return problem(`DNSEndpoint apiVersion ${JSON.stringify(value.apiVersion)} is not supported, expected "${DNSENDPOINT_API_VERSION}"`, key);
  }
  // An absent spec or spec.endpoints is what the API server accepts as "no
  // records", so it is served as exactly that rather than reported.
  const spec = value.spec;
  let endpoints: unknown[] = [];
  if (spec !== undefined && spec !== null) {
    if (!isPlainObject(spec)) return problem('spec must be a mapping', key);
    const eps = spec.endpoints;
    if (eps !== undefined && eps !== null) {
      if (!Array.isArray(eps)) return problem('spec.endpoints must be a list', key);
      endpoints = keep(eps) as unknown[];
    }
  }
  out.objects.push({ key, origin: { source: MANIFEST_SOURCE, namespace, name, file: origin }, endpoints });
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !Buffer.isBuffer(v);
}

function errorMessage(err: unknown): string {
  if (err instanceof RangeError) return `document is nested too deeply (${err.message})`;
  return err instanceof Error ? err.message : String(err);
}

type Located = { ok: true; docs: LocatedDocument[] } | { ok: false; at: Position; message: string };

// ---- YAML ------------------------------------------------------------------

function locateYaml(text: string): Located {
  // Most manifests are in the subset simple-yaml.ts reads; it declines the rest, and every malformed file.
  const simple = readSimpleYaml(text);
  if (simple !== undefined) return { ok: true, docs: simple };
  const tooDeep = (offset: number): Located => {
    const before = text.slice(0, offset);
    const line = before.split('\n').length;
    return { ok: false, at: { line, column: offset - before.lastIndexOf('\n') }, message: `nesting deeper than ${MAX_YAML_DEPTH} levels` };
  };
  const flow = flowTooDeepAt(text, MAX_YAML_DEPTH);
  if (flow !== undefined) return tooDeep(flow);
  const { Composer, LineCounter, Parser } = yamlPackage();
  const lc = new LineCounter();
  // What parseAllDocuments does, one document at a time, with each document's nesting checked between
  // parsing (iterative) and composing (recursive). One at a time, so a document's syntax tree is garbage
  // once its value is out: a 10 MB folder no longer holds every token and tree at once.
  let deep: number | undefined;
  function* checked(): Generator<CST.Token> {
    for (const token of new Parser(lc.addNewLine).parse(text)) {
      deep = tokensTooDeepAt([token], MAX_YAML_DEPTH);
      if (deep !== undefined) return;
      yield token;
    }
  }
  // logLevel error: the yaml package would otherwise print its warnings on stderr, outside the JSON log lines.
  const composer = new Composer({ uniqueKeys: true, logLevel: 'error' });
  const docs: LocatedDocument[] = [];
  for (const doc of composer.compose(checked())) {
    if (deep !== undefined) return tooDeep(deep);
    const err = doc.errors[0];
    if (err) {
      const p = lc.linePos(err.pos[0]);
      return { ok: false, at: { line: p.line, column: p.col }, message: firstLine(err.message) };
    }
    const key = collectionKeyAt(doc);
    if (key !== undefined) {
      const p = lc.linePos(key);
      // toJS would quietly turn the key into a string; kubectl refuses the file.
      return { ok: false, at: { line: p.line, column: p.col }, message: 'a mapping key is itself a list or mapping; Kubernetes objects have string keys' };
    }
    docs.push(locateYamlDocument(doc, lc));
  }
  if (deep !== undefined) return tooDeep(deep);
  return { ok: true, docs };
}

function locateYamlDocument(doc: Document.Parsed, lc: LineCounter): LocatedDocument {
  const pos = (offset: number | undefined): Position => {
    const p = lc.linePos(offset ?? 0);
    return { line: p.line, column: p.col };
  };
  const contents = doc.contents;
  const at = pos(contents?.range?.[0] ?? doc.range[0]);
  // The yaml package's own default (100) guards against alias expansion bombs.
  const value: unknown = doc.toJS();
  // Taken now, so nothing keeps the document's syntax tree alive once it is read.
  const { isMap, isSeq } = yamlPackage();
  const items = isMap(contents) ? contents.get('items', true) : undefined;
  const itemStarts = isSeq(items) ? items.items.map((node) => ((node as { range?: [number, number, number] } | null)?.range ? pos((node as { range: [number, number, number] }).range[0]) : undefined)) : [];
  return { value, at, itemAt: (i: number) => itemStarts[i] };
}

/** Offset of the first mapping key that is a collection (`? [a, b]: c`, `{a: 1}: x`), if any. */
function collectionKeyAt(doc: Document.Parsed): number | undefined {
  const { isCollection, visit } = yamlPackage();
  let at: number | undefined;
  visit(doc, {
    Pair(_, pair) {
      if (isCollection(pair.key)) {
        at = pair.key.range?.[0] ?? 0;
        return visit.BREAK;
      }
      return undefined;
    },
  });
  return at;
}

function firstLine(s: string): string {
  const i = s.indexOf('\n');
  return (i < 0 ? s : s.slice(0, i)).replace(/:$/, '');
}

function locateJson(text: string): Located {
  const r = parseStrictJson(text);
  if (!r.ok) return r;
  return { ok: true, docs: r.document ? [r.document] : [] };
}
