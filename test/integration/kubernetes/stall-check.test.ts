/**
 * The stall check's request (ResourceListWatch.changedSince) against a real
 * kube-apiserver: a one-second watch from a resourceVersion reports whether
 * the server has changes after it, and leaves nothing behind on the signal
 * that a watch session shares among all its checks.
 */
import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { ResourceListWatch } from '../../../src/kubernetes/list-watch.js';
import { DNSENDPOINT } from '../../../src/sources/dnsendpoints/resource.js';
import { ControlPlane } from '../../harness/control-plane.js';

describe('stall check against a real kube-apiserver', function () {
  this.timeout(180_000);
  let plane: ControlPlane;

  before(async () => {
    plane = await ControlPlane.start();
    await plane.createNamespace('stall');
  });
  after(async () => {
    await plane?.stop();
  });

  it('says false with nothing after the resourceVersion, true once something changed, and removes its abort listener each time', async () => {
    const lw = new ResourceListWatch<{ metadata?: { resourceVersion?: string } }>(plane.kubeConfig('admin'), DNSENDPOINT, { namespace: 'stall' });
    const session = new AbortController();
    const { resourceVersion } = await lw.list(session.signal);
    for (let i = 0; i < 12; i++) assert.equal(await lw.changedSince(resourceVersion, session.signal), false, `check ${i}`);
    assert.equal(getEventListeners(session.signal, 'abort').length, 0, 'listeners left on the session signal');
    await plane.apply(`apiVersion: externaldns.k8s.io/v1alpha1
kind: DNSEndpoint
metadata: {name: moved, namespace: stall}
spec:
  endpoints: [{dnsName: moved.example.org, recordType: A, targets: [192.0.2.1]}]
`);
    assert.equal(await lw.changedSince(resourceVersion, session.signal), true);
    assert.equal(getEventListeners(session.signal, 'abort').length, 0);
    session.abort();
    assert.equal(await lw.changedSince(resourceVersion, session.signal), undefined, 'an aborted session cannot judge');
  });
});
