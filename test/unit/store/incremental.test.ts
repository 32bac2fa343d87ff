/**
 * The incremental rebuild against the whole one: two stores fed the same
 * random sequence of upserts, removes, relists and lost peers, one updating
 * its snapshot by name, one rebuilding it whole every time, compared after
 * every step in everything a query or an observer can see. A replica fed
 * the incremental store's build steps (what a serving worker gets) must hold
 * the same snapshot after every step, as must one that starts half-way.
 */
import assert from 'node:assert/strict';
import { TYPE_CODES } from '../../../src/dns/records.js';
import { rrsetWire, type RRset } from '../../../src/dns/rrset.js';
import { rrsetAt, rrsetsOf, type Snapshot } from '../../../src/dns/zone.js';
import { DEFAULT_ZONE_SETTINGS, zoneConfig } from '../../../src/dns/zone-config.js';
import { problemId, type EndpointObject } from '../../../src/endpoint/endpoint.js';
import { ZoneStore, type PartitionSink, type RebuildEvent } from '../../../src/store/zone-store.js';
import { ask } from '../../support/zone-text.js';
import { SnapshotReplica } from '../../../src/server/workers/snapshot-replica.js';
import { decodeBuildStep, encodeBuildStep } from '../../../src/server/workers/step-codec.js';

/** mulberry32: small, seedable, good enough to pick test cases. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const Z = 'example.test';
/** A served child zone two labels down, so the parent holds the names between as empty non-terminals. */
const CHILD = `k.j.${Z}`;
const ZONES = [zoneConfig(Z, DEFAULT_ZONE_SETTINGS), zoneConfig(CHILD, DEFAULT_ZONE_SETTINGS)];

const NAMES = [
  'www', 'app', 'mail', 'mx', 'sip', 'alias', 'c', 'b.c', 'a.b.c', 'x.a.b.c', 'deep.er.ent', 'er.ent',
  'w', '*.w', 'h.w', 'q.r.w', '_sip._udp', '_sip._tcp.x', 'j', 'm.k.j', 'k.j', 'dn', 'y.dn', 'del', 'ns.del', 'q.del',
].map((n) => `${n}.${Z}`);
NAMES.push(Z);

const TARGET_NAMES = [...NAMES.filter((n) => !n.includes('*')), `zz.w.${Z}`, `nope.${Z}`, `p.q.r.w.${Z}`, 'host.elsewhere.test'];

type Pick = <T>(list: readonly T[]) => T;
const PERCENT = [...Array(100).keys()];

function endpoint(pick: Pick, chance: (p: number) => boolean): Record<string, unknown> {
  const name = pick(NAMES);
  const some = <T>(list: readonly T[]): T[] => [...new Set([pick(list), ...(chance(0.4) ? [pick(list)] : [])])];
  const ttl = chance(0.5) ? {} : { recordTTL: pick([30, 60, 300]) };
  const t = (type: string, targets: string[]) => ({ dnsName: name, recordType: type, targets, ...ttl });
  const r = pick(PERCENT);
  if (r < 22) return t('A', chance(0.08) ? ['999.0.0.1'] : some(['192.0.2.1', '192.0.2.2', '192.0.2.3', '10.0.0.1']));
  if (r < 34) return t('AAAA', some(['2001:db8::1', '2001:db8::2', '2001:db8::3']));
  if (r < 46) return t('CNAME', [pick(TARGET_NAMES)]);
  if (r < 54) return t('TXT', some(['v1', 'v2', 'v3']));
  if (r < 66) return t('MX', some(TARGET_NAMES.map((n, i) => `${(i % 3) * 10} ${n}`)));
  if (r < 80) return t('SRV', some(TARGET_NAMES.map((n, i) => `${i % 2} ${i % 5} 5060 ${n}`)));
  if (r < 86) return t('NAPTR', [`10 ${pick([10, 50])} "S" "SIP+D2U" "" ${pick(TARGET_NAMES)}.`]);
  if (r < 89) return t('CAA', ['0 issue "ca.example.net"']);
  if (r < 91) return { dnsName: pick([`del.${Z}`, `q.r.w.${Z}`]), recordType: 'NS', targets: [pick([`ns.del.${Z}`, 'ns.elsewhere.test'])] };
  if (r < 92) return { dnsName: `dn.${Z}`, recordType: 'DNAME', targets: [pick(['other.test', `app.${Z}`])] };
  return t('PTR', [pick(TARGET_NAMES)]);
}

interface Pair {
  inc: ZoneStore;
  whole: ZoneStore;
  sinks: Array<{ inc: PartitionSink; whole: PartitionSink }>;
}

const PARTITIONS = [
  { name: 'cluster:a', options: { cluster: 'a', locality: 0, gatesReadiness: true } },
  { name: 'cluster:b', options: { cluster: 'b', locality: 1, keyPrefix: 'b:', gatesReadiness: false } },
  { name: 'cluster:c', options: { cluster: 'c', locality: 2, keyPrefix: 'c:', gatesReadiness: false, orphans: 'withdraw' as const } },
];

function pair(clock: () => number): Pair {
  const inc = new ZoneStore({ zones: ZONES, defaultTtl: 300, clock, incremental: true });
  const whole = new ZoneStore({ zones: ZONES, defaultTtl: 300, clock, incremental: false });
  const sinks = PARTITIONS.map((p) => ({ inc: inc.partition(p.name, p.options), whole: whole.partition(p.name, p.options) }));
  return { inc, whole, sinks };
}

/** Everything a query can see of a snapshot, as text: each name's RRsets in order, on the wire, and the additional data each brings. */
export function describeSnapshot(s: Snapshot): string[] {
  const hex = (b: Buffer) => b.toString('hex');
  const lines: string[] = [`serial ${s.serial} stats ${JSON.stringify({ ...s.stats, recordsByType: Object.fromEntries(Object.entries(s.stats.recordsByType).sort()) })}`];
  for (const zone of [...s.zones.values()].sort((a, b) => (a.apex < b.apex ? -1 : 1))) {
    lines.push(`zone ${zone.apex} cuts=${zone.hasCuts} dnames=${zone.hasDnames} soa=${hex(rrsetWire(zone.soa))} neg=${hex(rrsetWire(zone.negativeSoa))} ns=${hex(rrsetWire(zone.apexNs))} names=${zone.nodes.size}`);
    for (const node of [...zone.nodes.values()].sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const sets = rrsetsOf(node);
      lines.push(`  ${node.name} cut=${node.cut} types=${sets.map((s) => s.typeCode).join(',')}`);
      for (const set of sets) {
        lines.push(`    ${set.type} ${set.ttl} ${hex(rrsetWire(set))}`);
        for (const p of node.additional.get(set) ?? []) lines.push(`      + ${p.set.name} ${p.set.type} ${hex(rrsetWire(p.set))}${p.owner ? ` as ${hex(p.owner)}` : ''}`);
        assert.equal(rrsetAt(node, set.typeCode), set, `${node.name}: rrsetAt finds its ${set.type}`);
      }
      assert.ok(sets.every((x, i) => i === 0 || (sets[i - 1] as RRset).typeCode < x.typeCode), `${node.name}: RRsets in ascending type order`);
      assert.ok(!Array.isArray(node.sets) || node.sets.length !== 1, `${node.name}: one RRset is held without an array`);
    }
  }
  return lines;
}

function describeEvent(e: RebuildEvent | undefined): unknown {
  if (!e) return undefined;
  const sorted = (l: readonly string[]) => [...l].sort();
  return {
    snapshot: describeSnapshot(e.snapshot),
    generation: e.snapshot.generation,
    problems: [...e.problems].sort(([a], [b]) => (a < b ? -1 : 1)),
    objectCount: e.objectCount,
    added: sorted(e.changes.added),
    changed: sorted(e.changes.changed),
    removed: sorted(e.changes.removed),
    appeared: sorted(e.changes.problemsAppeared.map(problemId)),
    cleared: sorted(e.changes.problemsCleared.map(problemId)),
    touched: [...e.touched].map(([k, t]) => [k, t.object, t.problems]).sort(([a], [b]) => ((a as string) < (b as string) ? -1 : 1)),
    partitions: [...e.partitions].sort(([a], [b]) => (a < b ? -1 : 1)),
  };
}

/** Ancestors and relatives of the pool names, where NXDOMAIN and NODATA differ. */
const QUERIES = [...new Set([...NAMES, ...TARGET_NAMES, `er.ent.${Z}`, `ent.${Z}`, `r.w.${Z}`, `x.${Z}`, `other.w.${Z}`, `z.y.dn.${Z}`])];

function run(seed: number, steps: number): { builds: number; incremental: number } {
  const random = rng(seed);
  const pick: Pick = (list) => list[Math.floor(random() * list.length)] as (typeof list)[number];
  const chance = (p: number) => random() < p;
  let now = 1_000_000;
  const { inc, whole, sinks } = pair(() => now);
  const both = (fn: (s: PartitionSink) => void, i: number) => {
    fn((sinks[i] as Pair['sinks'][number]).inc);
    fn((sinks[i] as Pair['sinks'][number]).whole);
  };
  const objectKeys = ['apps/o0', 'apps/o1', 'apps/o2', 'apps/o3', 'team/o4', 'team/o5', 'team/o6'];
  const makeObject = (key: string, generation: number): EndpointObject => {
    const [namespace, name] = key.split('/') as [string, string];
    const createdAt = chance(0.5) ? { createdAt: pick([1_000, 2_000, 3_000]) } : {};
    const uid = chance(0.9) ? 'u1' : 'u2';
    return { key, origin: { source: 'test', namespace, name, generation, uid, ...createdAt }, endpoints: Array.from({ length: 1 + Math.floor(random() * 4) }, () => endpoint(pick, chance)) };
  };
  /** What each partition holds now, so a relist can keep some objects as they are. */
  const held = PARTITIONS.map(() => new Map<string, EndpointObject>());
  let generation = 1;
  // Peer b starts from a snapshot file's objects, which serve until its first live listing replaces them.
  const saved = [{ name: 'cluster:b', objects: objectKeys.filter(() => chance(0.5)).map((key) => makeObject(key, ++generation)) }];
  inc.restore(saved);
  whole.restore(saved);
  both((s) => s.replaceAll([]), 0);
  both((s) => s.synced(), 0);
  let builds = 0;
  let incremental = 0;
  const replica = new SnapshotReplica(ZONES);
  let late: SnapshotReplica | undefined;
  for (let step = 0; step < steps; step++) {
    now += pick([0, 500, 1_000, 60_000]);
    const ops = 1 + (chance(0.3) ? Math.floor(random() * 3) : 0);
    for (let k = 0; k < ops; k++) {
      const p = Math.floor(random() * PARTITIONS.length);
      const has = held[p] as Map<string, EndpointObject>;
      const r = random();
      if (r < 0.2 && has.size > 0) {
        // One entry edited, or the entries reordered, or a new generation alone; the rest as it was.
        const prev = has.get(pick([...has.keys()])) as EndpointObject;
        const endpoints = [...prev.endpoints];
        if (chance(0.7)) endpoints[Math.floor(random() * endpoints.length)] = endpoint(pick, chance);
        else if (chance(0.5)) endpoints.reverse(); // the same entries at other indexes
        const o = { ...prev, origin: { ...prev.origin, generation: ++generation }, endpoints };
        has.set(o.key, o);
        both((s) => s.upsert(o), p);
      } else if (r < 0.55) {
        const o = makeObject(pick(objectKeys), ++generation);
        has.set(o.key, o);
        both((s) => s.upsert(o), p);
      } else if (r < 0.75) {
        const key = pick(objectKeys);
        has.delete(key);
        both((s) => s.remove(key), p);
      } else if (r < 0.85) {
        const list = objectKeys.filter(() => chance(0.6)).map((key) => (has.has(key) && chance(0.6) ? (has.get(key) as EndpointObject) : makeObject(key, ++generation)));
        has.clear();
        for (const o of list) has.set(o.key, o);
        both((s) => s.replaceAll(list), p);
      } else if (r < 0.9) {
        const o = has.get(pick([...has.keys(), 'apps/none']));
        if (o) both((s) => s.upsert(o), p);
      } else if (r < 0.95 && p > 0) {
        const lost = chance(0.5);
        both((s) => s.setLost(lost), p);
      } else if (p > 0) {
        both((s) => s.synced(), p);
      }
    }
    // A worker that starts late begins from the store's state of now, pending changes included.
    if (step === Math.floor(steps / 2)) {
      late = new SnapshotReplica(ZONES);
      const current = inc.currentBuild();
      if (current) late.apply(decodeBuildStep(encodeBuildStep(current)));
    }
    const a = inc.flush();
    const b = whole.flush();
    if (a) {
      builds++;
      if (a.incremental) incremental++;
      // What a serving worker gets: each step, cloned as postMessage clones it.
      for (const r of late ? [replica, late] : [replica]) {
        const copy = r.apply(decodeBuildStep(encodeBuildStep(a.build)));
        assert.deepEqual(describeSnapshot(copy), describeSnapshot(a.snapshot), `seed ${seed} step ${step}: ${r === late ? 'late ' : ''}replica`);
        assert.equal(copy.generation, a.snapshot.generation);
      }
    }
    assert.equal(b?.incremental ?? false, false);
    assert.deepEqual(describeEvent(a), describeEvent(b), `seed ${seed} step ${step}`);
    if (a && step % 20 === 0) {
      for (const q of QUERIES) {
        for (const type of ['A', 'MX', 'SRV', 'TXT']) assert.deepEqual(ask(a.snapshot, q, type), ask(b?.snapshot as Snapshot, q, type), `seed ${seed} step ${step}: ${q} ${type}`);
      }
    }
  }
  inc.close();
  whole.close();
  return { builds, incremental };
}

describe('incremental rebuild', () => {
  it('gives, after every step of random changes, what a whole rebuild gives: every name, RRset, additional record, problem and change', function () {
    this.timeout(60_000);
    let builds = 0;
    let incremental = 0;
    for (const seed of [1, 2, 3, 4, 5, 6]) {
      const r = run(seed, 500);
      builds += r.builds;
      incremental += r.incremental;
    }
    // The comparison means something only if most builds took the incremental path.
    assert.ok(incremental > builds * 0.6, `${incremental} of ${builds} builds were incremental`);
  });

  it('the comparison sees a difference in additional data alone', () => {
    const s = new ZoneStore({ zones: ZONES, defaultTtl: 300 });
    const mx = { dnsName: `m.${Z}`, recordType: 'MX', targets: [`10 mail.${Z}`] };
    const obj = (endpoints: unknown[]): EndpointObject => ({ key: 'a/x', origin: { source: 'test', namespace: 'a', name: 'x' }, endpoints });
    s.replaceAll([obj([mx])]);
    s.synced();
    const before = describeSnapshot(s.flush()?.snapshot as Snapshot).slice(1);
    s.upsert(obj([mx, { dnsName: `mail.${Z}`, recordType: 'A', targets: ['192.0.2.25'] }]));
    const after = s.flush()?.snapshot as Snapshot;
    const m = after.zones.get(Z)?.nodes.get(`m.${Z}`);
    assert.equal(m?.additional.get(rrsetAt(m, TYPE_CODES.MX) as RRset)?.length, 1, 'the MX owner, unchanged itself, brings the new address');
    assert.notDeepEqual(describeSnapshot(after).slice(1), before);
  });

  it('adds and removes empty non-terminals with the names below them', () => {
    const s = new ZoneStore({ zones: ZONES, defaultTtl: 300 });
    const obj = (key: string, name: string): EndpointObject => ({ key, origin: { source: 'test', namespace: 'a', name: key }, endpoints: [{ dnsName: name, recordType: 'TXT', targets: ['t'] }] });
    s.replaceAll([]);
    s.synced();
    s.flush();
    s.upsert(obj('a/deep', `x.y.z.${Z}`));
    let e = s.flush() as RebuildEvent;
    assert.equal(e.incremental, true);
    assert.equal(ask(e.snapshot, `y.z.${Z}`, 'TXT').rcode, 'NOERROR', 'an empty non-terminal is NODATA');
    s.upsert(obj('a/mid', `z.${Z}`));
    s.remove('a/deep');
    e = s.flush() as RebuildEvent;
    assert.equal(ask(e.snapshot, `y.z.${Z}`, 'TXT').rcode, 'NXDOMAIN', 'gone with the name it held up');
    assert.equal(ask(e.snapshot, `z.${Z}`, 'TXT').answer.length, 1);
    assert.equal(ask(e.snapshot, `j.${Z}`, 'TXT').rcode, 'NOERROR', 'the path to a served child zone stays');
  });
});
