/**
 * Command-line flags with environment fallbacks (CRDNS_<FLAG>, comma lists for
 * repeatable flags), so the same settings work from a shell and from a
 * container spec. A flag given on the command line wins over the environment.
 *
 * Every value is checked here, against its spec, before a command acts on any
 * of them: a number outside its range or a boolean spelt some other way is a
 * UsageError, never a value quietly taken for something else.
 */
import { parseArgs } from 'node:util';

export interface FlagSpec {
  name: string;
  kind: 'string' | 'list' | 'int' | 'boolean';
  help: string;
  default?: string;
  /** Placeholder in help text. */
  arg?: string;
  /** Smallest value an int flag accepts (default 0: ints are whole numbers). */
  min?: number;
  /** Largest value an int flag accepts (default 2^31-1, the largest TTL RFC 2181 §8 allows). */
  max?: number;
}

/**
 * A command line or environment that cannot work: exit status 2. `showUsage`
 * is false when the help text would not help (a missing file, a taken port).
 */
export class UsageError extends Error {
  constructor(message: string, readonly showUsage = true) {
    super(message);
  }
}

export type FlagValues = Record<string, string | string[] | number | boolean | undefined>;

export interface ParsedFlags {
  values: FlagValues;
  positionals: string[];
  /** Flags set on the command line or in the environment, as opposed to left at their default. */
  given: Set<string>;
}

export const MAX_INT31 = 2 ** 31 - 1;

/** The spellings a boolean accepts in the environment; anything else is refused rather than read as false. */
const TRUE_WORDS = ['1', 'true', 'yes'];
const FALSE_WORDS = ['0', 'false', 'no'];

export function envName(flag: string): string {
  return `CRDNS_${flag.toUpperCase().replace(/-/g, '_')}`;
}

export function parseFlags(specs: readonly FlagSpec[], argv: readonly string[], env: NodeJS.ProcessEnv): ParsedFlags {
  const options: Record<string, { type: 'string' | 'boolean'; multiple?: boolean }> = { help: { type: 'boolean' } };
  for (const s of specs) options[s.name] = s.kind === 'boolean' ? { type: 'boolean' } : { type: 'string', ...(s.kind === 'list' ? { multiple: true } : {}) };
  let parsed;
  try {
    parsed = parseArgs({ args: [...argv], options, allowPositionals: true, strict: true });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const values: FlagValues = { help: parsed.values.help === true };
  const given = new Set<string>();
  for (const s of specs) {
    const cli = parsed.values[s.name] as string | string[] | boolean | undefined;
    // An empty variable is unset: container specs often template a variable to "" to mean "not configured".
    const rawEnv = env[envName(s.name)];
    const fromEnv = rawEnv === '' ? undefined : rawEnv;
    if (cli !== undefined || fromEnv !== undefined) given.add(s.name);
    switch (s.kind) {
      case 'boolean':
        values[s.name] = cli === true || (cli === undefined && fromEnv !== undefined && envBoolean(s.name, fromEnv));
        break;
      case 'list': {
        const list = (cli as string[] | undefined) ?? (fromEnv !== undefined ? fromEnv.split(',') : s.default !== undefined ? [s.default] : []);
        values[s.name] = list.map((v) => v.trim()).filter((v) => v !== '');
        break;
      }
      case 'int': {
        const raw = (cli as string | undefined) ?? fromEnv ?? s.default;
        if (raw === undefined) break;
        values[s.name] = intValue(s, raw, cli === undefined && fromEnv !== undefined ? envName(s.name) : undefined);
        break;
      }
      default:
        values[s.name] = (cli as string | undefined) ?? fromEnv ?? s.default;
    }
  }
  return { values, positionals: parsed.positionals, given };
}

function intValue(s: FlagSpec, raw: string, fromEnv: string | undefined): number {
  const where = fromEnv ? ` (from ${fromEnv})` : '';
  if (!/^\d+$/.test(raw.trim())) throw new UsageError(`--${s.name} must be a whole number, not "${raw}"${where}`);
  const n = Number(raw.trim());
  const min = s.min ?? 0;
  const max = s.max ?? MAX_INT31;
  if (n < min || n > max) throw new UsageError(`--${s.name} must be from ${min} to ${max}, not ${raw.trim()}${where}`);
  return n;
}

function envBoolean(flag: string, raw: string): boolean {
  const v = raw.trim().toLowerCase();
  if (TRUE_WORDS.includes(v)) return true;
  if (FALSE_WORDS.includes(v)) return false;
  throw new UsageError(`${envName(flag)} must be one of ${[...TRUE_WORDS, ...FALSE_WORDS].join(', ')} (or empty), not "${raw}"`);
}

export function helpText(usage: string, summary: string, specs: readonly FlagSpec[]): string {
  const rows = specs.map((s) => {
    const left = `  --${s.name}${s.kind === 'boolean' ? '' : ` ${s.arg ?? 'VALUE'}`}`;
    const env = ` [${envName(s.name)}]`;
    const range = s.kind === 'int' ? ` (${s.min ?? 0}..${s.max ?? MAX_INT31})` : '';
    const def = s.default !== undefined ? ` (default ${s.default})` : '';
    return `${left.padEnd(30)} ${s.help}${range}${def}${env}`;
  });
  return `Usage: ${usage}\n\n${summary}\n\nFlags (environment variable in brackets):\n${rows.join('\n')}\n  --help                       show this help\n`;
}
