/**
 * Which kinds of Kubernetes objects `crdns serve` publishes records from, and
 * how Services and Ingresses are read. Until these specs are part of
 * SERVE_FLAGS, sourceFlags() falls back to the defaults, so the wiring works
 * either way.
 */
import { DEFAULT_ANNOTATION_PREFIXES } from '../sources/services/annotations.js';
import { UsageError, type FlagSpec, type FlagValues } from './options.js';

export const SOURCE_KINDS = ['dnsendpoint', 'service', 'ingress', 'gateway-httproute', 'gateway-grpcroute'] as const;
export type SourceKind = (typeof SOURCE_KINDS)[number];

/** Also a flag of `check` and of `serve --manifests`: Service and Ingress manifests are read with the same annotations. */
export const ANNOTATION_PREFIX_FLAG: FlagSpec = {
  name: 'annotation-prefix',
  kind: 'list',
  arg: 'PREFIX',
  help: `read ExternalDNS annotations of Services and Ingresses under this prefix instead of ${DEFAULT_ANNOTATION_PREFIXES.join(' and ')} (repeatable; the first one set wins)`,
};

export const SOURCE_FLAGS: FlagSpec[] = [
  { name: 'source', kind: 'list', arg: 'KIND', default: 'dnsendpoint', help: 'publish records from this kind of object: dnsendpoint, service, ingress, gateway-httproute or gateway-grpcroute (repeatable)' },
  ANNOTATION_PREFIX_FLAG,
  { name: 'health-hold-down', kind: 'int', arg: 'SECONDS', default: '5', help: 'keep a Service\'s, Ingress\'s or route\'s records this long after its last ready endpoint went away' },
];

export interface SourceFlags {
  kinds: SourceKind[];
  annotationPrefixes: readonly string[];
  holdDownMs: number;
}

export function sourceFlags(v: FlagValues): SourceFlags {
  const raw = (v.source as string[] | undefined) ?? ['dnsendpoint'];
  const kinds: SourceKind[] = [];
  for (const k of raw.length > 0 ? raw : ['dnsendpoint']) {
    const kind = k.toLowerCase();
    if (!(SOURCE_KINDS as readonly string[]).includes(kind)) throw new UsageError(`--source must be one of ${SOURCE_KINDS.join(', ')}, not "${k}"`);
    if (!kinds.includes(kind as SourceKind)) kinds.push(kind as SourceKind);
  }
  const hold = (v['health-hold-down'] as number | undefined) ?? 5;
  if (kinds.length > 0 && v.manifests && kinds.some((k) => k !== 'dnsendpoint')) throw new UsageError(`--source ${kinds.filter((k) => k !== 'dnsendpoint').join(', ')} read the Kubernetes API; they cannot be combined with --manifests`);
  return { kinds, annotationPrefixes: annotationPrefixesFromFlags(v), holdDownMs: hold * 1000 };
}

export function annotationPrefixesFromFlags(v: FlagValues): readonly string[] {
  const prefixes = (v['annotation-prefix'] as string[] | undefined) ?? [];
  for (const p of prefixes) {
    if (!/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?\/$/.test(p)) throw new UsageError(`--annotation-prefix must look like "example.com/" (ending in a slash), not "${p}"`);
  }
  return prefixes.length > 0 ? prefixes : DEFAULT_ANNOTATION_PREFIXES;
}
