/**
 * What a peer cluster's crdns is given: a read-only ServiceAccount (get, list,
 * watch on DNSEndpoints) and a kubeconfig made from a short-lived TokenRequest
 * token, verified against the API server's CA. As docs/multi-cluster.md does
 * it with kubectl.
 */
import { writeFile } from 'node:fs/promises';
import { KubeConfig } from '@kubernetes/client-node';
import type { ControlPlane } from './control-plane.js';

export const READER_RBAC = `apiVersion: v1
kind: ServiceAccount
metadata: {name: peer-reader, namespace: kube-system}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: crdns-peer-reader}
rules:
  - apiGroups: [externaldns.k8s.io]
    resources: [dnsendpoints]
    verbs: [get, list, watch]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: crdns-peer-reader}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: crdns-peer-reader}
subjects: [{kind: ServiceAccount, name: peer-reader, namespace: kube-system}]
`;

/** Creates the reader in `plane` (once). */
export async function installPeerReader(plane: ControlPlane): Promise<void> {
  await plane.apply(READER_RBAC);
}

/** Writes a kubeconfig for the reader of `plane` to `file`, with a fresh token. */
export async function writeReaderKubeconfig(plane: ControlPlane, file: string, duration = '1h'): Promise<void> {
  const token = (await plane.kubectl(['create', 'token', 'peer-reader', '-n', 'kube-system', `--duration=${duration}`])).trim();
  const admin = new KubeConfig();
  admin.loadFromFile(plane.kubeconfigPath('admin'));
  admin.makePathsAbsolute(plane.dir);
  const cluster = admin.getCurrentCluster();
  if (!cluster?.caData && !cluster?.caFile) throw new Error('the control plane kubeconfig names no CA');
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'peer', server: plane.server, ...(cluster.caData ? { caData: cluster.caData } : { caFile: cluster.caFile }), skipTLSVerify: false }],
    users: [{ name: 'reader', token }],
    contexts: [{ name: 'peer', cluster: 'peer', user: 'reader' }],
    currentContext: 'peer',
  });
  await writeFile(file, kc.exportConfig());
}
