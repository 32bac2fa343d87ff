/** The flags that describe served zones, shared by `serve` and `check`. */
import { parseName } from '../dns/name.js';
import { DEFAULT_ZONE_SETTINGS, zoneConfig, type ZoneConfig } from '../dns/zone-config.js';
import { UsageError, type FlagSpec, type FlagValues } from './options.js';

const D = DEFAULT_ZONE_SETTINGS;

export const ZONE_FLAGS: FlagSpec[] = [
  { name: 'zone', kind: 'list', arg: 'ZONE', help: 'a zone crdns is authoritative for (repeatable)' },
  // TTLs and SOA timers are 32-bit on the wire, but RFC 2181 §8 caps TTLs at 2^31-1, and a timer
  // above that means nothing to a secondary either: every number flag defaults to 0..2^31-1.
  { name: 'default-ttl', kind: 'int', arg: 'SECONDS', default: '300', help: 'TTL for endpoints whose recordTTL is 0 or absent; 0 means "do not cache"' },
  { name: 'ns', kind: 'list', arg: 'NAME', help: 'apex NS name for every zone (repeatable; default ns1.<zone>)' },
  { name: 'soa-mname', kind: 'string', arg: 'NAME', help: 'SOA primary server name (default: the first NS)' },
  { name: 'soa-rname', kind: 'string', arg: 'NAME', help: 'SOA mailbox, as a name (default hostmaster.<zone>)' },
  { name: 'soa-refresh', kind: 'int', arg: 'SECONDS', default: String(D.refresh), help: 'SOA refresh' },
  { name: 'soa-retry', kind: 'int', arg: 'SECONDS', default: String(D.retry), help: 'SOA retry' },
  { name: 'soa-expire', kind: 'int', arg: 'SECONDS', default: String(D.expire), help: 'SOA expire' },
  { name: 'soa-minimum', kind: 'int', arg: 'SECONDS', default: String(D.minimum), help: 'SOA minimum: the negative-caching TTL' },
  { name: 'soa-ttl', kind: 'int', arg: 'SECONDS', default: String(D.soaTtl), help: 'TTL of the SOA and apex NS records' },
];

function name(flag: string, value: string): string {
  const r = parseName(value);
  if (!r.ok) throw new UsageError(`--${flag}: ${r.reason}`);
  return r.name;
}

/** Zone configs from flags; an empty --zone list is returned as-is for the caller to judge. */
export function zonesFromFlags(v: FlagValues): ZoneConfig[] {
  const zones = [...new Set((v.zone as string[]).map((z) => name('zone', z)))];
  const defaults = {
    ...D,
    ns: (v.ns as string[]).map((n) => name('ns', n)),
    ...(v['soa-mname'] ? { mname: name('soa-mname', v['soa-mname'] as string) } : {}),
    ...(v['soa-rname'] ? { rname: name('soa-rname', v['soa-rname'] as string) } : {}),
    refresh: v['soa-refresh'] as number,
    retry: v['soa-retry'] as number,
    expire: v['soa-expire'] as number,
    minimum: v['soa-minimum'] as number,
    soaTtl: v['soa-ttl'] as number,
    nsTtl: v['soa-ttl'] as number,
  };
  return zones.map((z) => zoneConfig(z, defaults));
}
