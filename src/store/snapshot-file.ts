/**
 * The --snapshot-file format: the store's source objects per partition, so a
 * restarted crdns can answer before its source lists. Pure text in and out;
 * atomic-write.ts and snapshot-file-writer.ts do the I/O.
 *
 * Two lines of JSON. The first is a header a person can read with `head -1`:
 * format name and version, the crdns that wrote it, when, the scope it was
 * written for, the length of the second line (the body), and last a SHA-256
 * of everything before it: the header's other fields and the body. A file is
 * used whole or not at all: a truncated or altered file fails its checksum,
 * a header that does not parse or names another format version is refused, and
 * a body of the wrong shape is refused even when its checksum holds (written by
 * something else). The body holds what sources hand over (EndpointObjects),
 * never built records: a change to how the store builds or encodes its
 * snapshot does not invalidate a file, and restored objects are validated
 * exactly as live ones.
 */
import { createHash } from 'node:crypto';
import type { EndpointObject, EndpointOrigin } from '../endpoint/endpoint.js';
import type { SavedPartition } from './zone-store.js';

export const SNAPSHOT_FORMAT = 'crdns-snapshot';
/** Raised only when an older crdns could not read the new body; it then ignores the file with a log line. */
export const SNAPSHOT_FORMAT_VERSION = 1;

/**
 * What the saved objects are a listing of (source, namespaces, label
 * selector, ...). A file written for another scope is not served: its objects
 * would be served until the first listing, which would then remove them.
 */
export type SnapshotScope = Readonly<Record<string, string | readonly string[]>>;

export interface SnapshotHeader {
  format: string;
  version: number;
  /** The crdns version that wrote it, for people. */
  crdns: string;
  /** ISO time of the write. */
  writtenAt: string;
  /** ms since 1970 when the data was last built from a live change: how old it is. */
  dataTime: number;
  scope: SnapshotScope;
  /** Bytes (UTF-8) of the body line, without its newline. */
  bodyBytes: number;
  /** Hex SHA-256 of the header line up to this field (without its closing brace), a newline, and the body line. */
  sha256: string;
}

export interface SnapshotContents {
  header: SnapshotHeader;
  partitions: SavedPartition[];
}

export interface EncodeInput {
  crdns: string;
  writtenAt: number;
  dataTime: number;
  scope: SnapshotScope;
  partitions: readonly SavedPartition[];
}

export function encodeSnapshot(input: EncodeInput): string {
  const body = JSON.stringify({ partitions: input.partitions.map((p) => ({ name: p.name, objects: p.objects })) });
  const header: Omit<SnapshotHeader, 'sha256'> = {
    format: SNAPSHOT_FORMAT,
    version: SNAPSHOT_FORMAT_VERSION,
    crdns: input.crdns,
    writtenAt: new Date(input.writtenAt).toISOString(),
    dataTime: input.dataTime,
    scope: input.scope,
    bodyBytes: Buffer.byteLength(body, 'utf8'),
  };
  // The checksum goes last, so it can cover the header text before it exactly as written.
  const covered = JSON.stringify(header).slice(0, -1);
  return `${covered},"sha256":"${sha256(`${covered}\n${body}`)}"}\n${body}\n`;
}

/** Why a file was not used; `reason` is one line for the log. */
export type DecodeResult =
  | { ok: true; contents: SnapshotContents }
  | { ok: false; kind: 'corrupt' | 'incompatible'; reason: string };

export function decodeSnapshot(text: string): DecodeResult {
  const nl = text.indexOf('\n');
  if (nl < 0) return corrupt(text.length === 0 ? 'the file is empty' : 'no header line (truncated?)');
  const headerLine = text.slice(0, nl);
  let raw: unknown;
  try {
    raw = JSON.parse(headerLine);
  } catch {
    return corrupt('the header line is not JSON');
  }
  if (!isRecord(raw) || raw.format !== SNAPSHOT_FORMAT) return corrupt(`the header does not name format "${SNAPSHOT_FORMAT}"`);
  if (raw.version !== SNAPSHOT_FORMAT_VERSION) {
    return { ok: false, kind: 'incompatible', reason: `format version ${JSON.stringify(raw.version)} (written by crdns ${String(raw.crdns)}); this crdns reads version ${SNAPSHOT_FORMAT_VERSION} only` };
  }
  const header = checkHeader(raw);
  if (typeof header === 'string') return corrupt(header);
  const rest = text.slice(nl + 1);
  if (!rest.endsWith('\n')) return corrupt('the body does not end with a newline (truncated?)');
  const body = rest.slice(0, -1);
  const bytes = Buffer.byteLength(body, 'utf8');
  if (bytes !== header.bodyBytes) return corrupt(`the body is ${bytes} bytes, the header says ${header.bodyBytes} (truncated?)`);
  const tail = `,"sha256":"${header.sha256}"}`;
  if (!headerLine.endsWith(tail)) return corrupt('the header does not end with its checksum');
  if (sha256(`${headerLine.slice(0, -tail.length)}\n${body}`) !== header.sha256) return corrupt('the file does not match its SHA-256 checksum');
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return corrupt('the body is not JSON');
  }
  const partitions = checkBody(parsed);
  if (typeof partitions === 'string') return corrupt(partitions);
  return { ok: true, contents: { header, partitions } };
}

export function sameScope(a: SnapshotScope, b: SnapshotScope): boolean {
  return canonical(a) === canonical(b);
}

function canonical(scope: SnapshotScope): string {
  return JSON.stringify(Object.keys(scope).sort().map((k) => [k, scope[k]]));
}

function sha256(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

function corrupt(reason: string): DecodeResult {
  return { ok: false, kind: 'corrupt', reason };
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function checkHeader(h: Record<string, unknown>): SnapshotHeader | string {
  if (typeof h.crdns !== 'string') return 'the header has no crdns version';
  if (typeof h.writtenAt !== 'string' || Number.isNaN(Date.parse(h.writtenAt))) return 'the header has no valid writtenAt';
  if (typeof h.dataTime !== 'number' || !Number.isFinite(h.dataTime)) return 'the header has no valid dataTime';
  if (!isRecord(h.scope) || !Object.values(h.scope).every((v) => typeof v === 'string' || (Array.isArray(v) && v.every((x) => typeof x === 'string')))) {
    return 'the header has no valid scope';
  }
  if (typeof h.bodyBytes !== 'number' || !Number.isSafeInteger(h.bodyBytes) || h.bodyBytes < 0) return 'the header has no valid bodyBytes';
  if (typeof h.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(h.sha256)) return 'the header has no valid sha256';
  return {
    format: SNAPSHOT_FORMAT,
    version: SNAPSHOT_FORMAT_VERSION,
    crdns: h.crdns,
    writtenAt: h.writtenAt,
    dataTime: h.dataTime,
    scope: h.scope as SnapshotScope,
    bodyBytes: h.bodyBytes,
    sha256: h.sha256,
  };
}

function checkBody(b: unknown): SavedPartition[] | string {
  if (!isRecord(b) || !Array.isArray(b.partitions)) return 'the body has no partitions';
  const out: SavedPartition[] = [];
  const names = new Set<string>();
  for (const [i, p] of b.partitions.entries()) {
    if (!isRecord(p) || typeof p.name !== 'string' || !Array.isArray(p.objects)) return `partition ${i} is not {name, objects}`;
    if (names.has(p.name)) return `partition ${JSON.stringify(p.name)} appears twice`;
    names.add(p.name);
    const objects: EndpointObject[] = [];
    for (const [j, o] of p.objects.entries()) {
      const object = checkObject(o);
      if (typeof object === 'string') return `partition ${JSON.stringify(p.name)} object ${j}: ${object}`;
      objects.push(object);
    }
    out.push({ name: p.name, objects });
  }
  return out;
}

const OPTIONAL_STRINGS = ['cluster', 'uid', 'file'] as const;
const OPTIONAL_NUMBERS = ['locality', 'generation', 'createdAt'] as const;

/** The object's own fields are checked; its endpoints are left to the store's validation, as a live object's are. */
function checkObject(o: unknown): EndpointObject | string {
  if (!isRecord(o) || typeof o.key !== 'string' || o.key === '') return 'no key';
  if (!Array.isArray(o.endpoints)) return 'no endpoints list';
  const g = o.origin;
  if (!isRecord(g) || typeof g.source !== 'string' || typeof g.namespace !== 'string' || typeof g.name !== 'string') return 'no origin {source, namespace, name}';
  const origin: EndpointOrigin = { source: g.source, namespace: g.namespace, name: g.name };
  for (const f of OPTIONAL_STRINGS) {
    if (g[f] === undefined) continue;
    if (typeof g[f] !== 'string') return `origin.${f} is not a string`;
    origin[f] = g[f];
  }
  for (const f of OPTIONAL_NUMBERS) {
    if (g[f] === undefined) continue;
    if (typeof g[f] !== 'number' || !Number.isFinite(g[f])) return `origin.${f} is not a number`;
    origin[f] = g[f];
  }
  return { key: o.key, origin, endpoints: o.endpoints };
}
