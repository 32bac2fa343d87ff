import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { FolderWriter } from '../../../src/probe/folder-writer.js';
import { addressOf, dnsEndpointFor, OWNER_LABEL, probeNames, versionOf } from '../../../src/probe/records.js';

describe('probe records', () => {
  it('names per cluster, interleaved across clusters', () => {
    const names = probeNames({ id: 'probe', zone: 'example.test', clusters: ['a', 'b'], steady: 2, churn: 1, absent: 1 });
    assert.deepEqual(
      names.map((n) => `${n.fqdn} ${n.kind} ${n.object}`),
      [
        'probe-0.a.example.test steady probe-a-0',
        'probe-0.b.example.test steady probe-b-0',
        'probe-1.a.example.test steady probe-a-1',
        'probe-1.b.example.test steady probe-b-1',
        'probe-churn-0.a.example.test churn probe-a-churn-0',
        'probe-churn-0.b.example.test churn probe-b-churn-0',
        'probe-absent-0.a.example.test absent probe-a-absent-0',
        'probe-absent-0.b.example.test absent probe-b-absent-0',
      ],
    );
  });

  it('an address spells its version and back; other addresses spell none', () => {
    for (const v of [1, 255, 256, 65_536, 0xffffff]) assert.equal(versionOf(addressOf(v)), v);
    assert.equal(addressOf(258), '10.0.1.2');
    assert.equal(versionOf('10.0.0.0'), undefined);
    assert.equal(versionOf('192.0.2.1'), undefined);
    assert.equal(versionOf('10.256.0.1'), undefined);
    assert.throws(() => addressOf(0), RangeError);
    assert.throws(() => addressOf(0x1000000), RangeError);
  });

  it('a DNSEndpoint carries the owner label, one A endpoint and the TTL', () => {
    const [n] = probeNames({ id: 'p', zone: 'z.test', clusters: ['c'], steady: 1, churn: 0, absent: 0 });
    const body = dnsEndpointFor(n!, 3, { id: 'p', runId: 'r', namespace: 'ns', ttl: 5 });
    assert.equal(body.metadata.labels[OWNER_LABEL], 'p');
    assert.deepEqual(body.spec.endpoints, [{ dnsName: 'p-0.c.z.test', recordType: 'A', targets: ['10.0.0.3'], recordTTL: 5 }]);
  });
});

describe('probe FolderWriter', () => {
  let dir: string;
  beforeEach(async () => (dir = await mkdtemp(path.join(tmpdir(), 'crdns-probe-writer-'))));
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('writes by rename (no temporary file left), removes, and cleans up only files carrying its label', async () => {
    const names = probeNames({ id: 'probe', zone: 'z.test', clusters: ['local'], steady: 2, churn: 0, absent: 0 });
    const w = new FolderWriter({ cluster: 'local', dir, namespace: 'default', id: 'probe', runId: 'r', ttl: 5 });
    await w.put(names[0]!, 1);
    await w.put(names[0]!, 2);
    await w.put(names[1]!, 3);
    assert.deepEqual((await readdir(dir)).sort(), ['probe-local-0.json', 'probe-local-1.json']);
    const stored = JSON.parse(await readFile(path.join(dir, 'probe-local-0.json'), 'utf8')) as { spec: { endpoints: { targets: string[] }[] } };
    assert.deepEqual(stored.spec.endpoints[0]?.targets, ['10.0.0.2']);
    await w.remove(names[1]!);
    await w.remove(names[1]!);
    // Someone else's file with a name like ours, and another probe's file: neither is ours to delete.
    await writeFile(path.join(dir, 'probe-mine-not.json'), JSON.stringify({ metadata: { labels: { other: 'x' } } }));
    await writeFile(path.join(dir, 'probe-other.json'), JSON.stringify({ metadata: { labels: { [OWNER_LABEL]: 'other' } } }));
    await writeFile(path.join(dir, '.probe-local-0.json.1.1.tmp'), 'half');
    assert.equal(await w.cleanup(), 1);
    assert.deepEqual((await readdir(dir)).sort(), ['probe-mine-not.json', 'probe-other.json']);
  });
});
