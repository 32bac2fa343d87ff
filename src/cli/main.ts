#!/usr/bin/env node
/** The crdns command: serve, query, check, probe. */
import { check, CHECK_USAGE } from './check.js';
import { UsageError } from './options.js';
import { probe, PROBE_USAGE } from './probe.js';
import { query, QUERY_USAGE } from './query.js';
import { serve, SERVE_USAGE } from './serve.js';
import { crdnsVersion } from './version.js';

const COMMANDS: Record<string, { run: (argv: readonly string[], env: NodeJS.ProcessEnv) => Promise<number>; usage: string; summary: string }> = {
  serve: { run: serve, usage: SERVE_USAGE, summary: 'answer authoritative DNS over the CoreDNS grpc contract' },
  query: { run: query, usage: QUERY_USAGE, summary: 'ask a crdns one question over gRPC, dig-style' },
  check: { run: check, usage: CHECK_USAGE, summary: 'validate DNSEndpoint manifests offline' },
  probe: { run: probe, usage: PROBE_USAGE, summary: 'own records, change them, query servers and grade every answer (resilience runs)' },
};

function mainHelp(): string {
  const rows = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(8)} ${c.summary}`);
  return `Usage: crdns COMMAND [flags]\n\nCommands:\n${rows.join('\n')}\n\nRun "crdns COMMAND --help" for a command's flags. "crdns --version" prints the version.\n`;
}

async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  if (cmd === undefined || cmd === '--help' || cmd === '-h' || cmd === 'help') {
    process.stdout.write(mainHelp());
    return cmd === undefined ? 2 : 0;
  }
  if (cmd === '--version' || cmd === 'version') {
    process.stdout.write(`crdns ${crdnsVersion()}\n`);
    return 0;
  }
  const command = COMMANDS[cmd];
  if (!command) {
    process.stderr.write(`crdns: unknown command "${cmd}"\n\n${mainHelp()}`);
    return 2;
  }
  try {
    return await command.run(rest, process.env);
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(err.showUsage ? `crdns ${cmd}: ${err.message}\n\n${command.usage}` : `crdns ${cmd}: ${err.message}\n`);
      return 2;
    }
    process.stderr.write(`crdns ${cmd}: ${(err as Error).message}\n`);
    return 1;
  }
}

// A reader that went away (`crdns query ... | head -1`) is no error of ours: stop quietly, as dig does.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(0);
  throw err;
});

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`crdns: ${String(err)}\n`);
    process.exit(1);
  },
);
