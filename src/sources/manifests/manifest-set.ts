/**
 * What a set of manifest files serves, by the rules in docs/architecture.md
 * (a file that stops parsing keeps its last good objects; a malformed
 * DNSEndpoint keeps its last good version; a key defined twice is served from
 * the first file in name order; a file that shrinks or empties is applied
 * only once it has stayed so for a settle time, because a non-atomic writer
 * truncates before it writes and the records would vanish for a moment,
 * long enough for a resolver to cache the NXDOMAIN). No I/O here, so the
 * rules can be tested apart from the file system.
 */
import { createHash } from 'node:crypto';
import type { EndpointObject } from '../../endpoint/endpoint.js';
import { parseManifestText, type IgnoredDocument, type ManifestNote, type ManifestProblem } from './documents.js';

interface FileState {
  path: string;
  /**
   * Digest of the last text read, good or bad, so unchanged files are not
   * parsed again; the text itself would double what a large folder keeps.
   */
  digest?: string;
  /** What this file currently contributes, in document order, keys unique within the file. */
  served: EndpointObject[];
  /** Set while the file cannot be read or parsed. */
  error?: ManifestProblem;
  /** Problems of documents inside an otherwise good file. */
  documentProblems: ManifestProblem[];
  /** Notes about the documents it serves (a Service name with no address). */
  notes: ManifestNote[];
  /** Documents of other kinds in the last good parse, for `crdns check` to list. */
  ignored: IgnoredDocument[];
  /** A read that would serve fewer objects, waiting out the settle time. */
  held?: { digest: string; since: number };
}

export interface ManifestSetOptions {
  /** How long a file that shrinks or empties must stay unchanged before it is applied, ms. Default 0 (at once). */
  settleMs?: number;
  clock?: () => number;
  /** Where Services' and Ingresses' annotations are read (documents.ts); default both ExternalDNS prefixes. */
  annotationPrefixes?: readonly string[];
}

/**
 * A file's text, or why it could not be read. `digest`, when the reader has
 * the bytes the text was decoded from, is manifestDigest of them: the same
 * value the text gives (valid UTF-8 round-trips), several times quicker.
 */
export type ReadOutcome = { text: string; digest?: string } | { error: NodeJS.ErrnoException };

export class ManifestSet {
  private readonly files = new Map<string, FileState>();
  private recovered: string[] = [];
  private readonly settleMs: number;
  private readonly clock: () => number;
  private readonly prefixes: readonly string[] | undefined;

  constructor(options: ManifestSetOptions = {}) {
    this.settleMs = options.settleMs ?? 0;
    this.clock = options.clock ?? Date.now;
    this.prefixes = options.annotationPrefixes;
  }

  /** Whether some file's shrink is waiting out the settle time (the caller reads again after it). */
  holding(): boolean {
    for (const st of this.files.values()) if (st.held) return true;
    return false;
  }

  /** Files that parse again since the last call, for the hooks. */
  takeRecovered(): string[] {
    const r = this.recovered;
    this.recovered = [];
    return r;
  }

  names(): string[] {
    return [...this.files.keys()].sort(compareNames);
  }

  /** Applies one read of `name`. Returns true when what the file serves may have changed. */
  update(name: string, path: string, read: ReadOutcome): boolean {
    let st = this.files.get(name);
    if (!st) {
      st = { path, served: [], documentProblems: [], notes: [], ignored: [] };
      this.files.set(name, st);
    }
    if ('error' in read) {
      const code = read.error.code ?? 'EIO';
      st.error = { kind: 'read', file: path, message: `cannot read file: ${code}: ${read.error.message}` };
      st.digest = undefined;
      return false;
    }
    const digest = read.digest ?? manifestDigest(read.text);
    if (st.digest === digest) {
      st.held = undefined;
      return false;
    }
    const parsed = parseManifestText(read.text, path, this.prefixes ? { annotationPrefixes: this.prefixes } : {});
    if (parsed.ok && this.settleMs > 0 && parsed.objects.length < st.served.length) {
      const now = this.clock();
      if (st.held?.digest !== digest) st.held = { digest, since: now };
      if (now - st.held.since < this.settleMs) return false;
    }
    st.held = undefined;
    st.digest = digest;
    const wasFailing = st.error !== undefined;
    if (!parsed.ok) {
      st.error = parsed.error;
      return false;
    }
    st.error = undefined;
    if (wasFailing) this.recovered.push(path);

    const previous = new Map(st.served.map((o) => [o.key, o]));
    const served: EndpointObject[] = [];
    const seen = new Map<string, string>();
    const problems = [...parsed.problems];
    for (const o of parsed.objects) {
      const first = seen.get(o.key);
      if (first !== undefined) {
        problems.push({
          kind: 'duplicate', file: path, object: o.key,
          message: `${o.origin.file ?? path} defines ${o.key} again; ${first} is served`,
        });
        continue;
      }
      seen.set(o.key, o.origin.file ?? path);
      served.push(o);
    }
    // A DNSEndpoint that became malformed keeps its last good version, as an
    // API server would have refused the update.
    for (const key of parsed.rejectedKeys) {
      const last = previous.get(key);
      if (last && !seen.has(key)) {
        seen.set(key, last.origin.file ?? path);
        served.push(last);
      }
    }
    st.served = served;
    st.documentProblems = problems;
    const kept = new Set(served.map((o) => o.origin.file));
    st.notes = parsed.notes.filter((n) => kept.has(n.origin));
    st.ignored = parsed.ignoredDocuments;
    return true;
  }

  /** The documents of other kinds in every file's last good content, in file name order. */
  ignoredDocuments(): IgnoredDocument[] {
    return this.names().flatMap((name) => (this.files.get(name) as FileState).ignored);
  }

  delete(name: string): boolean {
    return this.files.delete(name);
  }

  /** The objects to serve, by key, first file in name order winning; every current problem; notes about what is served. */
  resolve(): { objects: Map<string, EndpointObject>; problems: ManifestProblem[]; notes: ManifestNote[] } {
    const objects = new Map<string, EndpointObject>();
    const problems: ManifestProblem[] = [];
    const notes: ManifestNote[] = [];
    for (const name of this.names()) {
      const st = this.files.get(name) as FileState;
      if (st.error) problems.push(st.error);
      problems.push(...st.documentProblems);
      for (const o of st.served) {
        const winner = objects.get(o.key);
        if (winner) {
          problems.push({
            kind: 'duplicate', file: st.path, object: o.key,
            message: `${o.origin.file ?? st.path} defines ${o.key} again; ${winner.origin.file ?? '?'} is served`,
          });
          continue;
        }
        objects.set(o.key, o);
      }
      notes.push(...st.notes.filter((n) => objects.get(n.object)?.origin.file === n.origin));
    }
    return { objects, problems, notes };
  }
}

/** Code-unit order: the same on every machine and locale. */
export function compareNames(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** What tells a changed file from an unchanged one: SHA-256 of its UTF-8 bytes, given as the text or as the bytes. */
export function manifestDigest(content: string | Buffer): string {
  return createHash('sha256').update(content).digest('base64');
}
