/**
 * The chart against a real kube-apiserver + etcd (no kubelet, so pods never
 * run): everything it renders is created for real, the ServiceAccount can do
 * exactly what crdns needs, and crdns started with the rendered flags and
 * that ServiceAccount's token, behind CoreDNS on the rendered Corefile,
 * answers from DNSEndpoints made with kubectl.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ControlPlane } from '../../harness/control-plane.js';
import { dig } from '../../harness/coredns.js';
import { freePort } from '../../harness/ports.js';
import { CRDNS_MAIN } from '../../harness/crdns-process.js';
import { aRecord, dnsEndpointManifest } from '../../support/dnsendpoint-manifests.js';
import { eventually } from '../../support/eventually.js';
import { CHART, CI_VALUES, cleanupHelmHome, corefileOf, find, helm, loopbackOnly, podSpec, render, runCoredns, type CorednsRun, type Manifest } from './support.js';

/** Just enough of the prometheus-operator CRDs for the API server to accept the chart's objects. */
function stubCrd(kind: string, plural: string): string {
  return JSON.stringify({
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${plural}.monitoring.coreos.com` },
    spec: {
      group: 'monitoring.coreos.com',
      scope: 'Namespaced',
      names: { kind, plural, singular: kind.toLowerCase(), listKind: `${kind}List` },
      versions: [{ name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } } }],
    },
  });
}

interface Rule {
  resource: string;
  verbs: string[];
}

describe('helm chart: against a real kube-apiserver', function () {
  this.timeout(300_000);
  let plane: ControlPlane;
  const stops: Array<() => Promise<void>> = [];

  before(async function () {
    this.timeout(600_000);
    plane = await ControlPlane.start({ installCrd: false });
    for (const ns of ['crdns-full', 'crdns-min', 'team-a', 'team-b', 'team-c']) await plane.createNamespace(ns);
    for (const [kind, plural] of [['ServiceMonitor', 'servicemonitors'], ['PrometheusRule', 'prometheusrules']] as const) {
      await plane.apply(stubCrd(kind, plural));
      await plane.kubectl(['wait', '--for=condition=Established', '--timeout=120s', `crd/${plural}.monitoring.coreos.com`]);
    }
  });

  afterEach(async () => {
    for (const stop of stops.splice(0).reverse()) await stop();
  });

  after(async () => {
    await plane?.stop();
    await cleanupHelmHome();
  });

  const helmAdmin = (args: string[]) => helm(args, { kubeconfig: plane.kubeconfigPath('admin') });

  async function canI(sa: string, verb: string, resource: string, where: string[], subresource?: string): Promise<boolean> {
    const args = ['auth', 'can-i', verb, resource, ...where, '--as', sa, ...(subresource ? [`--subresource=${subresource}`] : [])];
    const r = await plane.kubectlResult(args);
    if (r.code !== 0 && r.code !== 1) throw new Error(`kubectl ${args.join(' ')}: ${r.stderr}`);
    return r.code === 0 && r.stdout.trim() === 'yes';
  }

  /** Resource rules from `kubectl auth can-i --list`, minus what every authenticated user gets. */
  async function grantedRules(sa: string, namespace: string): Promise<Rule[]> {
    const out = await plane.kubectl(['auth', 'can-i', '--list', '-n', namespace, '--as', sa]);
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

  const CRDNS_NEEDS: Rule[] = [
    { resource: 'dnsendpoints.externaldns.k8s.io', verbs: ['get', 'list', 'watch'] },
    { resource: 'dnsendpoints.externaldns.k8s.io/status', verbs: ['patch', 'update'] },
    { resource: 'events', verbs: ['create', 'patch'] },
  ];

  /** Things crdns must not be able to do anywhere. */
  async function assertNothingMore(sa: string, where: string[]): Promise<void> {
    const denied: Array<[string, string, string?]> = [
      ['create', 'dnsendpoints.externaldns.k8s.io'],
      ['update', 'dnsendpoints.externaldns.k8s.io'],
      ['patch', 'dnsendpoints.externaldns.k8s.io'],
      ['delete', 'dnsendpoints.externaldns.k8s.io'],
      ['deletecollection', 'dnsendpoints.externaldns.k8s.io'],
      ['get', 'secrets'],
      ['list', 'secrets'],
      ['get', 'configmaps'],
      ['list', 'pods'],
      ['create', 'pods'],
      ['get', 'events'],
      ['delete', 'events'],
      ['create', 'events.events.k8s.io'],
      ['list', 'services'],
      ['update', 'customresourcedefinitions.apiextensions.k8s.io'],
      ['create', 'serviceaccounts', 'token'],
      ['impersonate', 'serviceaccounts'],
      ['*', '*'],
    ];
    for (const [verb, resource, sub] of denied) {
      assert.equal(await canI(sa, verb, resource, where, sub), false, `${sa} must not ${verb} ${resource}${sub ? `/${sub}` : ''} (${where.join(' ')})`);
    }
  }

  it('helm install with every feature on: created for real, upgraded, uninstalled (CRD kept)', async () => {
    const install = await helmAdmin(['install', 'crdns', CHART(), '-n', 'crdns-full', '-f', CI_VALUES('full')]);
    assert.equal(install.code, 0, `helm install:\n${install.stderr}${install.stdout}`);
    assert.match(install.stdout, /STATUS: deployed/);
    assert.match(install.stdout, /dig @\$IP hello\.example\.org A/, 'NOTES.txt shows the dig commands');

    // What the API server stored, not what helm sent.
    const dep = await plane.getJson<{ metadata: { generation: number }; spec: { template: { metadata: { annotations: Record<string, string> }; spec: { initContainers: Array<{ name: string; restartPolicy?: string; startupProbe?: unknown }> } } } }>(
      ['deployment', '-n', 'crdns-full', 'crdns'],
    );
    const sidecar = dep.spec.template.spec.initContainers[0];
    assert.equal(sidecar?.name, 'crdns');
    assert.equal(sidecar?.restartPolicy, 'Always', 'the API server kept the native sidecar');
    assert.ok(sidecar?.startupProbe);
    const svc = await plane.getJson<{ spec: { type: string; clusterIP: string; ports: Array<{ port: number; protocol: string; nodePort?: number }> } }>(['service', '-n', 'crdns-full', 'crdns']);
    assert.equal(svc.spec.type, 'LoadBalancer');
    assert.match(svc.spec.clusterIP, /^10\.0\.0\.\d+$/);
    assert.deepEqual(svc.spec.ports.map((p) => `${p.port}/${p.protocol}`), ['53/UDP', '53/TCP']);
    for (const [kind, ns, name] of [
      ['role', 'team-a', 'crdns'], ['rolebinding', 'team-b', 'crdns'], ['serviceaccount', 'crdns-full', 'crdns'],
      ['poddisruptionbudget', 'crdns-full', 'crdns'], ['networkpolicy', 'crdns-full', 'crdns'], ['service', 'crdns-full', 'crdns-peering'],
      ['service', 'crdns-full', 'crdns-metrics'], ['configmap', 'crdns-full', 'crdns-corefile'], ['configmap', 'crdns-full', 'crdns-dashboard'],
      ['servicemonitor', 'crdns-full', 'crdns'], ['prometheusrule', 'crdns-full', 'crdns'],
    ] as const) {
      await plane.kubectl(['get', kind, '-n', ns, name]);
    }
    await plane.kubectl(['wait', '--for=condition=Established', '--timeout=120s', 'crd/dnsendpoints.externaldns.k8s.io']);

    const sa = 'system:serviceaccount:crdns-full:crdns';
    for (const ns of ['team-a', 'team-b']) {
      assert.deepEqual(await grantedRules(sa, ns), CRDNS_NEEDS, `rules in ${ns}`);
      await assertNothingMore(sa, ['-n', ns]);
    }
    for (const ns of ['team-c', 'crdns-full', 'default']) {
      assert.deepEqual(await grantedRules(sa, ns), [], `nothing in unlisted namespace ${ns}`);
    }
    assert.equal(await canI(sa, 'list', 'dnsendpoints.externaldns.k8s.io', ['--all-namespaces']), false, 'no cluster-wide list');

    const upgrade = await helmAdmin(['upgrade', 'crdns', CHART(), '-n', 'crdns-full', '--reuse-values', '--set', 'coredns.cache.denialTtl=60']);
    assert.equal(upgrade.code, 0, `helm upgrade:\n${upgrade.stderr}`);
    const after = await plane.getJson<typeof dep>(['deployment', '-n', 'crdns-full', 'crdns']);
    assert.notEqual(after.spec.template.metadata.annotations['checksum/corefile'], dep.spec.template.metadata.annotations['checksum/corefile']);
    assert.equal(after.metadata.generation, dep.metadata.generation + 1, 'a Corefile change rolls the Deployment');
    const cm = await plane.getJson<{ data: { Corefile: string } }>(['configmap', '-n', 'crdns-full', 'crdns-corefile']);
    assert.match(cm.data.Corefile, /denial 9984 60 1/);

    const uninstall = await helmAdmin(['uninstall', 'crdns', '-n', 'crdns-full']);
    assert.equal(uninstall.code, 0, `helm uninstall:\n${uninstall.stderr}`);
    assert.equal((await plane.kubectlResult(['get', 'deployment', '-n', 'crdns-full', 'crdns'])).code, 1, 'Deployment removed');
    assert.equal((await plane.kubectlResult(['get', 'role', '-n', 'team-a', 'crdns'])).code, 1, 'Roles removed');
    await plane.kubectl(['get', 'crd', 'dnsendpoints.externaldns.k8s.io']);
  });

  it('default values: kubectl create of the rendered objects; a ClusterRole with exactly what crdns needs', async () => {
    // The CRD is still there from the helm test (kept on uninstall); without
    // that test, create it here the same way.
    const crdPresent = (await plane.kubectlResult(['get', 'crd', 'dnsendpoints.externaldns.k8s.io'])).code === 0;
    const manifests = await render(['-f', CI_VALUES('minimal'), ...(crdPresent ? ['--set', 'crd.install=false'] : [])], 'crdns', 'crdns-min');
    const out = await plane.kubectl(['create', '-f', '-'], { input: asList(manifests) });
    for (const m of manifests) assert.match(out, new RegExp(`${m.metadata.name}.* created`), `${m.kind} ${m.metadata.name} created`);

    const sa = 'system:serviceaccount:crdns-min:crdns';
    for (const ns of ['team-a', 'team-c', 'crdns-min']) {
      assert.deepEqual(await grantedRules(sa, ns), CRDNS_NEEDS, `rules in ${ns}`);
    }
    assert.equal(await canI(sa, 'list', 'dnsendpoints.externaldns.k8s.io', ['--all-namespaces']), true);
    assert.equal(await canI(sa, 'watch', 'dnsendpoints.externaldns.k8s.io', ['--all-namespaces']), true);
    assert.equal(await canI(sa, 'patch', 'dnsendpoints.externaldns.k8s.io', ['-n', 'team-c'], 'status'), true);
    assert.equal(await canI(sa, 'update', 'dnsendpoints.externaldns.k8s.io', ['-n', 'team-c'], 'status'), true);
    assert.equal(await canI(sa, 'create', 'events', ['-n', 'team-c']), true);
    assert.equal(await canI(sa, 'patch', 'events', ['-n', 'team-c']), true);
    await assertNothingMore(sa, ['-n', 'team-c']);
    await assertNothingMore(sa, ['--all-namespaces']);
    assert.equal(await canI(sa, 'list', 'namespaces', []), false);
    assert.equal(await canI(sa, 'list', 'nodes', []), false);

    // NOTES.txt for the default ClusterIP Service (helm renders it only on install).
    const notes = await helmAdmin(['install', 'notes', CHART(), '-n', 'crdns-min', '--dry-run=server', '-f', CI_VALUES('minimal'), '--set', 'crd.install=false']);
    assert.equal(notes.code, 0, notes.stderr);
    assert.match(notes.stdout, /dig @notes-crdns\.crdns-min\.svc hello\.example\.org A/);
    assert.match(notes.stdout, /dig @127\.0\.0\.1 -p 5353 \+tcp hello\.example\.org A/);
    assert.match(notes.stdout, /namespace: crdns-min\n/);
  });

  it('crdns with the rendered flags and the ServiceAccount token, behind CoreDNS on the rendered Corefile, answers from kubectl-made DNSEndpoints', async function () {
    if ((await plane.kubectlResult(['get', 'serviceaccount', '-n', 'crdns-min', 'crdns'])).code !== 0) {
      // Runs on its own too: install the default objects first.
      const manifests = await render(['-f', CI_VALUES('minimal')], 'crdns', 'crdns-min');
      await plane.kubectl(['apply', '-f', '-'], { input: asList(manifests) });
      await plane.kubectl(['wait', '--for=condition=Established', '--timeout=120s', 'crd/dnsendpoints.externaldns.k8s.io']);
    }
    const dir = await mkdtemp(path.join(tmpdir(), 'crdns-helm-live-'));
    stops.push(() => rm(dir, { recursive: true, force: true }));
    const [dnsPort, health, ready, metrics, http] = [await freePort(), await freePort(), await freePort(), await freePort(), await freePort()];
    const m = await render(
      [
        '-f', CI_VALUES('minimal'),
        '--set', `crdns.socketDir=${dir}`, '--set', `crdns.httpPort=${http}`,
        '--set', `coredns.ports.dns=${dnsPort}`, '--set', `coredns.ports.health=${health}`,
        '--set', `coredns.ports.ready=${ready}`, '--set', `coredns.ports.metrics=${metrics}`,
        '--set', 'coredns.bind={127.0.0.1}',
      ],
      'crdns',
      'crdns-min',
    );

    // The pod's token, as the kubelet would project it.
    const token = (await plane.kubectl(['create', 'token', 'crdns', '-n', 'crdns-min', '--duration=1h'])).trim();
    const kubeconfig = path.join(dir, 'kubeconfig');
    await writeFile(
      kubeconfig,
      `apiVersion: v1\nkind: Config\nclusters:\n  - name: c\n    cluster:\n      server: ${plane.server}\n      certificate-authority: ${path.join(plane.dir, 'pki', 'apiserver.crt')}\nusers:\n  - name: sa\n    user:\n      token: ${token}\ncontexts:\n  - name: c\n    context:\n      cluster: c\n      user: sa\ncurrent-context: c\n`,
    );

    await plane.apply(aRecord('hello', 'team-c', '192.0.2.10'));
    await plane.apply(
      dnsEndpointManifest({ name: 'half-bad', namespace: 'team-a', endpoints: [
        { dnsName: 'ok.example.org', recordType: 'AAAA', targets: ['2001:db8::1'], recordTTL: 60 },
        { dnsName: 'bad.example.org', recordType: 'MX', targets: ['ten mail.example.org'] },
      ] }),
    );

    // crdns exactly as the Deployment runs it, but on loopback and with the token above.
    const args = [...(podSpec(find(m, 'Deployment')).initContainers?.[0]?.args ?? [])];
    const httpIdx = args.indexOf(`--http=:${http}`);
    assert.ok(httpIdx >= 0, `rendered args have --http=:${http}: ${args.join(' ')}`);
    args[httpIdx] = `--http=127.0.0.1:${http}`;
    const crdns = spawnLogged(process.execPath, [CRDNS_MAIN, 'serve', ...args, `--kubeconfig=${kubeconfig}`]);
    stops.push(crdns.stop);
    // What the startupProbe waits for before the kubelet starts CoreDNS.
    await eventually('crdns /readyz 200', async () => (await httpStatus(`http://127.0.0.1:${http}/readyz`)) === 200, crdns.logs, 120_000, 200);

    let coredns: CorednsRun | undefined;
    coredns = await runCoredns(loopbackOnly(corefileOf(m)), dnsPort);
    stops.push(() => coredns?.stop() ?? Promise.resolve());
    assert.equal(await httpStatus(`http://127.0.0.1:${ready}/ready`), 200);
    assert.equal(await httpStatus(`http://127.0.0.1:${health}/health`), 200);

    const a = await dig('hello.example.org', 'A', { port: dnsPort });
    assert.equal(a.status, 'NOERROR', a.output);
    assert.ok(a.flags.includes('aa'), a.output);
    assert.deepEqual(a.answer.map((r) => r.rdata), ['192.0.2.10']);
    const tcp = await dig('ok.example.org', 'AAAA', { port: dnsPort, tcp: true });
    assert.deepEqual(tcp.answer.map((r) => r.rdata), ['2001:db8::1']);
    const soa = await dig('example.org', 'SOA', { port: dnsPort });
    assert.equal(soa.answer[0]?.type, 'SOA', soa.output);
    const refused = await dig('elsewhere.example.com', 'A', { port: dnsPort });
    assert.equal(refused.status, 'REFUSED', 'CoreDNS refuses names outside the zones');

    // Status and Events written with the ServiceAccount's rights.
    await eventually('Accepted=False written on the half-bad object', async () => {
      const o = await plane.getJson<{ status?: { conditions?: Array<{ type: string; status: string; reason: string }> } }>(['dnsendpoint', '-n', 'team-a', 'half-bad']);
      return o.status?.conditions?.some((c) => c.type === 'Accepted' && c.status === 'False') === true;
    }, crdns.logs, 60_000, 200);
    await eventually('Warning event recorded', async () => {
      const list = await plane.getJson<{ items: Array<{ reason: string; involvedObject: { name: string } }> }>(['events', '-n', 'team-a']);
      return list.items.some((e) => e.reason === 'InvalidEndpoint' && e.involvedObject.name === 'half-bad');
    }, crdns.logs, 60_000, 200);
    await eventually('Accepted=True written on hello', async () => {
      const o = await plane.getJson<{ status?: { conditions?: Array<{ type: string; status: string }> } }>(['dnsendpoint', '-n', 'team-c', 'hello']);
      return o.status?.conditions?.some((c) => c.type === 'Accepted' && c.status === 'True') === true;
    }, crdns.logs, 60_000, 200);
    assert.doesNotMatch(crdns.logs(), /forbidden|403/i, 'no request was refused');

    // The watch, through CoreDNS. Fresh name: nothing cached.
    await plane.apply(aRecord('later', 'team-b', '192.0.2.11'));
    await eventually('later.example.org answered', async () => (await dig('later.example.org', 'A', { port: dnsPort })).answer.some((r) => r.rdata === '192.0.2.11'), crdns.logs, 60_000, 200);
  });
});

function asList(manifests: Manifest[]): string {
  return JSON.stringify({ apiVersion: 'v1', kind: 'List', items: manifests });
}

function spawnLogged(cmd: string, args: string[]): { child: ChildProcess; logs: () => string; stop: () => Promise<void> } {
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  child.stdout?.on('data', (d: Buffer) => (log += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (log += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    child,
    logs: () => log,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

async function httpStatus(url: string): Promise<number> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(3000) });
    await res.text();
    return res.status;
  } catch {
    return 0;
  }
}
