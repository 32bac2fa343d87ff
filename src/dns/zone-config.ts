/** Per-zone settings for what crdns synthesizes: SOA and apex NS. */

export interface SoaSettings {
  /** Canonical primary server name. */
  mname: string;
  /** Canonical responsible mailbox (first label is the local part). */
  rname: string;
  refresh: number;
  retry: number;
  expire: number;
  /** Negative-caching TTL (RFC 2308). */
  minimum: number;
  /** TTL of the SOA record itself. */
  ttl: number;
}

export interface ZoneConfig {
  /** Canonical apex. */
  apex: string;
  soa: SoaSettings;
  /** Canonical names of the apex NS records. */
  ns: string[];
  nsTtl: number;
}

export interface ZoneDefaults {
  /** Names for apex NS; each zone gets "ns1.<apex>" when empty. */
  ns: string[];
  mname?: string;
  rname?: string;
  refresh: number;
  retry: number;
  expire: number;
  minimum: number;
  soaTtl: number;
  nsTtl: number;
}

export const DEFAULT_ZONE_SETTINGS: ZoneDefaults = {
  ns: [],
  refresh: 3600,
  retry: 600,
  expire: 604800,
  minimum: 60,
  soaTtl: 3600,
  nsTtl: 3600,
};

/** Fills a zone's SOA and NS from shared defaults; names default relative to the apex. */
export function zoneConfig(apex: string, d: ZoneDefaults): ZoneConfig {
  const under = (label: string) => (apex === '' ? label : `${label}.${apex}`);
  const ns = d.ns.length > 0 ? d.ns : [under('ns1')];
  return {
    apex,
    soa: {
      mname: d.mname ?? ns[0] ?? under('ns1'),
      rname: d.rname ?? under('hostmaster'),
      refresh: d.refresh,
      retry: d.retry,
      expire: d.expire,
      minimum: d.minimum,
      ttl: d.soaTtl,
    },
    ns,
    nsTtl: d.nsTtl,
  };
}
