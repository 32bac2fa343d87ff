#!/usr/bin/env node
/** The crdns command: serve, query, check, probe. */
import { UsageError } from './options.js';
import { crdnsVersion } from './version.js';

interface Command {
  run: (argv: readonly string[], env: NodeJS.ProcessEnv) => Promise<number>;
  usage: string;
}

// Each command is loaded only when it runs: `serve --manifests` must not pay
// for the Kubernetes client that `probe` (or serve's own Kubernetes sources,
// loaded the same way) needs, in start-up time or in resident memory.
const COMMANDS: Record<string, { load: () => Promise<Command>; summary: string }> = {
  serve: { load: async () => import('./serve.js').then((m) => ({ run: m.serve, usage: m.SERVE_USAGE })), summary: 'answer authoritative DNS over the CoreDNS grpc contract' },
  query: { load: async () => import('./query.js').then((m) => ({ run: m.query, usage: m.QUERY_USAGE })), summary: 'ask a crdns one question over gRPC, dig-style' },
  check: { load: async () => import('./check.js').then((m) => ({ run: m.check, usage: m.CHECK_USAGE })), summary: 'validate DNSEndpoint manifests offline' },
  probe: { load: async () => import('./probe.js').then((m) => ({ run: m.probe, usage: m.PROBE_USAGE })), summary: 'own records, change them, query servers and grade every answer (resilience runs)' },
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
  const entry = COMMANDS[cmd];
  if (!entry) {
    process.stderr.write(`crdns: unknown command "${cmd}"\n\n${mainHelp()}`);
    return 2;
  }
  const command = await entry.load();
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
