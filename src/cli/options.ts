/**
 * Command-line flags with environment fallbacks (CRDNS_<FLAG>, comma lists for
 * repeatable flags), so the same settings work from a shell and from a
 * container spec. A flag given on the command line wins over the environment.
 */
import { parseArgs } from 'node:util';

export interface FlagSpec {
  name: string;
  kind: 'string' | 'list' | 'int' | 'boolean';
  help: string;
  default?: string;
  /** Placeholder in help text. */
  arg?: string;
}

export class UsageError extends Error {}

export type FlagValues = Record<string, string | string[] | number | boolean | undefined>;

export function envName(flag: string): string {
  return `CRDNS_${flag.toUpperCase().replace(/-/g, '_')}`;
}

export function parseFlags(specs: readonly FlagSpec[], argv: readonly string[], env: NodeJS.ProcessEnv): { values: FlagValues; positionals: string[] } {
  const options: Record<string, { type: 'string' | 'boolean'; multiple?: boolean }> = { help: { type: 'boolean' } };
  for (const s of specs) options[s.name] = s.kind === 'boolean' ? { type: 'boolean' } : { type: 'string', ...(s.kind === 'list' ? { multiple: true } : {}) };
  let parsed;
  try {
    parsed = parseArgs({ args: [...argv], options, allowPositionals: true, strict: true });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const values: FlagValues = { help: parsed.values.help === true };
  for (const s of specs) {
    const cli = parsed.values[s.name] as string | string[] | boolean | undefined;
    const fromEnv = env[envName(s.name)];
    switch (s.kind) {
      case 'boolean':
        values[s.name] = cli === true || (cli === undefined && fromEnv !== undefined && /^(1|true|yes)$/i.test(fromEnv));
        break;
      case 'list': {
        const list = (cli as string[] | undefined) ?? (fromEnv !== undefined && fromEnv !== '' ? fromEnv.split(',') : s.default !== undefined ? [s.default] : []);
        values[s.name] = list.map((v) => v.trim()).filter((v) => v !== '');
        break;
      }
      case 'int': {
        const raw = (cli as string | undefined) ?? fromEnv ?? s.default;
        if (raw === undefined) break;
        if (!/^\d+$/.test(raw.trim())) throw new UsageError(`--${s.name} must be a whole number, not "${raw}"`);
        values[s.name] = Number(raw);
        break;
      }
      default:
        values[s.name] = (cli as string | undefined) ?? fromEnv ?? s.default;
    }
  }
  return { values, positionals: parsed.positionals };
}

export function helpText(usage: string, summary: string, specs: readonly FlagSpec[]): string {
  const rows = specs.map((s) => {
    const left = `  --${s.name}${s.kind === 'boolean' ? '' : ` ${s.arg ?? 'VALUE'}`}`;
    const env = ` [${envName(s.name)}]`;
    const def = s.default !== undefined ? ` (default ${s.default})` : '';
    return `${left.padEnd(30)} ${s.help}${def}${env}`;
  });
  return `Usage: ${usage}\n\n${summary}\n\nFlags (environment variable in brackets):\n${rows.join('\n')}\n  --help                       show this help\n`;
}
