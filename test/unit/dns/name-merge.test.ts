// The merge at one name (name-merge.ts): what several inputs of one type
// become, and that a lone input is taken as it is, its own array kept.
import assert from 'node:assert/strict';
import { finalData, mergeAtName } from '../../../src/dns/name-merge.js';
import type { RDataByType, ServedType } from '../../../src/dns/records.js';
import type { RRsetInput, RRsetRejection } from '../../../src/dns/zone-input.js';

function input<T extends ServedType>(object: string, type: T, data: RDataByType[T][], opts: { ttl?: number; since?: number; locality?: number; index?: number } = {}): RRsetInput {
  return { name: 'h.example', type, ttl: opts.ttl ?? 300, data, index: opts.index ?? 0, origin: { object, since: opts.since ?? 0, ...(opts.locality !== undefined ? { locality: opts.locality } : {}) } } as RRsetInput;
}

function merge(inputs: RRsetInput[]): { sets: ReturnType<typeof mergeAtName>; rejected: RRsetRejection[] } {
  const rejected: RRsetRejection[] = [];
  return { sets: mergeAtName('h.example', inputs, (r) => rejected.push(r)), rejected };
}

describe('merge at one name', () => {
  it('takes a lone input as it is: its own data array, its TTL', () => {
    const a = input('ns/a', 'A', ['192.0.2.1', '192.0.2.2'], { ttl: 60 });
    const { sets, rejected } = merge([a]);
    const set = sets.get('A');
    assert.ok(set);
    assert.equal(set.ttl, 60);
    assert.equal(finalData(set), a.data, 'the input array itself, not a copy');
    assert.deepEqual(rejected, []);
  });

  it('sorts a lone input\'s MX and SRV by priority, keeping its array when already in order', () => {
    const mx = input('ns/a', 'MX', [{ preference: 20, exchange: 'b.example' }, { preference: 10, exchange: 'a.example' }]);
    assert.deepEqual(finalData(merge([mx]).sets.get('MX')!).map((d) => (d as RDataByType['MX']).preference), [10, 20]);
    const srv = input('ns/a', 'SRV', [{ priority: 1, weight: 5, port: 1, target: 'a.example' }, { priority: 2, weight: 5, port: 1, target: 'b.example' }]);
    assert.equal(finalData(merge([srv]).sets.get('SRV')!), srv.data);
  });

  it('merges one type from several inputs: union without duplicates, lowest TTL, the inputs\' arrays left alone', () => {
    const a = input('ns/a', 'A', ['192.0.2.1', '192.0.2.2'], { ttl: 300 });
    const b = input('ns/b', 'A', ['192.0.2.2', '192.0.2.3'], { ttl: 30 });
    const { sets } = merge([b, a]);
    const set = sets.get('A')!;
    assert.equal(set.ttl, 30);
    assert.deepEqual(finalData(set), ['192.0.2.1', '192.0.2.2', '192.0.2.3']);
    assert.deepEqual(a.data, ['192.0.2.1', '192.0.2.2']);
    assert.deepEqual(b.data, ['192.0.2.2', '192.0.2.3']);
    assert.deepEqual(set.inputs, [a, b]);
  });

  it('puts this cluster\'s targets first, and a target a peer shares with this cluster counts as local', () => {
    const peer = input('b:ns/a', 'A', ['192.0.2.9', '192.0.2.5'], { locality: 1, since: 1 });
    const far = input('c:ns/a', 'A', ['192.0.2.7'], { locality: 2, since: 2 });
    const local = input('ns/a', 'A', ['192.0.2.5', '192.0.2.6'], { locality: 0, since: 3 });
    assert.deepEqual(finalData(merge([local, far, peer]).sets.get('A')!), ['192.0.2.5', '192.0.2.6', '192.0.2.9', '192.0.2.7']);
  });

  it('rejects the input that would push the RRset over the size limit, keeping those before it', () => {
    const many = (from: number) => Array.from({ length: 1500 }, (_, i) => `10.${from}.${i >> 8}.${i & 255}`);
    const a = input('ns/a', 'A', many(1), { since: 1 });
    const b = input('ns/b', 'A', many(2), { since: 2 });
    const { sets, rejected } = merge([a, b]);
    assert.equal(finalData(sets.get('A')!), a.data);
    assert.equal(rejected.length, 1);
    assert.equal(rejected[0]?.input, b);
    assert.match(rejected[0]?.reason ?? '', /over the limit of 60000/);
  });
});
