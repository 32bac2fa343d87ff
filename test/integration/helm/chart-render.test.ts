/**
 * The chart through the real helm: lint, template, schema. What the rendered
 * objects look like is checked here; whether the API server accepts them and
 * whether CoreDNS loads the Corefile is in the other files of this folder.
 */
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { NamePolicy } from '../../../src/endpoint/name-policy.js';
import { CHART, CI_VALUES, KUBE_VERSION, cleanupHelmHome, corefileOf, find, helm, kinds, podSpec, render, type Manifest } from './support.js';

const MINIMAL = ['-f', CI_VALUES('minimal')];
const FULL = ['-f', CI_VALUES('full')];
const PEERS = ['-f', CI_VALUES('peers')];

function rbacRules(): unknown {
  return parseYaml(readFileSync(path.join(CHART(), 'files', 'rbac-rules.yaml'), 'utf8'));
}

describe('helm chart: lint and template', function () {
  this.timeout(180_000);

  after(cleanupHelmHome);

  it('lints clean with every ci/ values file (--strict)', async () => {
    for (const name of ['minimal', 'full', 'peering-plaintext']) {
      const r = await helm(['lint', '--strict', CHART(), '--kube-version', KUBE_VERSION, '-f', CI_VALUES(name)]);
      assert.equal(r.code, 0, `helm lint -f ci/${name}-values.yaml:\n${r.stdout}${r.stderr}`);
      assert.match(r.stdout, /1 chart\(s\) linted, 0 chart\(s\) failed/);
    }
  });

  it('lints clean with every values file found in ci/ (files added later included)', async () => {
    const names = readdirSync(path.join(CHART(), 'ci')).filter((f) => f.endsWith('-values.yaml')).map((f) => f.replace(/-values\.yaml$/, ''));
    assert.ok(names.includes('peers'), `ci/ holds ${names.join(', ')}`);
    for (const name of names) {
      const r = await helm(['lint', '--strict', CHART(), '--kube-version', KUBE_VERSION, '-f', CI_VALUES(name)]);
      assert.equal(r.code, 0, `helm lint -f ci/${name}-values.yaml:\n${r.stdout}${r.stderr}`);
      assert.match(r.stdout, /1 chart\(s\) linted, 0 chart\(s\) failed/);
    }
  });

  it('lints the bare defaults, but refuses to render them without zones, saying so', async () => {
    // helm lint runs templates in lint mode, where `fail` is reported, not fatal.
    const lint = await helm(['lint', '--strict', CHART(), '--kube-version', KUBE_VERSION]);
    assert.equal(lint.code, 0, lint.stdout + lint.stderr);
    assert.match(lint.stdout + lint.stderr, /zones: name at least one zone/);
    const tpl = await helm(['template', 'x', CHART(), '--kube-version', KUBE_VERSION]);
    assert.notEqual(tpl.code, 0);
    assert.match(tpl.stderr, /zones: name at least one zone/);
  });

  it('rejects values the schema forbids', async () => {
    const bad: Array<[string[], RegExp]> = [
      [['--set', 'peering.fallbackTo={peer.example.org:8443}'], /at '\/peering\/fallbackTo\/0': 'peer\.example\.org:8443' does not match pattern/],
      [['--set', 'crdns.logLevel=verbose'], /at '\/crdns\/logLevel'/],
      [['--set', 'coredns.ports.dns=70000'], /at '\/coredns\/ports\/dns': maximum/],
      [['--set', 'coredns.cache.serveStale.mode=sometimes'], /at '\/coredns\/cache\/serveStale\/mode'/],
      [['--set', 'zones={bad..name}'], /at '\/zones\/0': 'bad\.\.name' does not match pattern/],
      [['--set', 'sevice.type=LoadBalancer'], /additional properties 'sevice' not allowed/],
      [['--set', 'crdns.workers=0'], /at '\/crdns\/workers': minimum/],
    ];
    for (const [args, why] of bad) {
      const r = await helm(['template', 'x', CHART(), '--kube-version', KUBE_VERSION, ...MINIMAL, ...args]);
      assert.notEqual(r.code, 0, `${args.join(' ')} should be rejected`);
      assert.match(r.stderr, why, `${args.join(' ')}: ${r.stderr}`);
    }
  });

  it('refuses TLS peering without a Secret and DNSSEC without keys', async () => {
    const tls = await helm(['template', 'x', CHART(), '--kube-version', KUBE_VERSION, ...MINIMAL, '--set', 'peering.serve=true']);
    assert.notEqual(tls.code, 0);
    assert.match(tls.stderr, /peering\.tls\.secretName/);
    const dnssec = await helm(['template', 'x', CHART(), '--kube-version', KUBE_VERSION, ...MINIMAL, '--set', 'coredns.dnssec.enabled=true']);
    assert.notEqual(dnssec.code, 0);
    assert.match(dnssec.stderr, /coredns\.dnssec/);
  });

  describe('minimal values (zones only)', () => {
    let m: Manifest[];
    before(async () => {
      m = await render(MINIMAL);
    });

    it('renders exactly the default set of objects', () => {
      assert.deepEqual(kinds(m), [
        'ClusterRole', 'ClusterRoleBinding', 'ConfigMap', 'CustomResourceDefinition', 'Deployment',
        'PodDisruptionBudget', 'Service', 'Service', 'ServiceAccount',
      ]);
    });

    it('runs crdns as a native sidecar with a startup probe, CoreDNS 1.14.7 as the main container', () => {
      const spec = podSpec(find(m, 'Deployment'));
      assert.equal(spec.initContainers?.length, 1);
      const crdns = spec.initContainers?.[0];
      assert.equal(crdns?.name, 'crdns');
      assert.equal(crdns?.restartPolicy, 'Always');
      assert.deepEqual(crdns?.startupProbe && (crdns.startupProbe as { httpGet: unknown }).httpGet, { path: '/readyz', port: 'http' });
      assert.deepEqual((crdns?.readinessProbe as { httpGet: unknown }).httpGet, { path: '/readyz', port: 'http' });
      assert.deepEqual((crdns?.livenessProbe as { httpGet: unknown }).httpGet, { path: '/healthz', port: 'http' });
      assert.equal(crdns?.image, 'crdns:0.1.0');
      assert.deepEqual(crdns?.args, [
        '--zone=example.org', '--listen=unix:///var/run/crdns/crdns.sock', '--http=:9253', '--default-ttl=300',
        '--soa-refresh=3600', '--soa-retry=600', '--soa-expire=604800', '--soa-minimum=60', '--soa-ttl=3600', '--log-level=info',
      ]);
      assert.equal(spec.containers.length, 1);
      const coredns = spec.containers[0];
      assert.equal(coredns?.image, 'coredns/coredns:1.14.7');
      assert.deepEqual(coredns?.args, ['-conf', '/etc/coredns/Corefile']);
      assert.deepEqual((coredns?.readinessProbe as { httpGet: unknown }).httpGet, { path: '/ready', port: 'ready' });
      assert.deepEqual((coredns?.livenessProbe as { httpGet: unknown }).httpGet, { path: '/health', port: 'health' });
      const ports = Object.fromEntries((coredns?.ports ?? []).map((p) => [p.name, `${p.containerPort}/${p.protocol}`]));
      assert.deepEqual(ports, { dns: '1053/UDP', 'dns-tcp': '1053/TCP', metrics: '9153/TCP', health: '8080/TCP', ready: '8181/TCP' });
    });

    it('shares the socket through a memory emptyDir and gives the API token to crdns only', () => {
      const spec = podSpec(find(m, 'Deployment'));
      const socket = spec.volumes?.find((v) => v.name === 'socket');
      assert.deepEqual(socket?.['emptyDir'], { medium: 'Memory', sizeLimit: '1Mi' });
      const crdns = spec.initContainers?.[0];
      const coredns = spec.containers[0];
      assert.ok(crdns?.volumeMounts?.some((v) => v.name === 'socket' && v.mountPath === '/var/run/crdns'));
      assert.ok(coredns?.volumeMounts?.some((v) => v.name === 'socket' && v.mountPath === '/var/run/crdns'));
      assert.equal(spec.automountServiceAccountToken, false);
      assert.ok(crdns?.volumeMounts?.some((v) => v.name === 'kube-api-access' && v.mountPath === '/var/run/secrets/kubernetes.io/serviceaccount'));
      assert.ok(!coredns?.volumeMounts?.some((v) => v.name === 'kube-api-access'), 'CoreDNS must not get the API token');
    });

    it('locks both containers down: non-root, read-only root, no capabilities, RuntimeDefault seccomp', () => {
      const spec = podSpec(find(m, 'Deployment'));
      assert.equal(spec.securityContext?.['runAsNonRoot'], true);
      assert.equal(spec.securityContext?.['runAsUser'], 65532);
      assert.deepEqual(spec.securityContext?.['seccompProfile'], { type: 'RuntimeDefault' });
      for (const c of [...(spec.initContainers ?? []), ...spec.containers]) {
        assert.equal(c.securityContext?.['readOnlyRootFilesystem'], true, c.name);
        assert.equal(c.securityContext?.['allowPrivilegeEscalation'], false, c.name);
        assert.deepEqual(c.securityContext?.['capabilities'], { drop: ['ALL'] }, c.name);
        assert.ok(c.resources, `${c.name} has resources`);
      }
    });

    it('two replicas, spread over nodes and zones, a PDB, and a Service 53/UDP+TCP to the CoreDNS port', () => {
      const d = find(m, 'Deployment') as unknown as { spec: { replicas: number } };
      assert.equal(d.spec.replicas, 2);
      const spread = podSpec(find(m, 'Deployment')).topologySpreadConstraints as Array<{ topologyKey: string }>;
      assert.deepEqual(spread.map((s) => s.topologyKey), ['kubernetes.io/hostname', 'topology.kubernetes.io/zone']);
      assert.deepEqual((find(m, 'PodDisruptionBudget') as unknown as { spec: { maxUnavailable: number } }).spec.maxUnavailable, 1);
      const svc = find(m, 'Service', 'crdns') as unknown as { spec: { type: string; ports: unknown[] } };
      assert.equal(svc.spec.type, 'ClusterIP');
      assert.deepEqual(svc.spec.ports, [
        { name: 'dns', port: 53, targetPort: 'dns', protocol: 'UDP' },
        { name: 'dns-tcp', port: 53, targetPort: 'dns-tcp', protocol: 'TCP' },
      ]);
    });

    it('binds exactly files/rbac-rules.yaml cluster-wide to the ServiceAccount', () => {
      const role = find(m, 'ClusterRole') as unknown as { rules: unknown };
      assert.deepEqual(role.rules, rbacRules());
      const binding = find(m, 'ClusterRoleBinding') as unknown as { subjects: unknown };
      assert.deepEqual(binding.subjects, [{ kind: 'ServiceAccount', name: 'crdns', namespace: 'crdns-system' }]);
    });

    it('installs the CRD from files/ and keeps it on uninstall', () => {
      const crd = find(m, 'CustomResourceDefinition');
      assert.equal(crd.metadata.name, 'dnsendpoints.externaldns.k8s.io');
      assert.equal(crd.metadata.annotations?.['helm.sh/resource-policy'], 'keep');
      const fromFile = parseYaml(readFileSync(path.join(CHART(), 'files', 'crd-dnsendpoints.yaml'), 'utf8')) as { spec: unknown };
      assert.deepEqual((crd as unknown as { spec: unknown }).spec, fromFile.spec);
    });

    it('renders a Corefile with the zone, cache + serve_stale, reload and grpc to the socket', () => {
      const corefile = corefileOf(m);
      assert.match(corefile, /^example\.org:1053 \{$/m);
      assert.match(corefile, /^\s+reload 30s 15s$/m);
      assert.match(corefile, /^\s+serve_stale 1h verify 250ms 30s 2s$/m);
      assert.match(corefile, /^\s+success 9984 1 1\n\s+denial 9984 1 1$/m);
      assert.match(corefile, /^\s+grpc \. unix:\/\/\/var\/run\/crdns\/crdns\.sock$/m);
      assert.doesNotMatch(corefile, /forward|tls|dnssec/);
    });

    // A terminating pod must stop being a serving endpoint (CoreDNS's readiness fails once
    // lameduck begins; kube-proxy then drops the UDP conntrack entries to it) while CoreDNS still
    // answers, and all of it must fit in the grace period. Measured on the test node: not serving
    // 3.5-4 s after the delete; 3 s is left for the kubelet and kube-proxy (docs/helm.md, Rollouts).
    it('keeps CoreDNS answering after SIGTERM until the pod has stopped being a serving endpoint', () => {
      const lameduck = /^\s+lameduck (\d+)s$/m.exec(corefileOf(m));
      assert.ok(lameduck, 'a lameduck in whole seconds');
      const spec = podSpec(find(m, 'Deployment'));
      const coredns = spec.containers.find((c) => c.name === 'coredns');
      const probe = coredns?.readinessProbe as { periodSeconds: number; failureThreshold: number } | undefined;
      assert.ok(probe, 'CoreDNS has a readinessProbe');
      const notServingBy = probe.periodSeconds * probe.failureThreshold + 3;
      assert.ok(Number(lameduck[1]) >= notServingBy, `lameduck ${lameduck[1]}s, but the pod may serve until ${notServingBy}s`);
      const grace = (spec as unknown as { terminationGracePeriodSeconds: number }).terminationGracePeriodSeconds;
      assert.ok(grace >= Number(lameduck[1]) + 10, `terminationGracePeriodSeconds ${grace} leaves crdns under 10 s after lameduck`);
    });

    it('rolls the pods when the Corefile changes, and only then', async () => {
      const checksum = async (args: string[]) =>
        ((find(await render([...MINIMAL, ...args]), 'Deployment') as unknown as { spec: { template: { metadata: { annotations: Record<string, string> } } } }).spec.template.metadata
          .annotations['checksum/corefile']);
      const base = await checksum([]);
      assert.match(base ?? '', /^[0-9a-f]{64}$/);
      assert.equal(await checksum(['--set', 'replicaCount=5']), base);
      assert.notEqual(await checksum(['--set', 'coredns.cache.denialTtl=60']), base);
    });
  });

  describe('full-featured values (ci/full-values.yaml)', () => {
    let m: Manifest[];
    before(async () => {
      m = await render(FULL);
    });

    it('renders every optional object', () => {
      assert.deepEqual(kinds(m), [
        'ConfigMap', 'ConfigMap', 'CustomResourceDefinition', 'Deployment', 'NetworkPolicy', 'PodDisruptionBudget', 'PrometheusRule',
        'Role', 'Role', 'RoleBinding', 'RoleBinding', 'Service', 'Service', 'Service', 'ServiceAccount', 'ServiceMonitor',
      ]);
    });

    it('renders the name policy into a file crdns reads, passes the flag, and rolls the pods when it changes', () => {
      const cm = m.find((x) => x.kind === 'ConfigMap' && (x as unknown as { data?: Record<string, string> }).data?.['name-policy.yaml'] !== undefined);
      assert.ok(cm, 'a ConfigMap holds name-policy.yaml');
      const text = (cm as unknown as { data: Record<string, string> }).data['name-policy.yaml'] as string;
      const policy = NamePolicy.parse(text);
      assert.equal(policy.check('x.a.example.org', 'team-a'), undefined);
      assert.ok(policy.check('x.a.example.org', 'team-b') !== undefined);
      const deployment = find(m, 'Deployment');
      const crdns = [...(podSpec(deployment).initContainers ?? []), ...podSpec(deployment).containers].find((c) => c.name === 'crdns');
      assert.ok(crdns?.args?.includes('--name-policy=/etc/crdns/policy/name-policy.yaml'));
      assert.match((deployment as unknown as { spec: { template: { metadata: { annotations: Record<string, string> } } } }).spec.template.metadata.annotations['checksum/name-policy'] ?? '', /^[0-9a-f]{64}$/);
    });

    it('watches only the listed namespaces: one Role per namespace, nothing cluster-wide', () => {
      const roles = m.filter((x) => x.kind === 'Role');
      assert.deepEqual(roles.map((r) => r.metadata.namespace).sort(), ['team-a', 'team-b']);
      for (const r of roles) assert.deepEqual((r as unknown as { rules: unknown }).rules, rbacRules());
      assert.ok(!m.some((x) => x.kind === 'ClusterRole' || x.kind === 'ClusterRoleBinding'));
    });

    it('passes every crdns setting as a flag', () => {
      const args = podSpec(find(m, 'Deployment')).initContainers?.[0]?.args ?? [];
      for (const flag of [
        '--zone=example.org', '--zone=example.net', '--zone=2.0.192.in-addr.arpa', '--namespace=team-a', '--namespace=team-b',
        '--label-selector=dns.example.org/publish=true', '--default-ttl=120', '--ns=ns1.example.org', '--ns=ns2.example.org',
        '--soa-mname=ns1.example.org', '--soa-rname=hostmaster.example.org', '--soa-refresh=1800', '--soa-retry=300',
        '--soa-expire=1209600', '--soa-minimum=30', '--soa-ttl=1800', '--log-level=debug',
        '--snapshot-file=/var/lib/crdns/snapshot.json', '--snapshot-wait=5',
      ]) {
        assert.ok(args.includes(flag), `missing ${flag} in ${args.join(' ')}`);
      }
    });

    it('exposes DNS through a LoadBalancer with its settings, and peering through its own Service', () => {
      const svc = find(m, 'Service', 'crdns') as unknown as { metadata: Manifest['metadata']; spec: Record<string, unknown> };
      assert.equal(svc.spec['type'], 'LoadBalancer');
      assert.equal(svc.spec['loadBalancerIP'], '10.0.0.53');
      assert.equal(svc.spec['externalTrafficPolicy'], 'Local');
      assert.equal(svc.metadata.annotations?.['metallb.universe.tf/address-pool'], 'dns');
      const peering = find(m, 'Service', 'crdns-peering') as unknown as { spec: { ports: unknown[] } };
      assert.deepEqual(peering.spec.ports, [{ name: 'grpc', port: 8443, targetPort: 'peering', protocol: 'TCP', appProtocol: 'grpc' }]);
    });

    it('renders the tiered TLS fallback, the mTLS peering listener, DNSSEC and the extra snippets', () => {
      const corefile = corefileOf(m);
      assert.match(corefile, /^example\.org:1053 example\.net:1053 2\.0\.192\.in-addr\.arpa:1053 \{$/m);
      assert.match(corefile, /forward \. 127\.0\.0\.1:1054 127\.0\.0\.1:1055 \{\n\s+policy sequential\n\s+failover SERVFAIL\n\s+max_fails 0\n/);
      assert.match(corefile, /:1054 \{\n\s+bind 127\.0\.0\.1\n[\s\S]*?grpc \. unix:\/\/\/var\/run\/crdns\/crdns\.sock\n\}/);
      assert.match(corefile, /grpc \. 10\.20\.0\.10:8443 \[fd00::10\]:8443 \{\n\s+tls \/etc\/crdns\/peering-tls\/tls\.crt \/etc\/crdns\/peering-tls\/tls\.key \/etc\/crdns\/peering-tls\/ca\.crt\n\s+tls_servername crdns-peer\.example\.org\n\s+policy sequential/);
      assert.match(corefile, /^grpc:\/\/example\.org:8443 grpc:\/\/example\.net:8443 grpc:\/\/2\.0\.192\.in-addr\.arpa:8443 \{$/m);
      assert.match(corefile, /client_auth require_and_verify/);
      assert.match(corefile, /key file \/etc\/coredns\/dnssec\/Kexample\.org\.\+013\+45330/);
      assert.match(corefile, /^ {4}any\n {4}header \{\n {6}response set ra\n {4}\}$/m);
      assert.match(corefile, /^whoami\.invalid:1053 \{$/m);
      assert.match(corefile, /^\s+prefetch 10 1m 10%$/m);
      assert.match(corefile, /^\s+serve_stale 1h immediate 30s 2s$/m);
      assert.match(corefile, /^\s+log$/m);
      assert.match(corefile, /^\s+loadbalance$/m);
    });

    it('mounts the DNSSEC keys under their dnssec-keygen names and the peering certificate', () => {
      const spec = podSpec(find(m, 'Deployment'));
      const keys = spec.volumes?.find((v) => v.name === 'dnssec-keys') as { secret: { secretName: string; items: unknown[] } } | undefined;
      assert.equal(keys?.secret.secretName, 'dnssec-keys');
      assert.deepEqual(keys?.secret.items, [
        { key: 'example.org.key', path: 'Kexample.org.+013+45330.key' },
        { key: 'example.org.private', path: 'Kexample.org.+013+45330.private' },
      ]);
      const tls = spec.volumes?.find((v) => v.name === 'peering-tls') as { secret: { secretName: string } } | undefined;
      assert.equal(tls?.secret.secretName, 'peering-tls');
      const mounts = spec.containers[0]?.volumeMounts?.map((v) => v.mountPath);
      assert.ok(mounts?.includes('/etc/coredns/dnssec') && mounts.includes('/etc/crdns/peering-tls'));
    });

    it('alerts on crdns not ready, invalid endpoints, snapshot age and SERVFAIL ratio', () => {
      const rule = find(m, 'PrometheusRule') as unknown as { spec: { groups: Array<{ rules: Array<{ alert: string; expr: string }> }> } };
      const rules = rule.spec.groups[0]?.rules ?? [];
      assert.deepEqual(rules.map((r) => r.alert), ['CrdnsNotReady', 'CrdnsDown', 'CrdnsInvalidEndpoints', 'CrdnsSnapshotOld', 'CrdnsHighServfailRatio']);
      const sel = 'namespace="crdns-system",job="crdns-metrics"';
      assert.equal(rules[0]?.expr, `max by (namespace, pod) (crdns_ready{${sel}}) == 0`);
      assert.match(rules[4]?.expr ?? '', new RegExp(`coredns_dns_responses_total\\{${sel.replace(/[.]/g, '\\.')},rcode="SERVFAIL"\\}`));
    });

    it('ships the Grafana dashboard as valid JSON', () => {
      const cm = find(m, 'ConfigMap', 'crdns-dashboard') as unknown as { data: Record<string, string>; metadata: Manifest['metadata'] };
      const dash = JSON.parse(cm.data['crdns.json'] ?? '') as { panels: unknown[]; uid: string };
      assert.equal(dash.uid, 'crdns');
      assert.ok(dash.panels.length >= 10);
      assert.equal(cm.metadata.labels?.['grafana_dashboard'], '1');
    });

    it('limits ingress to the DNS, metrics and peering ports and egress to the API server and the peers', () => {
      const np = find(m, 'NetworkPolicy') as unknown as { spec: { policyTypes: string[]; ingress: unknown[]; egress: Array<{ to?: unknown[]; ports: unknown[] }> } };
      assert.deepEqual(np.spec.policyTypes, ['Ingress', 'Egress']);
      assert.equal(np.spec.ingress.length, 3);
      assert.deepEqual(np.spec.egress.map((e) => e.to), [
        [{ ipBlock: { cidr: '10.0.0.1/32' } }],
        [{ ipBlock: { cidr: '10.20.0.10/32' } }],
        [{ ipBlock: { cidr: 'fd00::10/128' } }],
      ]);
      assert.deepEqual(np.spec.egress[1]?.ports, [{ port: 8443, protocol: 'TCP' }]);
    });
  });

  it('crdns.workers: one socket per worker for crdns, and CoreDNS takes turns over them everywhere it dials crdns', async () => {
    const m = await render([...MINIMAL, '--set', 'crdns.workers=3', '--set', 'peering.serve=true', '--set', 'peering.tls.enabled=false']);
    const crdns = podSpec(find(m, 'Deployment')).initContainers?.find((c) => c.name === 'crdns');
    assert.ok(crdns?.args?.includes('--listen=unix:///var/run/crdns/crdns-{worker}.sock'), JSON.stringify(crdns?.args));
    assert.ok(crdns?.args?.includes('--workers=3'));
    const corefile = corefileOf(m);
    const targets = 'unix:///var/run/crdns/crdns-0.sock unix:///var/run/crdns/crdns-1.sock unix:///var/run/crdns/crdns-2.sock';
    const lines = corefile.split('\n').filter((l) => l.trim().startsWith('grpc . '));
    assert.equal(lines.length, 2, 'the zone block and the peering listener');
    for (const l of lines) assert.equal(l.trim(), `grpc . ${targets} {`);
    assert.equal(corefile.match(/policy round_robin/g)?.length, 2);
    const one = await render(MINIMAL);
    assert.ok(podSpec(find(one, 'Deployment')).initContainers?.find((c) => c.name === 'crdns')?.args?.includes('--listen=unix:///var/run/crdns/crdns.sock'));
    assert.doesNotMatch(JSON.stringify(one), /--workers|round_robin/, 'one worker renders as before');
  });

  it('plaintext peering: one grpc line, local socket first, no forward tiers', async () => {
    const corefile = corefileOf(await render(['-f', CI_VALUES('peering-plaintext')]));
    assert.match(corefile, /grpc \. unix:\/\/\/var\/run\/crdns\/crdns\.sock 10\.20\.0\.10:8443 \{\n\s+policy sequential\n\s+\}/);
    assert.doesNotMatch(corefile, /forward|tls/);
    assert.match(corefile, /^grpc:\/\/example\.org:8443 \{$/m);
  });

  describe('peer clusters (ci/peers-values.yaml)', () => {
    let m: Manifest[];
    before(async () => {
      m = await render(PEERS);
    });

    const crdnsOf = (manifests: Manifest[]) => {
      const c = podSpec(find(manifests, 'Deployment')).initContainers?.find((x) => x.name === 'crdns');
      if (!c) throw new Error('no crdns container');
      return c;
    };
    const peerReaderRules = [{ apiGroups: ['externaldns.k8s.io'], resources: ['dnsendpoints'], verbs: ['get', 'list', 'watch'] }];

    it('passes --cluster, one --peer per peer with its kubeconfig path, and the non-default peer settings', () => {
      const args = crdnsOf(m).args ?? [];
      const peerFlags = args.filter((a) => a.startsWith('--cluster') || a.startsWith('--peer'));
      assert.deepEqual(peerFlags, [
        '--cluster=a',
        '--peer=b=/etc/crdns/peers/b/kubeconfig',
        '--peer=c=/etc/crdns/peers/c/c.kubeconfig',
        '--peer-grace=60',
        '--peer-orphans=withdraw',
      ]);
    });

    it('mounts each peer Secret as a read-only directory (no subPath, so rotation reaches the file), in crdns only', () => {
      const spec = podSpec(find(m, 'Deployment'));
      const mounts = (crdnsOf(m).volumeMounts ?? []) as Array<{ name: string; mountPath: string; readOnly?: boolean; subPath?: string; subPathExpr?: string }>;
      const peerMounts = mounts.filter((v) => v.name.startsWith('peer-'));
      assert.deepEqual(peerMounts, [
        { name: 'peer-b', mountPath: '/etc/crdns/peers/b', readOnly: true },
        { name: 'peer-c', mountPath: '/etc/crdns/peers/c', readOnly: true },
      ]);
      for (const c of [...(spec.initContainers ?? []), ...spec.containers]) {
        for (const v of (c.volumeMounts ?? []) as Array<{ name: string; subPath?: string; subPathExpr?: string }>) {
          if (v.name.startsWith('peer-')) assert.equal(c.name, 'crdns', `${v.name} is mounted into ${c.name}`);
          assert.equal(v.subPath ?? v.subPathExpr, undefined, `${c.name} mounts ${v.name} with subPath`);
        }
      }
      const volumes = spec.volumes?.filter((v) => v.name.startsWith('peer-'));
      // defaultMode is left out: the chart writes 0440, which Kubernetes reads
      // as YAML 1.1 octal and this parser as YAML 1.2 decimal. peer-reader.test.ts
      // reads the mode back from the API server.
      const withoutMode = volumes?.map((v) => {
        const { defaultMode: _mode, ...secret } = v['secret'] as Record<string, unknown>;
        return { ...v, secret };
      });
      assert.deepEqual(withoutMode, [
        { name: 'peer-b', secret: { secretName: 'crdns-peer-b', items: [{ key: 'kubeconfig', path: 'kubeconfig' }] } },
        { name: 'peer-c', secret: { secretName: 'crdns-peers', items: [{ key: 'c.kubeconfig', path: 'c.kubeconfig' }] } },
      ]);
      // Every --peer path is a file inside one of those directory mounts.
      for (const flag of (crdnsOf(m).args ?? []).filter((a) => a.startsWith('--peer='))) {
        const file = flag.split('=')[2] ?? '';
        const mount = peerMounts.find((v) => file === `${v.mountPath}/${path.basename(file)}`);
        const items = (volumes?.find((v) => v.name === mount?.name) as { secret: { items: Array<{ path: string }> } } | undefined)?.secret.items;
        assert.ok(items?.some((i) => i.path === path.basename(file)), `${flag} names a file the Secret volume provides`);
      }
    });

    it('does not roll the pods when a peer kubeconfig rotates: no checksum of the peer Secrets', () => {
      const annotations = (find(m, 'Deployment') as unknown as { spec: { template: { metadata: { annotations: Record<string, string> } } } }).spec.template.metadata.annotations;
      assert.deepEqual(Object.keys(annotations), ['checksum/corefile']);
    });

    it('passes --peer-grace and --peer-orphans only when they differ from crdns\'s defaults', async () => {
      const withDefaults = crdnsOf(await render([...PEERS, '--set', 'crdns.peerGrace=30', '--set', 'crdns.peerOrphans=keep'])).args ?? [];
      assert.ok(!withDefaults.some((a) => a.startsWith('--peer-grace') || a.startsWith('--peer-orphans')), withDefaults.join(' '));
      assert.ok(withDefaults.includes('--peer=b=/etc/crdns/peers/b/kubeconfig'));
      const changed = crdnsOf(await render([...MINIMAL, '--set', 'crdns.peerGrace=5'])).args ?? [];
      assert.ok(changed.includes('--peer-grace=5'), changed.join(' '));
      assert.ok(!changed.some((a) => a.startsWith('--peer=') || a.startsWith('--cluster')), 'no peers, no cluster name: neither flag');
    });

    it('refuses duplicate peer names, a peer named like this cluster, and peers without cluster.name, saying why', async () => {
      const peer = (i: number, name: string, secret: string) => ['--set', `peers[${i}].name=${name}`, '--set', `peers[${i}].secretName=${secret}`];
      const bad: Array<[string[], RegExp]> = [
        [['--set', 'cluster.name=a', ...peer(0, 'b', 's1'), ...peer(1, 'c', 's2'), ...peer(2, 'b', 's3')], /peers: the name "b" is listed more than once; each peer cluster needs a name of its own/],
        [['--set', 'cluster.name=a', ...peer(0, 'a', 's1')], /peers: "a" is this cluster's own name \(cluster\.name\)/],
        [peer(0, 'b', 's1'), /cluster\.name: set this cluster's name \(the name its peers list it under\) when peers are set/],
      ];
      for (const [args, why] of bad) {
        const r = await helm(['template', 'x', CHART(), '--kube-version', KUBE_VERSION, ...MINIMAL, ...args]);
        assert.notEqual(r.code, 0, `${args.join(' ')} should be refused`);
        assert.match(r.stderr, why, `${args.join(' ')}: ${r.stderr}`);
      }
      // The same values with distinct names render.
      const ok = await helm(['template', 'x', CHART(), '--kube-version', KUBE_VERSION, ...MINIMAL, '--set', 'cluster.name=a', ...peer(0, 'b', 's1'), ...peer(1, 'c', 's1')]);
      assert.equal(ok.code, 0, ok.stderr);
    });

    it('rejects peer and cluster names that are not DNS labels, peers without a Secret, and unknown orphan modes', async () => {
      const bad: Array<[string[], RegExp]> = [
        [['--set', 'cluster.name=a', '--set', 'peers[0].name=Peer_B', '--set', 'peers[0].secretName=s'], /at '\/peers\/0\/name': 'Peer_B' does not match pattern/],
        [['--set', 'cluster.name=a', '--set', 'peers[0].name=b'], /at '\/peers\/0': missing property 'secretName'/],
        [['--set', 'cluster.name=a', '--set', 'peers[0].name=b', '--set', 'peers[0].secretName=s', '--set', 'peers[0].key=../x'], /at '\/peers\/0\/key'/],
        [['--set', 'cluster.name=a', '--set', 'peers[0].name=b', '--set', 'peers[0].secretName=s', '--set', 'peers[0].kubeconfig=x'], /additional properties 'kubeconfig' not allowed/],
        [['--set', 'cluster.name=Cluster.A'], /at '\/cluster\/name': 'Cluster\.A' does not match pattern/],
        [['--set', 'crdns.peerOrphans=drop'], /at '\/crdns\/peerOrphans'/],
        [['--set', 'crdns.peerGrace=0'], /at '\/crdns\/peerGrace': minimum/],
      ];
      for (const [args, why] of bad) {
        const r = await helm(['template', 'x', CHART(), '--kube-version', KUBE_VERSION, ...MINIMAL, ...args]);
        assert.notEqual(r.code, 0, `${args.join(' ')} should be rejected`);
        assert.match(r.stderr, why, `${args.join(' ')}: ${r.stderr}`);
      }
    });

    it('renders the peer reader: a ServiceAccount without automounted token, bound cluster-wide to exactly get/list/watch dnsendpoints', () => {
      const objects = m.filter((x) => x.metadata.name === 'crdns-peer-reader').map((x) => x.kind).sort();
      assert.deepEqual(objects, ['ClusterRole', 'ClusterRoleBinding', 'ServiceAccount']);
      const sa = find(m, 'ServiceAccount', 'crdns-peer-reader') as unknown as { metadata: Manifest['metadata']; automountServiceAccountToken: boolean };
      assert.equal(sa.metadata.namespace, 'crdns-system');
      assert.equal(sa.automountServiceAccountToken, false);
      assert.deepEqual((find(m, 'ClusterRole', 'crdns-peer-reader') as unknown as { rules: unknown }).rules, peerReaderRules);
      const binding = find(m, 'ClusterRoleBinding', 'crdns-peer-reader') as unknown as { roleRef: unknown; subjects: unknown };
      assert.deepEqual(binding.roleRef, { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'crdns-peer-reader' });
      assert.deepEqual(binding.subjects, [{ kind: 'ServiceAccount', name: 'crdns-peer-reader', namespace: 'crdns-system' }]);
      // crdns's own RBAC is untouched by it.
      assert.deepEqual((find(m, 'ClusterRole', 'crdns') as unknown as { rules: unknown }).rules, rbacRules());
    });

    it('scopes the peer reader like crdns: one Role per watched namespace and nothing cluster-wide', async () => {
      const scoped = await render([...PEERS, '--set', 'crdns.watchNamespaces={team-a,team-b}']);
      const reader = scoped.filter((x) => x.metadata.name === 'crdns-peer-reader');
      assert.deepEqual(reader.map((x) => `${x.kind}/${x.metadata.namespace}`).sort(), [
        'Role/team-a', 'Role/team-b', 'RoleBinding/team-a', 'RoleBinding/team-b', 'ServiceAccount/crdns-system',
      ]);
      for (const r of reader.filter((x) => x.kind === 'Role')) assert.deepEqual((r as unknown as { rules: unknown }).rules, peerReaderRules);
      for (const b of reader.filter((x) => x.kind === 'RoleBinding')) {
        assert.deepEqual((b as unknown as { subjects: unknown }).subjects, [{ kind: 'ServiceAccount', name: 'crdns-peer-reader', namespace: 'crdns-system' }]);
      }
      assert.ok(!scoped.some((x) => x.kind === 'ClusterRole' || x.kind === 'ClusterRoleBinding'));
    });

    it('renders an older release\'s values unchanged (helm upgrade --reuse-values passes them without the new keys)', async () => {
      // --set KEY=null deletes the key, as values saved by the previous chart lack it.
      const old = await render([...MINIMAL, '--set', 'cluster=null', '--set', 'peers=null', '--set', 'peerReader=null', '--set', 'crdns.peerGrace=null', '--set', 'crdns.peerOrphans=null', '--set', 'crdns.snapshot=null']);
      assert.deepEqual(old, await render(MINIMAL));
    });

    it('renders no peer reader and no peer volumes by default', async () => {
      const plain = await render(MINIMAL);
      assert.ok(!plain.some((x) => x.metadata.name.endsWith('-peer-reader')));
      assert.ok(!podSpec(find(plain, 'Deployment')).volumes?.some((v) => v.name.startsWith('peer-')));
    });
  });
  describe('warm restart (crdns.snapshot)', () => {
    const SNAP = [...MINIMAL, '--set', 'crdns.snapshot.enabled=true'];
    const volumeOf = (spec: ReturnType<typeof podSpec>) => spec.volumes?.find((v) => v.name === 'snapshot');

    it('is off by default: no flag, no volume', async () => {
      const spec = podSpec(find(await render(MINIMAL), 'Deployment'));
      assert.ok(!spec.initContainers?.[0]?.args?.some((a) => a.startsWith('--snapshot')));
      assert.equal(volumeOf(spec), undefined);
    });

    it('passes --snapshot-file and --snapshot-wait and mounts a writable emptyDir at the folder, in crdns only', async () => {
      const spec = podSpec(find(await render(SNAP), 'Deployment'));
      const crdns = spec.initContainers?.[0];
      assert.deepEqual(crdns?.args?.filter((a) => a.startsWith('--snapshot')), ['--snapshot-file=/var/lib/crdns/snapshot.json', '--snapshot-wait=3']);
      assert.deepEqual(crdns?.volumeMounts?.find((v) => v.name === 'snapshot'), { name: 'snapshot', mountPath: '/var/lib/crdns' });
      assert.ok(!spec.containers[0]?.volumeMounts?.some((v) => v.name === 'snapshot'), 'CoreDNS does not see it');
      assert.deepEqual(volumeOf(spec), { name: 'snapshot', emptyDir: { sizeLimit: '256Mi' } });
    });

    it('puts the file on the node (hostPath) or in an existing claim, and follows dir and waitSeconds', async () => {
      const host = podSpec(find(await render([...SNAP, '--set', 'crdns.snapshot.hostPath=/var/lib/crdns-dns', '--set', 'crdns.snapshot.dir=/data', '--set', 'crdns.snapshot.waitSeconds=0']), 'Deployment'));
      assert.deepEqual(volumeOf(host), { name: 'snapshot', hostPath: { path: '/var/lib/crdns-dns', type: 'Directory' } });
      assert.deepEqual(host.initContainers?.[0]?.args?.filter((a) => a.startsWith('--snapshot')), ['--snapshot-file=/data/snapshot.json', '--snapshot-wait=0']);
      assert.ok(host.initContainers?.[0]?.volumeMounts?.some((v) => v.name === 'snapshot' && v.mountPath === '/data'));
      const pvc = podSpec(find(await render([...SNAP, '--set', 'crdns.snapshot.existingClaim=crdns-snapshot']), 'Deployment'));
      assert.deepEqual(volumeOf(pvc), { name: 'snapshot', persistentVolumeClaim: { claimName: 'crdns-snapshot' } });
    });

    it('refuses both a hostPath and a claim, a relative folder, and unknown keys', async () => {
      const bad: Array<[string[], RegExp]> = [
        [['--set', 'crdns.snapshot.hostPath=/x', '--set', 'crdns.snapshot.existingClaim=c'], /crdns\.snapshot: set hostPath or existingClaim, not both/],
        [['--set', 'crdns.snapshot.dir=var/lib'], /at '\/crdns\/snapshot\/dir'/],
        [['--set', 'crdns.snapshot.waitSeconds=5000'], /at '\/crdns\/snapshot\/waitSeconds': maximum/],
        [['--set', 'crdns.snapshot.volume.emptyDir.medium=Memory'], /additional properties 'volume' not allowed/],
      ];
      for (const [args, why] of bad) {
        const r = await helm(['template', 'x', CHART(), '--kube-version', KUBE_VERSION, ...SNAP, ...args]);
        assert.notEqual(r.code, 0, `${args.join(' ')} should be rejected`);
        assert.match(r.stderr, why, `${args.join(' ')}: ${r.stderr}`);
      }
    });
  });
});
