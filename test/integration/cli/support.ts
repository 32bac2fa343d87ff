/** What the command-line tests share: the real CLI as a child process, the examples, temp folders. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CRDNS_MAIN } from '../../harness/crdns-process.js';
import { run } from '../../harness/coredns.js';

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../..');
export const EXAMPLES = path.join(REPO, 'examples/manifests');
export const EXAMPLE_ZONES = ['5gc.mnc001.mcc001.3gppnetwork.org', 'ims.mnc001.mcc001.3gppnetwork.org', '0.10.in-addr.arpa', '1.0.0.0.0.0.0.0.0.0.d.f.ip6.arpa'];

export interface CliResult {
  code: number;
  out: string;
  err: string;
}

/**
 * Runs `crdns ARGS` to completion. The environment is the test's own minus
 * every CRDNS_* variable, so a developer's shell cannot change the outcome.
 */
export async function crdns(args: string[], env: NodeJS.ProcessEnv = {}, timeoutMs = 60_000): Promise<CliResult> {
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('CRDNS_')));
  const r = await run(process.execPath, [CRDNS_MAIN, ...args], { env: { ...base, ...env }, timeoutMs });
  return { code: r.code, out: r.stdout, err: r.stderr };
}

/** A fresh temp folder, removed by the returned function. */
export async function tempDir(prefix: string): Promise<{ dir: string; remove: () => Promise<void> }> {
  const dir = await mkdtemp(path.join(tmpdir(), `crdns-${prefix}-`));
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

/** A DNSEndpoint manifest with the given endpoints (YAML flow mappings). */
export function dnsEndpoint(name: string, endpoints: string[], namespace = 'default'): string {
  return `apiVersion: externaldns.k8s.io/v1alpha1
kind: DNSEndpoint
metadata: {name: ${name}, namespace: ${namespace}}
spec:
  endpoints:
${endpoints.map((e) => `  - ${e}`).join('\n')}
`;
}
