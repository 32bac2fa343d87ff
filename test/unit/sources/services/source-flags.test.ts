/** --source, --annotation-prefix and --health-hold-down as `crdns serve` parses them. */
import assert from 'node:assert/strict';
import { parseFlags, UsageError } from '../../../../src/cli/options.js';
import { SOURCE_FLAGS, sourceFlags } from '../../../../src/cli/source-flags.js';
import { DEFAULT_ANNOTATION_PREFIXES } from '../../../../src/sources/services/annotations.js';

const parse = (argv: string[], env: NodeJS.ProcessEnv = {}) => sourceFlags(parseFlags(SOURCE_FLAGS, argv, env).values);

describe('services: source flags', () => {
  it('defaults: dnsendpoint, both ExternalDNS prefixes, 5 s hold-down', () => {
    assert.deepEqual(parse([]), { kinds: ['dnsendpoint'], annotationPrefixes: DEFAULT_ANNOTATION_PREFIXES, holdDownMs: 5000 });
  });

  it('without the flag specs at all (not yet in SERVE_FLAGS) the same defaults', () => {
    assert.deepEqual(sourceFlags({}), { kinds: ['dnsendpoint'], annotationPrefixes: DEFAULT_ANNOTATION_PREFIXES, holdDownMs: 5000 });
  });

  it('repeatable, case-insensitive, deduplicated; from the environment as a comma list', () => {
    assert.deepEqual(parse(['--source', 'Service', '--source', 'ingress', '--source', 'service']).kinds, ['service', 'ingress']);
    assert.deepEqual(parse([], { CRDNS_SOURCE: 'dnsendpoint,service' }).kinds, ['dnsendpoint', 'service']);
    assert.deepEqual(parse(['--annotation-prefix', 'dns.example.com/', '--health-hold-down', '0']).annotationPrefixes, ['dns.example.com/']);
    assert.equal(parse(['--health-hold-down', '0']).holdDownMs, 0);
  });

  it('takes the Gateway API route kinds', () => {
    assert.deepEqual(parse(['--source', 'gateway-httproute', '--source', 'Gateway-GRPCRoute']).kinds, ['gateway-httproute', 'gateway-grpcroute']);
  });

  it('refuses unknown kinds (the other ExternalDNS route sources among them) and prefixes without the slash', () => {
    assert.throws(() => parse(['--source', 'pods']), (e: unknown) => e instanceof UsageError && /must be one of dnsendpoint, service, ingress, gateway-httproute, gateway-grpcroute/.test(e.message));
    assert.throws(() => parse(['--source', 'gateway-tlsroute']), UsageError);
    assert.throws(() => parse(['--annotation-prefix', 'external-dns.kubernetes.io']), UsageError);
    assert.throws(() => sourceFlags({ ...parseFlags(SOURCE_FLAGS, ['--source', 'service'], {}).values, manifests: '/tmp/x' }), /--manifests/);
  });
});
