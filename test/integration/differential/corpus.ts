/**
 * The query corpus: generated from the fixture's zone data (every name, at
 * every depth, with the types it has, a type it lacks, ANY and CNAME), plus
 * hand-picked edge cases, each asked with and without EDNS; some with DO,
 * some with 0x20 mixed case. Deterministic: the same fixture gives the same
 * corpus in the same order.
 */
import type { Fixture } from './fixture.js';
import { mixCase } from './wire.js';

export interface QueryCase {
  /** Unique, readable: "www.example.test. A", then " +edns", " +do", " (mixed case)" as they apply. */
  id: string;
  /** The name as sent, case kept, no trailing dot. */
  qname: string;
  qtype: string;
  edns: boolean;
  dnssecOk: boolean;
  /** Header bits of the query besides the defaults (all clear). */
  flags?: { rd?: boolean; cd?: boolean; ad?: boolean };
  /** Why the case is there. */
  why: string;
}

/** Types tried at a name that lacks them, first missing one wins. */
const PROBE_TYPES = ['A', 'AAAA', 'TXT', 'MX', 'SRV', 'NAPTR', 'CAA', 'PTR'];

export function buildCorpus(fixture: Fixture): QueryCase[] {
  const base: { qname: string; qtype: string; why: string }[] = [];
  const seen = new Set<string>();
  const add = (qname: string, qtype: string, why: string) => {
    const key = `${qname}|${qtype}`;
    if (seen.has(key)) return;
    seen.add(key);
    base.push({ qname, qtype, why });
  };

  const apexes = fixture.zones.map((z) => z.apex);
  for (const zone of fixture.zones) {
    // name -> types present (the apex gets its SOA and NS, which the zone file holds too)
    const types = new Map<string, Set<string>>();
    const cuts = new Set<string>();
    for (const r of zone.records) {
      let t = types.get(r.owner);
      if (!t) types.set(r.owner, (t = new Set()));
      t.add(r.type);
      if (r.type === 'NS' && r.owner !== zone.apex) cuts.add(r.owner);
    }
    // Empty non-terminals: every ancestor between a name and the apex.
    const ents = new Set<string>();
    for (const name of types.keys()) {
      for (let p = parent(name); p !== undefined && p !== zone.apex && p.endsWith(zone.apex); p = parent(p)) {
        if (!types.has(p)) ents.add(p);
      }
    }
    // Ancestors of served child zones are names of this zone too.
    for (const child of apexes) {
      if (child === zone.apex || !child.endsWith(`.${zone.apex}`)) continue;
      for (let p = parent(child); p !== undefined && p !== zone.apex; p = parent(p)) if (!types.has(p)) ents.add(p);
    }

    for (const [name, have] of types) {
      const where = name === zone.apex ? 'apex' : name.startsWith('*.') ? 'wildcard owner' : belowCut(name, cuts) ? 'glue below a cut' : cuts.has(name) ? 'delegation point' : 'owner name';
      for (const t of have) add(name, t, `${where}, existing type`);
      const missing = PROBE_TYPES.find((t) => !have.has(t));
      if (missing) add(name, missing, `${where}, missing type`);
      add(name, 'ANY', `${where}, ANY`);
      add(name, 'CNAME', `${where}, CNAME`);
      if (cuts.has(name)) {
        add(name, 'DS', 'DS at a delegation point: answered from the parent');
        add(`host.${name}`, 'A', 'below a delegation: referral');
        add(`a.b.${name}`, 'MX', 'two labels below a delegation: referral');
        add(`host.${name}`, 'DS', 'DS below a delegation: referral');
      }
      if (have.has('CNAME')) add(`below.${name}`, 'A', 'below a CNAME owner: NXDOMAIN');
      if (name.startsWith('*.')) {
        const encl = name.slice(2);
        for (const label of ['foo', 'a.b', 'mixed-Label']) {
          for (const t of have) add(`${label}.${encl}`, t, `synthesized from ${name}`);
          if (missing) add(`${label}.${encl}`, missing, `synthesized from ${name}, missing type`);
          add(`${label}.${encl}`, 'ANY', `synthesized from ${name}, ANY`);
        }
        add(`foo.${encl}`, 'CNAME', `synthesized from ${name}, CNAME`);
      }
    }
    for (const ent of ents) {
      add(ent, 'A', 'empty non-terminal: NODATA');
      add(ent, 'ANY', 'empty non-terminal, ANY');
      add(`nx.${ent}`, 'A', 'below an empty non-terminal: NXDOMAIN unless a wildcard applies');
    }
    add(zone.apex, 'SOA', 'apex SOA');
    add(zone.apex, 'NS', 'apex NS');
    add(zone.apex, 'DS', 'DS at an apex');
    add(zone.apex, 'DNSKEY', 'DNSKEY of an unsigned zone: NODATA');
    add(zone.apex, 'TYPE65', 'a type crdns does not serve (HTTPS): NODATA');
    add(zone.apex, 'SSHFP', 'an unserved type: NODATA');
    add(`nx.${zone.apex}`, 'A', 'NXDOMAIN one label down');
    add(`nx.${zone.apex}`, 'SOA', 'NXDOMAIN for SOA');
    add(`a.b.c.nx.${zone.apex}`, 'AAAA', 'NXDOMAIN four labels down');
    add(`_tcp.nx.${zone.apex}`, 'SRV', 'NXDOMAIN with an underscore label');
  }

  // Hand-picked edge cases that generation does not reach.
  const edge: [string, string, string][] = [
    ['www.www.example.test', 'A', 'below a leaf: NXDOMAIN'],
    ['x.exists.wild.example.test', 'A', 'below a name that exists beside a wildcard: NXDOMAIN (RFC 4592 §2.2.1)'],
    ['sub.exists.wild.example.test', 'MX', 'existing name beside a wildcard, missing type: NODATA, no synthesis'],
    ['exists.wild.example.test', 'MX', 'existing name beside a wildcard: NODATA, no synthesis'],
    ['x.ent.wild.example.test', 'A', 'empty non-terminal blocks the wildcard (RFC 4592 §2.2.2): NXDOMAIN'],
    ['ent.wild.example.test', 'MX', 'empty non-terminal beside a wildcard: NODATA'],
    ['x.y.z.wild.example.test', 'A', 'three labels below a wildcard'],
    ['wild.example.test', 'A', 'the wildcard parent itself (empty non-terminal)'],
    ['*.wild.example.test', 'MX', 'the wildcard owner asked literally'],
    ['x.*.wild.example.test', 'A', 'below a literal wildcard label'],
    ['foo.wc.example.test', 'AAAA', 'wildcard CNAME followed for AAAA'],
    ['foo.wc-ext.example.test', 'A', 'wildcard CNAME to an out-of-zone target'],
    ['foo.wc-loop.example.test', 'A', 'wildcard CNAME into itself'],
    ['foo.wc-srv.example.test', 'SRV', 'wildcard SRV with an in-zone target'],
    ['9.wc-rev.example.test', 'PTR', 'wildcard PTR'],
    ['host.dn.example.test', 'A', 'DNAME substitution into another zone'],
    ['x.host.dn.example.test', 'A', 'DNAME substitution, target NXDOMAIN'],
    ['back.dn.example.test', 'A', 'DNAME then a CNAME back'],
    ['dn.example.test', 'DNAME', 'DNAME owner itself'],
    ['dn.example.test', 'A', 'DNAME owner, other type: NODATA'],
    ['anything.other.test', 'A', 'apex wildcard'],
    ['anything.other.test', 'MX', 'apex wildcard, missing type'],
    ['a.b.other.test', 'TXT', 'apex wildcard, two labels'],
    ['x.host.other.test', 'A', 'below an existing name under an apex wildcard: NXDOMAIN'],
    ['x.sub.example.test', 'A', 'a served child zone'],
    ['sub.example.test', 'DS', 'DS at a served child apex: from the parent (RFC 4035 §3.1.4.1)'],
    ['kid.nest.example.test', 'DS', 'DS at a served child apex two labels down'],
    ['nest.example.test', 'A', 'empty non-terminal above a served child zone'],
    ['x.nest.example.test', 'A', 'NXDOMAIN beside a served child zone'],
    ['193.2.0.192.in-addr.arpa', 'PTR', 'RFC 2317 CNAME into a delegation'],
    ['194.2.0.192.in-addr.arpa', 'PTR', 'RFC 2317 CNAME into a delegation, absolute target'],
    ['200.192-255.2.0.192.in-addr.arpa', 'PTR', 'inside the RFC 2317 delegation'],
    ['1.2.0.192.in-addr.arpa', 'PTR', 'reverse lookup'],
    ['99.2.0.192.in-addr.arpa', 'PTR', 'reverse NXDOMAIN'],
    ['to-rev.example.test', 'PTR', 'CNAME into the reverse zone'],
    ['to-deleg.example.test', 'A', 'CNAME into a delegation: answer plus referral'],
    ['to-sub.example.test', 'A', 'CNAME into a served child zone'],
    ['alias3.example.test', 'AAAA', 'three CNAME hops, AAAA'],
    ['to-mail.example.test', 'MX', 'CNAME then NODATA'],
    ['back.other.test', 'AAAA', 'CNAME from another zone back'],
    ['back-dangling.other.test', 'A', 'cross-zone CNAME to a missing name: NXDOMAIN'],
    ['dangling2.example.test', 'A', 'CNAME to a CNAME to a missing name'],
    ['_sip._udp.example.test', 'SRV', 'SRV with additional addresses'],
    ['_http._tcp.other.test', 'SRV', 'SRV targets in two zones'],
    ['example.test', 'MX', 'MX targets in-zone, out-of-zone and in another served zone'],
    ['other.test', 'MX', 'MX target in another served zone'],
    ['deleg.example.test', 'NS', 'NS at a cut: referral'],
    ['ns1.deleg.example.test', 'A', 'glue asked directly: referral'],
    ['ext-deleg.example.test', 'A', 'delegation without glue'],
    ['ext-deleg.example.test', 'DS', 'DS at a delegation without glue'],
    ['hop1.example.test', 'A', 'a chain of 12 CNAMEs'],
    ['hop5.example.test', 'AAAA', 'a chain of 8 CNAMEs'],
    // Labels holding a dot or a backslash (RFC 1035 §5.1 escapes in these names): one label, not two.
    ['foo\\.exists.wild.example.test', 'A', 'the label "foo.exists" below wild: synthesized from *.wild, not NXDOMAIN below exists.wild'],
    ['x\\.wild.example.test', 'A', 'the label "x.wild" below the apex: NXDOMAIN, not the wildcard *.wild'],
    ['nx\\.deleg.example.test', 'A', 'the label "nx.deleg" below the apex: NXDOMAIN, not a referral'],
    ['www\\.example.test', 'A', 'the label "www.example" below test: outside every zone'],
    ['x\\.other.test', 'TXT', 'the label "x.other" below test: outside every zone'],
    ['a\\.b.other.test', 'TXT', 'the label "a.b" below other.test: apex wildcard'],
    ['back\\\\slash.example.test', 'A', 'a label holding a backslash'],
    ['nul\\000byte.wild.example.test', 'A', 'a label holding a zero byte, below a wildcard'],
    ['foo\\.bar.dn.example.test', 'A', 'DNAME substitution of a label holding a dot, into an apex wildcard'],
    ['aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.x.dl.example.test', 'A', 'DNAME substitution that overflows 255 octets: YXDOMAIN'],
    ['aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.x.dl.example.test', 'A', 'DNAME substitution that just fits'],
    ['a\\.host.dn.example.test', 'AAAA', 'DNAME substitution: the label "a.host" lands below other.test, in its apex wildcard, not below host.other.test'],
  ];
  for (const [n, t, why] of edge) add(n, t, why);

  // Out of every served zone.
  const outside: [string, string][] = [
    ['example.net', 'A'], ['www.example.net', 'A'], ['test', 'SOA'], ['test', 'NS'], ['', 'NS'], ['', 'SOA'],
    ['xexample.test', 'A'], ['ample.test', 'A'], ['foo.test', 'A'], ['com', 'NS'], ['in-addr.arpa', 'NS'],
    ['192.in-addr.arpa', 'PTR'], ['0.192.in-addr.arpa', 'SOA'], ['3.0.192.in-addr.arpa', 'PTR'], ['localhost', 'A'],
  ];
  for (const [n, t] of outside) add(n, t, 'outside every served zone: REFUSED');

  const out: QueryCase[] = [];
  const ids = new Set<string>();
  const push = (qname: string, qtype: string, edns: boolean, dnssecOk: boolean, why: string, mixed: boolean, flags?: QueryCase['flags']) => {
    const bits = flags ? Object.entries(flags).filter(([, v]) => v).map(([k]) => ` +${k}`).join('') : '';
    const id = `${qname === '' ? '.' : `${qname}.`} ${qtype}${edns ? ' +edns' : ''}${dnssecOk ? ' +do' : ''}${bits}${mixed ? ' (mixed case)' : ''}`;
    if (ids.has(id)) return;
    ids.add(id);
    out.push({ id, qname, qtype, edns, dnssecOk, ...(flags ? { flags } : {}), why });
  };
  base.forEach((b, i) => {
    push(b.qname, b.qtype, false, false, b.why, false);
    push(b.qname, b.qtype, true, false, b.why, false);
    // Every fourth query also with DO, every third in mixed case.
    if (i % 4 === 0) push(b.qname, b.qtype, true, true, `${b.why}; DO set`, false);
    if (i % 3 === 0 && /[a-z]/.test(b.qname)) push(mixCase(b.qname, i + 1), b.qtype, i % 2 === 0, false, `${b.why}; 0x20 mixed case`, true);
    // Header bits a resolver may send: RD (a stub asking directly), CD and AD (a validating resolver).
    if (i % 10 === 1) push(b.qname, b.qtype, true, false, `${b.why}; RD set`, false, { rd: true });
    if (i % 10 === 5) push(b.qname, b.qtype, true, true, `${b.why}; CD set`, false, { cd: true });
    if (i % 10 === 7) push(b.qname, b.qtype, true, false, `${b.why}; AD set`, false, { ad: true });
  });
  return out;
}

function parent(name: string): string | undefined {
  if (name === '') return undefined;
  const dot = name.indexOf('.');
  return dot < 0 ? '' : name.slice(dot + 1);
}

function belowCut(name: string, cuts: ReadonlySet<string>): boolean {
  for (let p = parent(name); p !== undefined; p = parent(p)) if (cuts.has(p)) return true;
  return false;
}
