/**
 * ExternalDNS's annotations on a Service or Ingress, read under every
 * configured prefix. ExternalDNS v0.22 moved from `external-dns.alpha.kubernetes.io/`
 * to `external-dns.kubernetes.io/` and stopped reading the old one; objects in
 * the wild carry either, so crdns reads both (the new one wins where both are
 * set), unless --annotation-prefix names the prefixes to read instead.
 */
import { parseGoDuration } from './go-duration.js';

export const DEFAULT_ANNOTATION_PREFIXES: readonly string[] = ['external-dns.kubernetes.io/', 'external-dns.alpha.kubernetes.io/'];

/** RFC 2181 section 8, and ExternalDNS's own bound for the ttl annotation. */
const MAX_TTL = 2147483647;

/** A value crdns could not use: reported on the object, and that annotation alone is ignored. */
export interface AnnotationProblem {
  /** The full annotation key as found, e.g. "external-dns.kubernetes.io/ttl". */
  annotation: string;
  reason: string;
}

export interface WorkloadAnnotations {
  hostnames: string[];
  internalHostnames: string[];
  /** Overrides the addresses the object's status would give. */
  targets: string[];
  /** Seconds; undefined: the zone's default. */
  ttl?: number;
  /** false only when the opt-out annotation says so. */
  healthCheck: boolean;
  /** SRV records for named ports, on request. */
  srv: boolean;
  problems: AnnotationProblem[];
}

/** The value under the first prefix that has it, and the key it was found under. */
export function findAnnotation(annotations: Readonly<Record<string, string>>, prefixes: readonly string[], name: string): { key: string; value: string } | undefined {
  for (const prefix of prefixes) {
    const key = `${prefix}${name}`;
    const value = annotations[key];
    if (typeof value === 'string') return { key, value };
  }
  return undefined;
}

function list(value: string): string[] {
  return value.split(',').map((s) => s.trim()).filter((s) => s !== '');
}

/** Seconds as an integer, or a Go duration truncated to whole seconds: what ExternalDNS accepts. */
export function parseTtl(value: string): number | string {
  const text = value.trim();
  let seconds: number;
  if (/^[+-]?\d+$/.test(text)) seconds = Number(text);
  else {
    const ns = parseGoDuration(text);
    if (ns === undefined) return `"${value}" is neither whole seconds nor a duration like 1m30s`;
    seconds = Math.trunc(ns / 1e9);
  }
  if (!(seconds >= 1 && seconds <= MAX_TTL)) return `"${value}" is outside 1 to ${MAX_TTL} seconds`;
  return seconds;
}

function flag(found: { key: string; value: string } | undefined, fallback: boolean, problems: AnnotationProblem[]): boolean {
  if (!found) return fallback;
  const v = found.value.trim().toLowerCase();
  if (v === 'true') return true;
  if (v === 'false') return false;
  problems.push({ annotation: found.key, reason: `"${found.value}" is not "true" or "false"` });
  return fallback;
}

export function readAnnotations(annotations: Readonly<Record<string, string>> | undefined, prefixes: readonly string[]): WorkloadAnnotations {
  const a = annotations && typeof annotations === 'object' ? annotations : {};
  const problems: AnnotationProblem[] = [];
  const hostname = findAnnotation(a, prefixes, 'hostname');
  const internal = findAnnotation(a, prefixes, 'internal-hostname');
  const target = findAnnotation(a, prefixes, 'target');
  const ttl = findAnnotation(a, prefixes, 'ttl');
  const result: WorkloadAnnotations = {
    hostnames: hostname ? list(hostname.value) : [],
    internalHostnames: internal ? list(internal.value) : [],
    targets: target ? list(target.value) : [],
    healthCheck: flag(findAnnotation(a, prefixes, 'health-check'), true, problems),
    srv: flag(findAnnotation(a, prefixes, 'srv'), false, problems),
    problems,
  };
  if (ttl) {
    const parsed = parseTtl(ttl.value);
    if (typeof parsed === 'number') result.ttl = parsed;
    else problems.push({ annotation: ttl.key, reason: parsed });
  }
  return result;
}
