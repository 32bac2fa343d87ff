// ManifestSet tells changed files from unchanged ones by a digest, which the
// folder reader takes from the bytes and a caller with only the text takes
// from the text: the two must be the same value for every UTF-8 file.
import assert from 'node:assert/strict';
import { manifestDigest, ManifestSet } from '../../../../src/sources/manifests/manifest-set.js';

const EP = (ip: string) => `apiVersion: externaldns.k8s.io/v1alpha1
kind: DNSEndpoint
metadata: {name: a, namespace: ns}
spec:
  endpoints:
    - {dnsName: a.example.org, recordType: A, targets: ["${ip}"]}
`;

describe('manifest set digests', () => {
  it('digests a text and its UTF-8 bytes alike: BOM, accents, CJK, emoji, CRLF', () => {
    for (const text of ['', EP('192.0.2.1'), `\ufeff${EP('192.0.2.1')}`, 'name: café ünïcödé', 'a: 東京\r\nb: 🚀\r\n']) {
      assert.equal(manifestDigest(Buffer.from(text, 'utf8')), manifestDigest(text), JSON.stringify(text));
    }
  });

  it('sees a file read with its bytes\' digest as unchanged from the same text read without one, and a change as a change', () => {
    const set = new ManifestSet();
    assert.equal(set.update('a.yaml', 'dir/a.yaml', { text: EP('192.0.2.1') }), true);
    assert.equal(set.update('a.yaml', 'dir/a.yaml', { text: EP('192.0.2.1'), digest: manifestDigest(Buffer.from(EP('192.0.2.1'))) }), false);
    assert.equal(set.update('a.yaml', 'dir/a.yaml', { text: EP('192.0.2.2'), digest: manifestDigest(Buffer.from(EP('192.0.2.2'))) }), true);
    assert.deepEqual(set.resolve().objects.get('ns/a')?.endpoints.map((e) => (e as { targets: string[] }).targets), [['192.0.2.2']]);
  });
});
