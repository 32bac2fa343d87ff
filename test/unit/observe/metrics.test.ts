/** crdns_queries_total: one series per zone, named qtype and rcode; qtypes without a name share OTHER. */
import assert from 'node:assert/strict';
import { Metrics } from '../../../src/observe/metrics.js';
import type { QueryOutcome } from '../../../src/dns/answer-query.js';

function outcome(zone: string | undefined, qtype: number, rcode: number): QueryOutcome {
  return { reply: Buffer.alloc(12), zone, qtype, rcode } as QueryOutcome;
}

async function series(m: Metrics): Promise<Map<string, number>> {
  const metric = (await m.registry.getMetricsAsJSON()).find((x) => x.name === 'crdns_queries_total');
  const out = new Map<string, number>();
  for (const v of (metric?.values ?? []) as Array<{ labels: Record<string, string>; value: number }>) out.set(`${v.labels.zone} ${v.labels.qtype} ${v.labels.rcode}`, v.value);
  return out;
}

describe('Metrics: crdns_queries_total', () => {
  it('counts by zone, qtype and rcode, and folds every unnamed qtype into OTHER', async () => {
    const m = new Metrics(() => undefined, () => false, { version: 'test', dataTime: () => undefined });
    m.answered(outcome('example.test', 1, 0), 0.0001);
    m.answered(outcome('example.test', 1, 0), 0.0001);
    m.answered(outcome('example.test', 35, 3), 0.0001);
    m.answered(outcome(undefined, 1, 5), 0.0001);
    for (let t = 65280; t < 65535; t++) m.answered(outcome('example.test', t, 0), 0.0001);
    m.tallied({ counts: [{ zone: 'example.test', qtype: 1, rcode: 0, n: 10 }], durations: new Float64Array([0.0002]), unavailable: 0 });
    assert.deepEqual(
      [...(await series(m))].sort(),
      [
        ['example.test. A NOERROR', 12],
        ['example.test. NAPTR NXDOMAIN', 1],
        ['example.test. OTHER NOERROR', 255],
        ['none A REFUSED', 1],
      ],
    );
  });
});
