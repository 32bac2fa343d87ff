/** Which namespaces may publish which names: the policy file's rules, and their effect in the store. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { DEFAULT_ZONE_SETTINGS, zoneConfig } from '../../../src/dns/zone-config.js';
import type { EndpointObject } from '../../../src/endpoint/endpoint.js';
import { NamePolicy } from '../../../src/endpoint/name-policy.js';
import { ZoneStore } from '../../../src/store/zone-store.js';
import { ask, rrs } from '../../support/zone-text.js';

const POLICY = `
rules:
  - namespaces: [ims, "ims-*"]
    names: ["*.ims.example.org"]
  - namespaces: ["*"]
    names: [shared.example.org]
  - namespaces: [lab]
    clusters: [lab-cluster]
    names: ["*.lab.example.org"]
`;

describe('name policy', () => {
  const policy = NamePolicy.parse(POLICY);

  it('grants names below a "*.zone" pattern, and exactly the name of a plain one', () => {
    assert.equal(policy.check('pcscf1.ims.example.org', 'ims'), undefined);
    assert.equal(policy.check('*.x.ims.example.org', 'ims-lab'), undefined, 'a wildcard owner below the subtree');
    assert.match(policy.check('ims.example.org', 'ims') ?? '', /may not publish ims\.example\.org\./, '"*.zone" does not include the zone itself');
    assert.equal(policy.check('shared.example.org', 'anyone'), undefined);
    assert.match(policy.check('a.shared.example.org', 'anyone') ?? '', /no rule of the name policy grants it/);
    assert.match(policy.check('pcscf1.ims.example.org', 'imsx') ?? '', /namespace "imsx"/, 'globs match whole namespace names');
  });

  it('restricts a rule to the clusters it names, and says which cluster was refused', () => {
    assert.equal(policy.check('gnb.lab.example.org', 'lab', 'lab-cluster'), undefined);
    assert.match(policy.check('gnb.lab.example.org', 'lab', 'prod') ?? '', /namespace "lab" of cluster "prod" may not publish/);
    assert.ok(policy.check('gnb.lab.example.org', 'lab') !== undefined, 'a rule with clusters does not cover objects of this cluster');
  });

  it('refuses a policy file it cannot read fully, naming the rule', () => {
    assert.throws(() => NamePolicy.parse('rules: []'), /non-empty "rules" list/);
    assert.throws(() => NamePolicy.parse('rules: [{namespaces: [a]}]'), /rules\[0\]\.names is required/);
    assert.throws(() => NamePolicy.parse('rules: [{namespaces: [a], names: ["a..b"]}]'), /rules\[0\]\.names: .*empty label/);
    assert.throws(() => NamePolicy.parse('rules: [{namespaces: [a], names: [x.org], zones: [y]}]'), /unknown field "zones"/);
    assert.throws(() => NamePolicy.parse('rules: [{namespaces: [a], names: [x.org]}]\nrules: []'), /name policy: /);
  });

  it('in the store: a record outside its namespace\'s names is rejected alone, every other record serves', () => {
    const store = new ZoneStore({ zones: [zoneConfig('example.org', DEFAULT_ZONE_SETTINGS)], defaultTtl: 300, policy });
    const obj = (key: string, endpoints: unknown[]): EndpointObject => {
      const [namespace, name] = key.split('/') as [string, string];
      return { key, origin: { source: 'test', namespace, name }, endpoints };
    };
    store.replaceAll([
      obj('ims/pcscf', [
        { dnsName: 'pcscf.ims.example.org', recordType: 'A', targets: ['10.0.0.1'] },
        { dnsName: 'www.example.org', recordType: 'A', targets: ['10.0.0.2'] },
      ]),
    ]);
    store.synced();
    const e = store.flush();
    assert.ok(e);
    assert.deepEqual(ask(e.snapshot, 'pcscf.ims.example.org', 'A').answer, rrs('pcscf.ims.example.org. 300 IN A 10.0.0.1'));
    assert.equal(ask(e.snapshot, 'www.example.org', 'A').rcode, 'NXDOMAIN');
    assert.deepEqual(e.problems.get('ims/pcscf')?.map((p) => [p.index, p.field]), [[1, 'dnsName']]);
  });

  it('the shipped example policy accepts every example manifest', () => {
    const example = NamePolicy.parse(readFileSync(new URL('../../../../examples/name-policy.yaml', import.meta.url), 'utf8'));
    assert.equal(example.check('amf1.5gc.mnc001.mcc001.3gppnetwork.org', '5gc'), undefined);
    assert.ok(example.check('amf1.5gc.mnc001.mcc001.3gppnetwork.org', 'ims') !== undefined);
  });
});
