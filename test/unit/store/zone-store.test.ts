/** Cross-object rules and the snapshot lifecycle of the zone store. */
import assert from 'node:assert/strict';
import { DEFAULT_ZONE_SETTINGS, zoneConfig } from '../../../src/dns/zone-config.js';
import type { EndpointObject } from '../../../src/endpoint/endpoint.js';
import { ZoneStore, type RebuildEvent } from '../../../src/store/zone-store.js';
import { eventually } from '../../support/eventually.js';
import { ask, rrs } from '../../support/zone-text.js';

function obj(key: string, endpoints: unknown[], generation = 1): EndpointObject {
  const [namespace, name] = key.split('/') as [string, string];
  return { key, origin: { source: 'test', namespace, name, generation }, endpoints };
}

function store(): ZoneStore {
  return new ZoneStore({ zones: [zoneConfig('example.test', DEFAULT_ZONE_SETTINGS)], defaultTtl: 300 });
}

function built(s: ZoneStore): RebuildEvent {
  const e = s.flush();
  assert.ok(e, 'a rebuild happened');
  return e;
}

describe('zone store', () => {
  it('serves nothing until the source says it is synced', () => {
    const s = store();
    s.replaceAll([obj('a/x', [{ dnsName: 'www.example.test', recordType: 'A', targets: ['192.0.2.1'] }])]);
    assert.equal(s.flush(), undefined);
    assert.equal(s.current, undefined);
    s.synced();
    built(s);
    assert.ok(s.current);
  });

  it('merges the same name and type across objects into one RRset, lowest TTL, union of targets', () => {
    const s = store();
    s.replaceAll([
      obj('b/two', [{ dnsName: 'www.example.test', recordType: 'A', targets: ['192.0.2.2', '192.0.2.1'], recordTTL: 30 }]),
      obj('a/one', [{ dnsName: 'WWW.example.test.', recordType: 'A', targets: ['192.0.2.1'], recordTTL: 60 }]),
    ]);
    s.synced();
    built(s);
    const got = ask(s.current!, 'www.example.test', 'A');
    assert.deepEqual(got.answer, rrs('www.example.test. 30 IN A 192.0.2.1', 'www.example.test. 30 IN A 192.0.2.2'));
  });

  it('lets the first object by key win a CNAME conflict and reports the other precisely', () => {
    const s = store();
    s.replaceAll([
      obj('team-b/web', [{ dnsName: 'app.example.test', recordType: 'A', targets: ['192.0.2.9'] }]),
      obj('team-a/alias', [{ dnsName: 'app.example.test', recordType: 'CNAME', targets: ['www.example.test'] }]),
    ]);
    s.synced();
    const e = built(s);
    assert.deepEqual(ask(e.snapshot, 'app.example.test', 'CNAME').answer, rrs('app.example.test. 300 IN CNAME www.example.test.'));
    assert.deepEqual(e.problems.get('team-b/web'), [
      { object: 'team-b/web', index: 0, field: 'recordType', reason: 'app.example.test. already has a CNAME, defined by team-a/alias endpoint 0; no other type may share its name' },
    ]);
    assert.equal(e.problems.get('team-a/alias'), undefined);
  });

  it('builds the same snapshot whatever order objects arrive in', () => {
    const objects = [
      obj('x/1', [{ dnsName: 'mx.example.test', recordType: 'MX', targets: ['20 b.example.test', '10 a.example.test'] }]),
      obj('y/2', [{ dnsName: 'mx.example.test', recordType: 'MX', targets: ['5 c.example.test'] }, { dnsName: 't.example.test', recordType: 'CNAME', targets: ['mx.example.test'] }]),
      obj('z/3', [{ dnsName: 't.example.test', recordType: 'TXT', targets: ['loses'] }]),
    ];
    const answers = [objects, [...objects].reverse()].map((list) => {
      const s = store();
      for (const o of list) s.upsert(o);
      s.synced();
      const e = built(s);
      return [ask(e.snapshot, 'mx.example.test', 'MX').answer, ask(e.snapshot, 't.example.test', 'TXT').answer, [...e.problems.keys()]];
    });
    assert.deepEqual(answers[0], answers[1]);
    assert.deepEqual(answers[0]?.[0], rrs('mx.example.test. 300 IN MX 5 c.example.test.', 'mx.example.test. 300 IN MX 10 a.example.test.', 'mx.example.test. 300 IN MX 20 b.example.test.'));
  });

  it('keeps valid endpoints of an object with an invalid one', () => {
    const s = store();
    s.replaceAll([obj('a/mixed', [{ dnsName: 'ok.example.test', recordType: 'A', targets: ['192.0.2.1'] }, { dnsName: 'bad.example.test', recordType: 'A', targets: ['999.0.0.1'] }])]);
    s.synced();
    const e = built(s);
    assert.equal(ask(e.snapshot, 'ok.example.test', 'A').answer.length, 1);
    assert.equal(e.problems.get('a/mixed')?.[0]?.index, 1);
  });

  it('increases the SOA serial on every data change and skips identical re-deliveries', () => {
    const s = store();
    s.replaceAll([obj('a/x', [{ dnsName: 'www.example.test', recordType: 'A', targets: ['192.0.2.1'] }])]);
    s.synced();
    const first = built(s).snapshot.serial;
    s.upsert(obj('a/x', [{ dnsName: 'www.example.test', recordType: 'A', targets: ['192.0.2.1'] }]));
    assert.equal(s.flush(), undefined, 'a resync with the same content rebuilds nothing');
    s.upsert(obj('a/x', [{ dnsName: 'www.example.test', recordType: 'A', targets: ['192.0.2.2'] }], 2));
    const second = built(s).snapshot.serial;
    assert.ok(second > first, `${second} > ${first}`);
    s.remove('a/x');
    assert.ok(built(s).snapshot.serial > second);
    assert.equal(ask(s.current!, 'www.example.test', 'A').rcode, 'NXDOMAIN');
  });

  it('coalesces a burst of changes into one rebuild', async () => {
    const s = store();
    const events: RebuildEvent[] = [];
    s.onRebuild((e) => events.push(e));
    s.synced();
    await eventually('the first build', () => events.length > 0);
    const before = events.length;
    for (let i = 0; i < 50; i++) s.upsert(obj(`a/o${i}`, [{ dnsName: `h${i}.example.test`, recordType: 'A', targets: ['192.0.2.1'] }]));
    // The next build may wait for a timer (rebuilds are spaced by their cost), so wait for it rather than a turn of the loop:
    // the first build after the burst holds all of it.
    await eventually('a build after the burst', () => events.length > before);
    assert.equal(events.length - before, 1);
    assert.equal(events.at(-1)?.objectCount, 50);
    assert.equal(events.at(-1)?.changes.added.length, 50);
  });

  it('never swaps in a partial snapshot: the old one serves until the new one is complete', () => {
    const s = store();
    s.replaceAll([obj('a/x', [{ dnsName: 'www.example.test', recordType: 'A', targets: ['192.0.2.1'] }])]);
    s.synced();
    const old = built(s).snapshot;
    s.upsert(obj('a/x', [{ dnsName: 'www.example.test', recordType: 'A', targets: ['192.0.2.2'] }], 2));
    // Before the rebuild runs, readers still hold the complete old snapshot.
    assert.equal(s.current, old);
    assert.deepEqual(ask(old, 'www.example.test', 'A').answer, rrs('www.example.test. 300 IN A 192.0.2.1'));
    const next = built(s).snapshot;
    assert.notEqual(next, old);
    assert.deepEqual(ask(old, 'www.example.test', 'A').answer, rrs('www.example.test. 300 IN A 192.0.2.1'), 'the old snapshot is immutable');
  });

  it('rejects only the entry that would push a shared RRset over the size limit', () => {
    const s = store();
    const many = Array.from({ length: 3500 }, (_, i) => `10.${(i >> 8) & 255}.${i & 255}.1`);
    s.replaceAll([
      obj('a/good', [{ dnsName: 'big.example.test', recordType: 'A', targets: ['192.0.2.1'] }]),
      obj('z/bad', [{ dnsName: 'big.example.test', recordType: 'A', targets: many }]),
    ]);
    s.synced();
    const e = built(s);
    assert.deepEqual(ask(e.snapshot, 'big.example.test', 'A').answer, rrs('big.example.test. 300 IN A 192.0.2.1'));
    assert.match(e.problems.get('z/bad')?.[0]?.reason ?? '', /^the A RRset at big\.example\.test\. would be \d+ bytes on the wire, over the limit of 60000$/);
    assert.equal(e.problems.get('a/good'), undefined);
  });

  it('counts wildcard records under a 255-octet query name, so every synthesized answer fits', () => {
    const s = store();
    const many = Array.from({ length: 300 }, (_, i) => `10.0.${(i >> 8) & 255}.${i & 255}`);
    s.replaceAll([obj('a/wild', [{ dnsName: '*.w.example.test', recordType: 'A', targets: many }])]);
    s.synced();
    assert.match(built(s).problems.get('a/wild')?.[0]?.reason ?? '', /wildcard records counted under a 255-octet query name/);
  });

  it('rejects data a lookup would never reach: below a DNAME, at or below a delegation (glue excepted)', () => {
    const s = store();
    s.replaceAll([
      obj('a/x', [
        { dnsName: 'dn.example.test', recordType: 'DNAME', targets: ['other.test'] },
        { dnsName: 'a.dn.example.test', recordType: 'A', targets: ['192.0.2.1'] },
        { dnsName: 'sub.example.test', recordType: 'NS', targets: ['ns.sub.example.test'] },
        { dnsName: 'ns.sub.example.test', recordType: 'A', targets: ['192.0.2.53'] },
        { dnsName: 'www.sub.example.test', recordType: 'TXT', targets: ['hidden'] },
        { dnsName: 'sub.example.test', recordType: 'TXT', targets: ['hidden too'] },
      ]),
    ]);
    s.synced();
    const e = built(s);
    const problems = (e.problems.get('a/x') ?? []).map((p) => [p.index, p.reason]);
    assert.deepEqual(problems, [
      [1, 'a.dn.example.test. is below the DNAME at dn.example.test., which redirects every name under it; this A would never be answered'],
      [4, 'www.sub.example.test. is at or below the delegation at sub.example.test., where only the NS set and glue addresses are served; this TXT would never be answered'],
      [5, 'sub.example.test. is at or below the delegation at sub.example.test., where only the NS set and glue addresses are served; this TXT would never be answered'],
    ]);
    assert.deepEqual(ask(e.snapshot, 'x.sub.example.test', 'A').additional, rrs('ns.sub.example.test. 300 IN A 192.0.2.53'), 'glue still served');
  });

  it('spaces rebuilds of a large data set so they take at most half the CPU, and still applies the change', async () => {
    const s = store();
    const events: RebuildEvent[] = [];
    s.onRebuild((e) => events.push(e));
    const big = Array.from({ length: 2000 }, (_, o) =>
      obj(`a/o${o}`, Array.from({ length: 10 }, (_, k) => ({ dnsName: `h${o * 10 + k}.example.test`, recordType: 'A', targets: [`10.0.${k}.1`] }))),
    );
    s.replaceAll(big);
    s.synced();
    while (events.length === 0) await new Promise((r) => setTimeout(r, 5));
    const firstMs = events[0]?.buildMs ?? 0;
    assert.ok(firstMs > 0, 'the data set is large enough to take measurable time');
    s.upsert(obj('a/o7', [{ dnsName: 'changed.example.test', recordType: 'A', targets: ['192.0.2.7'] }], 2));
    await new Promise((r) => setImmediate(r));
    assert.equal(events.length, 1, 'not rebuilt on the next tick right after a slow build');
    const deadline = Date.now() + 30000;
    while (events.length === 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    assert.equal(ask(s.current!, 'changed.example.test', 'A').answer.length, 1);
  });

  it('tells observers once per rebuild what changed: objects added, changed, removed, problems appeared and cleared', () => {
    const s = store();
    const good = (ip: string) => [{ dnsName: 'www.example.test', recordType: 'A', targets: [ip] }];
    s.replaceAll([obj('a/one', good('192.0.2.1')), obj('a/two', [{ dnsName: 'bad.example.test', recordType: 'A', targets: ['300.0.0.1'] }])]);
    s.synced();
    let e = built(s);
    assert.deepEqual([...e.changes.added].sort(), ['a/one', 'a/two']);
    assert.deepEqual(e.changes.problemsAppeared.map((p) => p.object), ['a/two']);
    assert.deepEqual([...e.touched.keys()].sort(), ['a/one', 'a/two'], 'the first build touches everything');

    // An identical re-delivery (a relist) is no change at all.
    s.replaceAll([obj('a/one', good('192.0.2.1')), obj('a/two', [{ dnsName: 'bad.example.test', recordType: 'A', targets: ['300.0.0.1'] }])]);
    assert.equal(s.flush(), undefined);

    // a/two fixed; a/three added with a CNAME on a/one's name, which a/one keeps.
    s.upsert(obj('a/two', [{ dnsName: 'ok.example.test', recordType: 'A', targets: ['192.0.2.2'] }], 2));
    s.upsert(obj('a/three', [{ dnsName: 'www.example.test', recordType: 'CNAME', targets: ['ok.example.test'] }]));
    e = built(s);
    assert.deepEqual(e.changes.added, ['a/three']);
    assert.deepEqual(e.changes.changed, ['a/two']);
    assert.deepEqual(e.changes.problemsCleared.map((p) => p.object), ['a/two']);
    assert.deepEqual(e.changes.problemsAppeared.map((p) => p.object), ['a/three']);
    assert.deepEqual([...e.touched.keys()].sort(), ['a/three', 'a/two']);

    // a/one goes: a/three's CNAME serves now, so a/three is touched although it did not change.
    s.remove('a/one');
    e = built(s);
    assert.deepEqual(e.changes.removed, ['a/one']);
    assert.deepEqual(e.changes.problemsCleared.map((p) => p.object), ['a/three']);
    assert.deepEqual([...e.touched.keys()], ['a/three']);
    assert.deepEqual(e.touched.get('a/three')?.problems, []);

    // Removed, and added then removed between two builds: only the first is reported.
    s.remove('a/three');
    s.upsert(obj('a/four', good('192.0.2.4')));
    s.remove('a/four');
    e = built(s);
    assert.deepEqual([e.changes.added, e.changes.changed, e.changes.removed], [[], [], ['a/three']]);
    assert.equal(e.touched.size, 0);
  });

  it('counts a deleted and recreated object (new uid, same content) as changed', () => {
    const s = store();
    const withUid = (uid: string): EndpointObject => ({ ...obj('a/x', [{ dnsName: 'www.example.test', recordType: 'A', targets: ['192.0.2.1'] }]), origin: { source: 'test', namespace: 'a', name: 'x', generation: 1, uid } });
    s.replaceAll([withUid('u1')]);
    s.synced();
    built(s);
    s.replaceAll([withUid('u2')]);
    const e = built(s);
    assert.deepEqual(e.changes.changed, ['a/x']);
    assert.ok(e.touched.has('a/x'), 'so feedback reaches the new object');
  });

  it('first owner wins: a newcomer that sorts first cannot take over a name with a CNAME', () => {
    let now = 1_000;
    const s = new ZoneStore({ zones: [zoneConfig('example.test', DEFAULT_ZONE_SETTINGS)], defaultTtl: 300, clock: () => now });
    s.replaceAll([obj('team/web', [{ dnsName: 'app.example.test', recordType: 'A', targets: ['192.0.2.9'] }])]);
    s.synced();
    built(s);
    now += 60_000;
    s.upsert(obj('0-newteam/hijack', [{ dnsName: 'app.example.test', recordType: 'CNAME', targets: ['evil.example.test'] }]));
    const e = built(s);
    assert.deepEqual(ask(e.snapshot, 'app.example.test', 'A').answer, rrs('app.example.test. 300 IN A 192.0.2.9'), 'the long-standing A keeps serving');
    assert.equal(e.problems.get('team/web'), undefined);
    assert.match(e.problems.get('0-newteam/hijack')?.[0]?.reason ?? '', /cannot coexist with the A records defined by team\/web endpoint 0/);
  });

  it('first owner wins by creation time when the source knows it, whatever the keys and the arrival order', () => {
    const s = store();
    const at = (key: string, createdAt: number, type: string, target: string): EndpointObject => {
      const o = obj(key, [{ dnsName: 'app.example.test', recordType: type, targets: [target] }]);
      return { ...o, origin: { ...o.origin, createdAt } };
    };
    s.replaceAll([at('a/newer', 2_000_000, 'CNAME', 'x.example.test'), at('z/older', 1_000_000, 'A', '192.0.2.1')]);
    s.synced();
    const e = built(s);
    assert.deepEqual(ask(e.snapshot, 'app.example.test', 'A').answer, rrs('app.example.test. 300 IN A 192.0.2.1'));
    assert.equal(e.problems.get('a/newer')?.length, 1);
  });

  it('a bad edit keeps the endpoint\'s previous version serving, reported, until fixed or removed', () => {
    const s = store();
    const a = (ip: string) => ({ dnsName: 'web.example.test', recordType: 'A', targets: [ip] });
    const other = { dnsName: 'other.example.test', recordType: 'TXT', targets: ['v1'] };
    s.replaceAll([obj('a/x', [other, a('10.0.2.31')], 1)]);
    s.synced();
    built(s);

    s.upsert(obj('a/x', [{ ...other, targets: ['v2'] }, a('10.0.2.312')], 2));
    let e = built(s);
    assert.deepEqual(ask(e.snapshot, 'web.example.test', 'A').answer, rrs('web.example.test. 300 IN A 10.0.2.31'), 'the previous A still answers');
    assert.deepEqual(ask(e.snapshot, 'other.example.test', 'TXT').answer, rrs('other.example.test. 300 IN TXT "v2"'), 'the good edit in the same object lands');
    const [p] = e.problems.get('a/x') ?? [];
    assert.equal(p?.index, 1);
    assert.equal(p?.servingPrevious, true);

    // Still bad in the next version: still the last good one.
    s.upsert(obj('a/x', [other, a('not-an-ip')], 3));
    e = built(s);
    assert.deepEqual(ask(e.snapshot, 'web.example.test', 'A').answer, rrs('web.example.test. 300 IN A 10.0.2.31'));

    s.upsert(obj('a/x', [other, a('10.0.2.32')], 4));
    e = built(s);
    assert.deepEqual(ask(e.snapshot, 'web.example.test', 'A').answer, rrs('web.example.test. 300 IN A 10.0.2.32'), 'fixed');
    assert.equal(e.problems.get('a/x'), undefined);

    s.upsert(obj('a/x', [other, a('10.0.2.999')], 5));
    built(s);
    s.upsert(obj('a/x', [other], 6));
    e = built(s);
    assert.equal(ask(e.snapshot, 'web.example.test', 'A').rcode, 'NXDOMAIN', 'removing the entry removes its record');
  });

  it('a recreated object (new uid) has no previous version to fall back on', () => {
    const s = store();
    const v = (uid: string, ip: string): EndpointObject => {
      const o = obj('a/x', [{ dnsName: 'web.example.test', recordType: 'A', targets: [ip] }]);
      return { ...o, origin: { ...o.origin, uid } };
    };
    s.replaceAll([v('u1', '192.0.2.1')]);
    s.synced();
    built(s);
    s.replaceAll([v('u2', '192.0.2.300')]);
    const e = built(s);
    assert.equal(ask(e.snapshot, 'web.example.test', 'A').rcode, 'NXDOMAIN');
    assert.equal(e.problems.get('a/x')?.[0]?.servingPrevious, undefined);
  });
});
