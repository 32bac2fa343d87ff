/** `crdns probe` as a child process, with its stdin open for --events - and its output kept. */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { CRDNS_MAIN } from '../../harness/crdns-process.js';
import type { RunSummary, WindowSummary } from '../../../src/probe/summary.js';

export interface ProbeProcess {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves with the first match of `re` on stderr. */
  waitFor(re: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  event(label: string): void;
  exited: Promise<number>;
}

export function startProbe(args: string[]): ProbeProcess {
  // The test's environment minus CRDNS_*: a developer's shell must not change the run.
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('CRDNS_')));
  const child = spawn(process.execPath, [CRDNS_MAIN, 'probe', ...args], { env, stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number>((resolve) => child.once('exit', (code, signal) => resolve(code ?? (signal ? 128 : -1))));
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    waitFor: async (re, timeoutMs = 180_000) => {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const m = err.match(re);
        if (m) return m;
        if (child.exitCode !== null) throw new Error(`probe exited (${child.exitCode}) before ${re}:\n${err}\n${out}`);
        if (Date.now() > deadline) throw new Error(`probe: no ${re} in time:\n${err}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    event: (label) => child.stdin?.write(`${label}\n`),
    exited,
  };
}

export async function readSummary(file: string): Promise<RunSummary> {
  return JSON.parse(await readFile(file, 'utf8')) as RunSummary;
}

export function windowOf(s: RunSummary, server: number, name: WindowSummary['window']): WindowSummary {
  const w = s.servers[server]?.windows.find((x) => x.window === name);
  if (!w) throw new Error(`no ${name} window for server ${server}: ${JSON.stringify(s.servers[server]?.windows.map((x) => x.window))}`);
  return w;
}

/** Grades that say the data was wrong, whatever the timing: none of these may ever appear without chaos. */
export const DATA_ERRORS = ['wrong', 'missing', 'unexpected'] as const;
