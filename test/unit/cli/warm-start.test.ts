/** --snapshot-file at start: what is refused (with which log line), what is served, and when the file is written. */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Registry } from 'prom-client';
import { WarmStart } from '../../../src/cli/warm-start.js';
import { DEFAULT_ZONE_SETTINGS, zoneConfig } from '../../../src/dns/zone-config.js';
import type { EndpointObject } from '../../../src/endpoint/endpoint.js';
import type { LogLevel } from '../../../src/logger.js';
import { decodeSnapshot, encodeSnapshot, SNAPSHOT_FORMAT_VERSION } from '../../../src/store/snapshot-file.js';
import { ZoneStore, type PartitionSink } from '../../../src/store/zone-store.js';
import { eventually } from '../../support/eventually.js';
import { callbackLogger } from '../../support/logger.js';
import { ask } from '../../support/zone-text.js';

const SCOPE = { source: 'kubernetes', cluster: 'a', namespaces: [], labelSelector: '', kinds: ['dnsendpoint'] };
const DATA_TIME = Date.UTC(2026, 5, 1);

function obj(key: string, ip: string): EndpointObject {
  const [namespace, name] = key.split('/') as [string, string];
  return { key, origin: { source: 'kubernetes', namespace, name, uid: key, generation: 1, createdAt: 1 }, endpoints: [{ dnsName: `${name}.example.test`, recordType: 'A', targets: [ip] }] };
}

const goodFile = (scope: Record<string, string | string[]> = SCOPE): string =>
  encodeSnapshot({ crdns: '0.0.1', writtenAt: DATA_TIME + 500, dataTime: DATA_TIME, scope, partitions: [{ name: 'cluster:a', objects: [obj('ns/web', '10.1.1.1')] }] });

describe('warm start from --snapshot-file', () => {
  let dir: string;
  let file: string;
  let logs: Array<{ level: LogLevel; msg: string; fields: Record<string, unknown> }>;
  let warm: WarmStart | undefined;
  let store: ZoneStore;
  let local: PartitionSink;

  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'crdns-warm-unit-'));
    file = path.join(dir, 'snapshot.json');
    logs = [];
    store = new ZoneStore({ zones: [zoneConfig('example.test', DEFAULT_ZONE_SETTINGS)], defaultTtl: 60 });
    local = store.partition('cluster:a', { cluster: 'a', locality: 0, gatesReadiness: true });
  });
  afterEach(async () => {
    await warm?.close();
    warm = undefined;
    store.close();
    await rm(dir, { recursive: true, force: true });
  });

  const open = async (waitMs = 0): Promise<WarmStart> => {
    warm = await WarmStart.open({
      path: file,
      waitMs,
      store,
      scope: SCOPE,
      crdns: '0.0.2',
      logger: callbackLogger((level, msg, fields) => logs.push({ level, msg, fields: fields ?? {} })),
      registry: new Registry(),
      writeIntervalMs: 20,
    });
    return warm;
  };
  const warning = () => logs.find((l) => l.level === 'warn');
  const settle = () => new Promise((r) => setTimeout(r, 50));

  const refusals: Array<[string, (good: string) => string, RegExp, RegExp, string]> = [
    ['truncated', (g) => g.slice(0, g.length - 10), /corrupt or truncated/, /truncated/, 'corrupt'],
    ['bit-flipped', (g) => g.replace('10.1.1.1', '10.1.1.3'), /corrupt or truncated/, /SHA-256/, 'corrupt'],
    ['of another format version', (g) => g.replace(`"version":${SNAPSHOT_FORMAT_VERSION}`, `"version":${SNAPSHOT_FORMAT_VERSION + 1}`), /written in another format/, /format version 2 .*reads version 1 only/, 'incompatible'],
    ['written for other sources', () => goodFile({ ...SCOPE, namespaces: ['other'] }), /written for other sources/, /^$/, 'other-scope'],
  ];
  for (const [what, spoil, msg, reason, load] of refusals) {
    it(`ignores a file ${what} with one clear warning, and serves nothing from it`, async () => {
      await writeFile(file, spoil(goodFile()));
      const w = await open(0);
      w.begin();
      await settle();
      const line = warning();
      assert.ok(line, 'a warning');
      assert.match(line.msg, msg);
      assert.equal(line.fields.file, file);
      if (reason.source !== '^$') assert.match(String(line.fields.reason), reason);
      assert.equal(logs.filter((l) => l.level === 'warn').length, 1);
      assert.equal((w.details().snapshotFile as { load: string }).load, load);
      assert.equal(store.ready, false, 'nothing served');
    });
  }

  it('says so, without a warning, when there is no file yet', async () => {
    const w = await open(0);
    w.begin();
    await settle();
    assert.equal(warning(), undefined);
    assert.match(logs[0]?.msg ?? '', /no snapshot file yet/);
    assert.equal((w.details().snapshotFile as { load: string }).load, 'absent');
  });

  it('serves the file once the wait is over, reports its age, never rewrites it from its own data, and writes live data once listed', async () => {
    await writeFile(file, goodFile());
    const w = await open(30);
    w.begin();
    await eventually('served from the file', () => store.ready, () => JSON.stringify(logs), 10_000, 5);
    assert.deepEqual(ask(store.current!, 'web.example.test', 'A').answer.map((l) => l.split(' ').at(-1)), ['10.1.1.1']);
    assert.equal(w.dataTime(), DATA_TIME);
    const details = w.details();
    assert.equal(details.servingFrom, 'snapshot-file');
    assert.deepEqual((details.snapshotFile as { partitions: string[] }).partitions, ['cluster:a']);
    const before = (await stat(file)).mtimeMs;
    await new Promise((r) => setTimeout(r, 200));
    assert.equal((await stat(file)).mtimeMs, before, 'not rewritten while only the file\'s data is served');

    local.replaceAll([obj('ns/api', '10.2.2.2')]);
    local.synced();
    await eventually('the file holds the live data', async () => {
      const d = decodeSnapshot(await readFile(file, 'utf8'));
      return d.ok && d.contents.partitions[0]?.objects.map((o) => o.key).join() === 'ns/api' && d.contents.header.crdns === '0.0.2';
    }, () => '', 10_000, 10);
    assert.equal(w.dataTime(), undefined, 'the age is the live data\'s again');
    assert.equal(w.details().servingFrom, undefined);
    assert.ok(logs.some((l) => /no longer serving the snapshot file/.test(l.msg)));
  });

  it('leaves the file unused when the source lists within the wait', async () => {
    await writeFile(file, goodFile());
    const w = await open(100);
    w.begin();
    local.replaceAll([obj('ns/api', '10.2.2.2')]);
    local.synced();
    await eventually('the wait is over', () => (w.details().snapshotFile as { load: string }).load !== 'pending', () => '', 10_000, 5);
    assert.equal((w.details().snapshotFile as { load: string }).load, 'unused');
    assert.equal(ask(store.current!, 'web.example.test', 'A').rcode, 'NXDOMAIN');
  });
});
