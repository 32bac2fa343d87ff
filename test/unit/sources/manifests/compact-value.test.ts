/** What the manifest folder keeps of a parsed value is equal to what was parsed, only smaller. */
import assert from 'node:assert/strict';
import { parse } from 'yaml';
import { compactValue } from '../../../../src/sources/manifests/compact-value.js';

describe('compactValue', () => {
  it('keeps every value, key and order as parsed', () => {
    const text = [
      'endpoints:',
      '  - dnsName: "pcscf.ims.mnc001.mcc001.3gppnetwork.org"',
      '    recordType: NAPTR',
      '    recordTTL: 300',
      '    targets: [\'10 50 "S" "SIP+D2U" "" _sip._udp.pcscf.ims.mnc001.mcc001.3gppnetwork.org.\']',
      '    labels: { __proto__: "x", "123": "numeric key", empty: "" }',
      '  - { dnsName: a.example, recordType: A, targets: [192.0.2.1, 192.0.2.2], nested: [[1, [2, null, true]]] }',
    ].join('\n');
    const parsed: unknown = parse(text);
    const expected = structuredClone(parsed);
    const compacted = compactValue(parsed);
    assert.deepEqual(compacted, expected);
    assert.deepEqual(Object.keys((compacted as { endpoints: Record<string, unknown>[] }).endpoints[0]?.labels as object), Object.keys((expected as { endpoints: Record<string, unknown>[] }).endpoints[0]?.labels as object));
  });

  it('returns scalars as they are', () => {
    for (const v of [0, 1.5, true, null, undefined, '', 'x']) assert.equal(compactValue(v), v);
  });
});
