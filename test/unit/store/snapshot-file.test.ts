/** The --snapshot-file format: a file is used whole or refused with a reason, never half read. */
import assert from 'node:assert/strict';
import type { EndpointObject } from '../../../src/endpoint/endpoint.js';
import { decodeSnapshot, encodeSnapshot, sameScope, SNAPSHOT_FORMAT_VERSION } from '../../../src/store/snapshot-file.js';
import type { SavedPartition } from '../../../src/store/zone-store.js';

const objects: EndpointObject[] = [
  {
    key: 'telco/sip',
    origin: { source: 'kubernetes', cluster: 'a', locality: 0, namespace: 'telco', name: 'sip', generation: 3, uid: 'u-1', createdAt: 1_700_000_000_000 },
    endpoints: [
      { dnsName: 'pcscf.telco.test', recordType: 'NAPTR', targets: ['10 50 "S" "SIP+D2U" "" _sip._udp.telco.test.'] },
      { dnsName: 'höst.telco.test', recordType: 'TXT', targets: ['ünïcode ✓'] },
      { dnsName: 'broken', recordType: 'A', targets: 'not a list' },
    ],
  },
  { key: 'web/www', origin: { source: 'manifests', namespace: 'web', name: 'www', file: 'a.yaml#0' }, endpoints: [] },
];
const partitions: SavedPartition[] = [
  { name: 'cluster:a', objects },
  { name: 'cluster:b', objects: [] },
];
const scope = { source: 'kubernetes', cluster: 'a', namespaces: ['telco', 'web'], labelSelector: '' };

const encode = (): string => encodeSnapshot({ crdns: '9.9.9', writtenAt: Date.UTC(2026, 0, 2), dataTime: 1_767_312_000_000, scope, partitions });

function refusal(text: string): { kind: string; reason: string } {
  const r = decodeSnapshot(text);
  assert.equal(r.ok, false, 'refused');
  return r as { kind: string; reason: string };
}

describe('snapshot file format', () => {
  it('round-trips partitions, objects (unicode included), the header and the scope', () => {
    const r = decodeSnapshot(encode());
    assert.ok(r.ok, JSON.stringify(r));
    assert.deepEqual(r.contents.partitions, partitions);
    assert.equal(r.contents.header.crdns, '9.9.9');
    assert.equal(r.contents.header.version, SNAPSHOT_FORMAT_VERSION);
    assert.equal(r.contents.header.writtenAt, '2026-01-02T00:00:00.000Z');
    assert.equal(r.contents.header.dataTime, 1_767_312_000_000);
    assert.ok(sameScope(r.contents.header.scope, scope));
  });

  it('keeps entries as the source gave them, malformed ones included: the store validates them like live ones', () => {
    const r = decodeSnapshot(encode());
    assert.ok(r.ok);
    assert.deepEqual(r.contents.partitions[0]?.objects[0]?.endpoints[2], { dnsName: 'broken', recordType: 'A', targets: 'not a list' });
  });

  it('refuses the file truncated at any byte, as corrupt', () => {
    const text = encode();
    const bytes = Buffer.from(text, 'utf8');
    for (let cut = 0; cut < bytes.length; cut++) {
      const r = decodeSnapshot(bytes.subarray(0, cut).toString('utf8'));
      assert.equal(r.ok, false, `cut at ${cut} of ${bytes.length}`);
      assert.equal((r as { kind: string }).kind, 'corrupt', `cut at ${cut}`);
    }
    assert.match(refusal('').reason, /empty/);
    assert.match(refusal(text.slice(0, text.indexOf('\n') + 40)).reason, /truncated/);
  });

  it('refuses a flipped bit anywhere, header included, naming the checksum when the file stays well-formed', () => {
    const text = encode();
    const bytes = Buffer.from(text, 'utf8');
    const headerEnd = bytes.indexOf(0x0a);
    for (let i = 0; i < bytes.length - 1; i++) {
      for (const bit of [0, 5]) {
        const copy = Buffer.from(bytes);
        copy[i] = (copy[i] as number) ^ (1 << bit);
        const text = copy.toString('utf8');
        const r = decodeSnapshot(text);
        assert.equal(r.ok, false, `bit ${bit} of byte ${i} flipped`);
      }
    }
    for (const at of [headerEnd + 20, text.indexOf('1767312000000') + 5, text.indexOf('2026-01-02') + 3]) {
      const copy = Buffer.from(bytes);
      copy[at] = (copy[at] as number) ^ 1;
      assert.match(refusal(copy.toString('utf8')).reason, /SHA-256/, `byte ${at}: the body, or a header field a flip leaves well-formed`);
    }
  });

  it('refuses another format version as incompatible, naming both versions', () => {
    const text = encode();
    const nl = text.indexOf('\n');
    const header = JSON.parse(text.slice(0, nl)) as Record<string, unknown>;
    const other = `${JSON.stringify({ ...header, version: SNAPSHOT_FORMAT_VERSION + 1 })}${text.slice(nl)}`;
    const r = refusal(other);
    assert.equal(r.kind, 'incompatible');
    assert.match(r.reason, new RegExp(`version ${SNAPSHOT_FORMAT_VERSION + 1}.*9\\.9\\.9.*version ${SNAPSHOT_FORMAT_VERSION}`));
  });

  it('refuses what is not a snapshot file at all', () => {
    assert.match(refusal('{"apiVersion":"v1"}\n{}\n').reason, /format/);
    assert.match(refusal('not json\n').reason, /not JSON/);
    assert.equal(refusal('\u0000\u0000\u0000\n').kind, 'corrupt');
  });

  it('refuses a body of the wrong shape even when its checksum holds', () => {
    const bad: SavedPartition[] = [{ name: 'x', objects: [{ key: 'k', origin: { source: 's', namespace: 'n' }, endpoints: [] } as unknown as EndpointObject] }];
    const r = refusal(encodeSnapshot({ crdns: '1', writtenAt: 0, dataTime: 0, scope, partitions: bad }));
    assert.equal(r.kind, 'corrupt');
    assert.match(r.reason, /partition "x" object 0: no origin/);
    const twice = refusal(encodeSnapshot({ crdns: '1', writtenAt: 0, dataTime: 0, scope, partitions: [partitions[1]!, partitions[1]!] }));
    assert.match(twice.reason, /appears twice/);
  });

  it('compares scopes regardless of key order', () => {
    assert.ok(sameScope({ a: '1', b: ['x'] }, { b: ['x'], a: '1' }));
    assert.ok(!sameScope({ a: '1', b: ['x'] }, { a: '1', b: ['y'] }));
    assert.ok(!sameScope({ a: '1' }, { a: '1', b: '' }));
  });
});
