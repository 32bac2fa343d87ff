/** `--name-policy`, shared by `serve` and `check`: which namespaces may publish which names. */
import { readFileSync } from 'node:fs';
import { NamePolicy } from '../endpoint/name-policy.js';
import { UsageError, type FlagSpec, type FlagValues } from './options.js';

export const POLICY_FLAGS: FlagSpec[] = [
  { name: 'name-policy', kind: 'string', arg: 'FILE', help: 'YAML rules saying which namespaces may publish which names (default: unrestricted)' },
];

/** The policy named by the flag, read once at start; undefined without the flag. */
export function policyFromFlags(v: FlagValues): NamePolicy | undefined {
  const file = v['name-policy'] as string | undefined;
  if (!file) return undefined;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new UsageError(`--name-policy: cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  try {
    return NamePolicy.parse(text, file);
  } catch (err) {
    throw new UsageError(`--name-policy: ${(err as Error).message}`);
  }
}
