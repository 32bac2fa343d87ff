/** What a --snapshot-file is a listing of, from the flags that decide which objects the sources list. */
import path from 'node:path';
import type { SnapshotScope } from '../store/snapshot-file.js';
import type { FlagValues } from './options.js';
import type { ServeConfig } from './serve-config.js';

/**
 * Not the zones, the name policy or the TTLs: saved objects are validated
 * under the current ones. Not the peers either: each has its own partition,
 * and one no longer configured is skipped. Only what changes the set of
 * objects a source lists, since a file of another set would be served and
 * then taken back by the first listing.
 */
export function snapshotScope(cfg: ServeConfig, v: FlagValues): SnapshotScope {
  if (cfg.manifests !== undefined) return { source: 'manifests', dir: path.resolve(cfg.manifests) };
  const list = (name: string): string[] => [...new Set(((v[name] as string[] | undefined) ?? []).map((s) => s.toLowerCase()))].sort();
  return {
    source: 'kubernetes',
    cluster: (v.cluster as string | undefined) ?? 'local',
    namespaces: list('namespace'),
    labelSelector: (v['label-selector'] as string | undefined) ?? '',
    kinds: list('source').length > 0 ? list('source') : ['dnsendpoint'],
  };
}
