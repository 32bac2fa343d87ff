/**
 * Multi-cluster objects of the chart against a real kube-apiserver + etcd (no
 * kubelet): the peer reader rendered with peerReader.create, a TokenRequest
 * token put into a kubeconfig with the kubectl commands of
 * docs/multi-cluster.md, and what that token can do: get/list/watch
 * DNSEndpoints and nothing else, cluster-wide or only in the watched
 * namespaces. Then the peer Secret mounts as the API server stores them, and
 * the documented create/rotate commands for the Secret.
 *
 * One API server plays every cluster: "b" and "c" are release namespaces
 * whose peer readers a peer would use, "a" the one that holds the Secrets.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CustomObjectsApi, KubeConfig } from '@kubernetes/client-node';
import { ControlPlane } from '../../harness/control-plane.js';
import { aRecord } from '../../support/dnsendpoint-manifests.js';
import { peerBin } from '../../harness/peers.js';
import { CHART, CI_VALUES, cleanupHelmHome, find, helm, podSpec, render, run, type Manifest, type RunResult } from './support.js';

const DNSENDPOINTS = 'dnsendpoints.externaldns.k8s.io';
const READER = 'crdns-peer-reader';

interface Rule {
  resource: string;
  verbs: string[];
}

describe('helm chart: the peer reader and peer Secrets against a real kube-apiserver', function () {
  this.timeout(300_000);
  let plane: ControlPlane;
  let dir: string;

  before(async function () {
    this.timeout(600_000);
    plane = await ControlPlane.start();
    for (const ns of ['crdns-a', 'crdns-b', 'crdns-c', 'team-a', 'team-b', 'team-c']) await plane.createNamespace(ns);
    await plane.apply(aRecord('hello', 'team-a', '192.0.2.10'));
    await plane.apply(aRecord('other', 'team-c', '192.0.2.11'));
    dir = await mkdtemp(path.join(tmpdir(), 'crdns-peer-reader-'));
  });

  after(async () => {
    await plane?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
    await cleanupHelmHome();
  });

  /** kubectl with a given kubeconfig file, as the peer's crdns would hold it. */
  const kubectlWith = (kubeconfig: string, args: string[], input?: string): Promise<RunResult> =>
    run(peerBin('kubectl'), [`--kubeconfig=${kubeconfig}`, '--request-timeout=60s', ...args], { timeoutMs: 120_000, ...(input !== undefined ? { input } : {}) });

  async function kubectlWithOk(kubeconfig: string, args: string[], input?: string): Promise<string> {
    const r = await kubectlWith(kubeconfig, args, input);
    if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
    return r.stdout;
  }

  /** The rendered peer-reader objects of a release, created as they are. */
  async function installReader(namespace: string, extra: string[] = []): Promise<Manifest[]> {
    const rendered = await render(['-f', CI_VALUES('peers'), '--set', 'crd.install=false', ...extra], 'crdns', namespace);
    const reader = rendered.filter((m) => m.metadata.name === READER);
    await plane.kubectl(['create', '-f', '-'], { input: asList(reader) });
    return reader;
  }

  /**
   * A kubeconfig for a peer's crdns, built exactly as docs/multi-cluster.md
   * does: TokenRequest token, the API server's CA embedded, no insecure flag.
   */
  async function mintKubeconfig(namespace: string, file: string, cluster: string): Promise<{ file: string; token: string }> {
    // Server and CA from the admin's own kubeconfig; --flatten turns its CA file path into data.
    const view = (field: string) => plane.kubectl(['config', 'view', '--minify', '--flatten', '-o', `jsonpath={.clusters[0].cluster.${field}}`]);
    const server = (await view('server')).trim();
    assert.equal(server, plane.server);
    const ca = `${file}.ca.crt`;
    await writeFile(ca, Buffer.from((await view('certificate-authority-data')).trim(), 'base64'));
    const token = (await plane.kubectl(['create', 'token', READER, '-n', namespace, '--duration=24h'])).trim();
    const user = `${READER}@${cluster}`;
    for (const args of [
      ['config', 'set-cluster', cluster, `--server=${server}`, `--certificate-authority=${ca}`, '--embed-certs=true'],
      ['config', 'set-credentials', user, `--token=${token}`],
      ['config', 'set-context', cluster, `--cluster=${cluster}`, `--user=${user}`],
      ['config', 'use-context', cluster],
    ]) {
      await kubectlWithOk(file, args);
    }
    return { file, token };
  }

  async function canI(kubeconfig: string, verb: string, resource: string, where: string[], subresource?: string): Promise<boolean> {
    const args = ['auth', 'can-i', verb, resource, ...where, ...(subresource ? [`--subresource=${subresource}`] : [])];
    const r = await kubectlWith(kubeconfig, args);
    if (r.code !== 0 && r.code !== 1) throw new Error(`kubectl ${args.join(' ')}: ${r.stderr}`);
    return r.code === 0 && r.stdout.trim() === 'yes';
  }

  /** Resource rules from `kubectl auth can-i --list`, minus what every authenticated user gets. */
  async function grantedRules(kubeconfig: string, namespace: string): Promise<Rule[]> {
    const out = await kubectlWithOk(kubeconfig, ['auth', 'can-i', '--list', '-n', namespace]);
    const rules: Rule[] = [];
    for (const line of out.split('\n').slice(1)) {
      const m = /^(\S*)\s+\[(.*?)\]\s+\[(.*?)\]\s+\[(.*?)\]\s*$/.exec(line);
      if (!m) continue;
      const resource = m[1] as string;
      if (resource === '' || resource.startsWith('selfsubject')) continue;
      rules.push({ resource, verbs: (m[4] as string).split(/\s+/).filter((v) => v !== '').sort() });
    }
    return rules.sort((a, b) => a.resource.localeCompare(b.resource));
  }

  /** Everything a peer's crdns must never be able to do: write anything, read anything but DNSEndpoints. */
  async function assertReadOnly(kubeconfig: string, where: string[]): Promise<void> {
    const denied: Array<[string, string, string?]> = [
      ['create', DNSENDPOINTS],
      ['update', DNSENDPOINTS],
      ['patch', DNSENDPOINTS],
      ['delete', DNSENDPOINTS],
      ['deletecollection', DNSENDPOINTS],
      ['update', DNSENDPOINTS, 'status'],
      ['patch', DNSENDPOINTS, 'status'],
      ['create', 'events'],
      ['patch', 'events'],
      ['create', 'events.events.k8s.io'],
      ['get', 'events'],
      ['get', 'secrets'],
      ['list', 'secrets'],
      ['watch', 'secrets'],
      ['get', 'configmaps'],
      ['list', 'pods'],
      ['list', 'services'],
      ['create', 'serviceaccounts', 'token'],
      ['impersonate', 'serviceaccounts'],
      ['update', 'customresourcedefinitions.apiextensions.k8s.io'],
      ['*', '*'],
    ];
    for (const [verb, resource, sub] of denied) {
      assert.equal(await canI(kubeconfig, verb, resource, where, sub), false, `the peer reader must not ${verb} ${resource}${sub ? `/${sub}` : ''} (${where.join(' ')})`);
    }
  }

  it('cluster-wide: a TokenRequest token in a kubeconfig built with kubectl config can get/list/watch DNSEndpoints and do nothing else', async () => {
    const reader = await installReader('crdns-b');
    assert.deepEqual(reader.map((m) => m.kind).sort(), ['ClusterRole', 'ClusterRoleBinding', 'ServiceAccount']);
    const { file } = await mintKubeconfig('crdns-b', path.join(dir, 'b.kubeconfig'), 'b');

    // Verified against the API server's CA, carried in the file itself.
    const text = await readFile(file, 'utf8');
    assert.match(text, /certificate-authority-data: \S{100,}/);
    assert.doesNotMatch(text, /insecure-skip-tls-verify|certificate-authority: /);

    assert.equal((await kubectlWithOk(file, ['auth', 'whoami', '-o', 'jsonpath={.status.userInfo.username}'])).trim(), `system:serviceaccount:crdns-b:${READER}`);
    for (const verb of ['get', 'list', 'watch']) {
      assert.equal(await canI(file, verb, DNSENDPOINTS, ['--all-namespaces']), true, `${verb} dnsendpoints cluster-wide`);
      assert.equal(await canI(file, verb, DNSENDPOINTS, ['-n', 'team-c']), true, `${verb} dnsendpoints in team-c`);
    }
    for (const ns of ['team-a', 'crdns-b', 'default']) {
      assert.deepEqual(await grantedRules(file, ns), [{ resource: DNSENDPOINTS, verbs: ['get', 'list', 'watch'] }], `rules in ${ns}`);
    }
    await assertReadOnly(file, ['-n', 'team-a']);
    await assertReadOnly(file, ['--all-namespaces']);

    // Real requests, not only can-i: a list, and a watch the server ends after 1 s.
    const listed = await kubectlWithOk(file, ['get', DNSENDPOINTS, '--all-namespaces', '-o', 'jsonpath={range .items[*]}{.metadata.namespace}/{.metadata.name}{"\\n"}{end}']);
    assert.deepEqual(listed.trim().split('\n').sort(), ['team-a/hello', 'team-c/other']);
    const watched = await kubectlWithOk(file, ['get', '--raw', '/apis/externaldns.k8s.io/v1alpha1/dnsendpoints?watch=1&timeoutSeconds=1']);
    assert.match(watched, /"type":"ADDED".*"name":"hello"/);
    // crdns's own client library reads the same file and lists with it.
    const kc = new KubeConfig();
    kc.loadFromFile(file);
    const list = (await kc.makeApiClient(CustomObjectsApi).listClusterCustomObject({ group: 'externaldns.k8s.io', version: 'v1alpha1', plural: 'dnsendpoints' })) as {
      items: Array<{ metadata: { name: string } }>;
    };
    assert.deepEqual(list.items.map((i) => i.metadata.name).sort(), ['hello', 'other']);

    // And the API server refuses every write a confused or compromised peer might try.
    const refused: Array<[string, string[], string?]> = [
      ['create a DNSEndpoint', ['apply', '-f', '-'], aRecord('sneaky', 'team-a', '192.0.2.66')],
      ['change a spec', ['patch', 'dnsendpoint', '-n', 'team-a', 'hello', '--type=merge', '-p', '{"spec":{"endpoints":[]}}']],
      ['write status', ['patch', 'dnsendpoint', '-n', 'team-a', 'hello', '--subresource=status', '--type=merge', '-p', '{"status":{"observedGeneration":7}}']],
      ['delete', ['delete', 'dnsendpoint', '-n', 'team-a', 'hello']],
      ['record an Event', ['create', '-f', '-'], eventManifest('team-a', 'hello')],
      ['read a Secret', ['get', 'secrets', '-n', 'team-a']],
    ];
    for (const [what, args, input] of refused) {
      const r = await kubectlWith(file, args, input);
      assert.notEqual(r.code, 0, `${what} must fail`);
      assert.match(r.stderr, /forbidden/i, `${what}: ${r.stderr}`);
    }
    const hello = await plane.getJson<{ spec: { endpoints: unknown[] }; status?: { observedGeneration?: number } }>(['dnsendpoint', '-n', 'team-a', 'hello']);
    assert.equal(hello.spec.endpoints.length, 1, 'the spec is unchanged');
    assert.notEqual(hello.status?.observedGeneration, 7, 'the status is unchanged');
  });

  it('with crdns.watchNamespaces: reads DNSEndpoints only in those namespaces, nothing cluster-wide', async () => {
    const reader = await installReader('crdns-c', ['--set', 'crdns.watchNamespaces={team-a,team-b}']);
    assert.deepEqual(reader.map((m) => `${m.kind}/${m.metadata.namespace ?? ''}`).sort(), [
      'Role/team-a', 'Role/team-b', 'RoleBinding/team-a', 'RoleBinding/team-b', 'ServiceAccount/crdns-c',
    ]);
    const { file } = await mintKubeconfig('crdns-c', path.join(dir, 'c.kubeconfig'), 'c');
    for (const ns of ['team-a', 'team-b']) {
      assert.deepEqual(await grantedRules(file, ns), [{ resource: DNSENDPOINTS, verbs: ['get', 'list', 'watch'] }], `rules in ${ns}`);
      await assertReadOnly(file, ['-n', ns]);
    }
    for (const ns of ['team-c', 'crdns-c', 'default']) assert.deepEqual(await grantedRules(file, ns), [], `nothing in ${ns}`);
    assert.equal(await canI(file, 'list', DNSENDPOINTS, ['--all-namespaces']), false, 'no cluster-wide list');
    assert.equal((await kubectlWithOk(file, ['get', 'dnsendpoint', '-n', 'team-a', 'hello', '-o', 'name'])).trim(), 'dnsendpoint.externaldns.k8s.io/hello');
    const outside = await kubectlWith(file, ['get', 'dnsendpoint', '-n', 'team-c', 'other']);
    assert.notEqual(outside.code, 0);
    assert.match(outside.stderr, /forbidden/i);
  });

  it('peer Secrets: stored as directory Secret volumes (0440, no subPath); created and rotated with the documented commands', async () => {
    // Cluster "a" (ci/peers-values.yaml) installed by helm, which reads the
    // chart's YAML as Kubernetes does (0440 is octal there); no kubelet runs
    // the pods. Its own peer reader is left out: the first test made the
    // cluster-wide one under the same name.
    const values = ['-f', CI_VALUES('peers'), '--set', 'crd.install=false', '--set', 'peerReader.create=false'];
    const install = await helm(['install', 'crdns', CHART(), '-n', 'crdns-a', ...values], { kubeconfig: plane.kubeconfigPath('admin') });
    assert.equal(install.code, 0, `helm install:\n${install.stderr}${install.stdout}`);
    const rendered = await render(values, 'crdns', 'crdns-a');
    const stored = await plane.getJson<{ spec: { template: { spec: ReturnType<typeof podSpec> } } }>(['deployment', '-n', 'crdns-a', 'crdns']);
    const spec = stored.spec.template.spec;
    const volumes = (spec.volumes ?? []).filter((v) => v.name.startsWith('peer-'));
    assert.deepEqual(volumes, [
      { name: 'peer-b', secret: { secretName: 'crdns-peer-b', defaultMode: 0o440, items: [{ key: 'kubeconfig', path: 'kubeconfig' }] } },
      { name: 'peer-c', secret: { secretName: 'crdns-peers', defaultMode: 0o440, items: [{ key: 'c.kubeconfig', path: 'c.kubeconfig' }] } },
    ]);
    const crdns = spec.initContainers?.find((c) => c.name === 'crdns');
    const mounts = (crdns?.volumeMounts ?? []).filter((v) => v.name.startsWith('peer-')) as Array<Record<string, unknown>>;
    assert.deepEqual(mounts, [
      { name: 'peer-b', mountPath: '/etc/crdns/peers/b', readOnly: true },
      { name: 'peer-c', mountPath: '/etc/crdns/peers/c', readOnly: true },
    ]);
    assert.ok(crdns?.args?.includes('--peer=b=/etc/crdns/peers/b/kubeconfig'));
    assert.equal(find(rendered, 'Deployment').metadata.name, 'crdns');

    // Cluster a keeps b's kubeconfig in a Secret: create it, then rotate it, as the docs say.
    const applySecret = async (file: string): Promise<void> => {
      const yaml = await plane.kubectl(['create', 'secret', 'generic', 'crdns-peer-b', '-n', 'crdns-a', `--from-file=kubeconfig=${file}`, '--dry-run=client', '-o', 'yaml']);
      await plane.kubectl(['apply', '-f', '-'], { input: yaml });
    };
    const storedKubeconfig = async (): Promise<string> => {
      const secret = await plane.getJson<{ data: Record<string, string> }>(['secret', '-n', 'crdns-a', 'crdns-peer-b']);
      assert.deepEqual(Object.keys(secret.data), ['kubeconfig'], 'one entry, named as peers[].key defaults');
      return Buffer.from(secret.data['kubeconfig'] ?? '', 'base64').toString('utf8');
    };
    const first = await mintKubeconfig('crdns-b', path.join(dir, 'b-1.kubeconfig'), 'b');
    await applySecret(first.file);
    assert.equal(await storedKubeconfig(), await readFile(first.file, 'utf8'));

    const second = await mintKubeconfig('crdns-b', path.join(dir, 'b-2.kubeconfig'), 'b');
    assert.notEqual(second.token, first.token, 'a new token was minted');
    await applySecret(second.file);
    const rotated = await storedKubeconfig();
    assert.ok(rotated.includes(second.token) && !rotated.includes(first.token), 'the Secret holds the new token only');
    // Minting a new token does not revoke the old one: crdns keeps reading
    // with it until the kubelet has put the new file in place.
    for (const k of [first.file, second.file]) {
      assert.equal(await canI(k, 'watch', DNSENDPOINTS, ['--all-namespaces']), true, `${path.basename(k)} still works`);
    }
  });

  it('NOTES name the peers and show the TokenRequest command for the peer reader', async () => {
    const r = await helm(['install', 'notes', CHART(), '-n', 'crdns-a', '--dry-run=server', '-f', CI_VALUES('peers'), '--set', 'crd.install=false'], { kubeconfig: plane.kubeconfigPath('admin') });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /crdns \(cluster a\) also watches, read-only, the DNSEndpoints of peer cluster\(s\) b, c\n/);
    assert.match(r.stdout, /kubectl -n crdns-a create token notes-crdns-peer-reader --duration=24h/);
  });
});

/** A Warning Event about a DNSEndpoint, as crdns records them in its own cluster. */
function eventManifest(namespace: string, name: string): string {
  return JSON.stringify({
    apiVersion: 'v1',
    kind: 'Event',
    metadata: { name: `${name}.peer-test`, namespace },
    involvedObject: { apiVersion: 'externaldns.k8s.io/v1alpha1', kind: 'DNSEndpoint', namespace, name },
    reason: 'InvalidEndpoint',
    message: 'written by a peer',
    type: 'Warning',
    source: { component: 'crdns' },
  });
}

function asList(manifests: Manifest[]): string {
  return JSON.stringify({ apiVersion: 'v1', kind: 'List', items: manifests });
}
