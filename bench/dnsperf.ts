/**
 * Running dnsperf (Debian's) from a bench and reading its summary.
 */
import { spawn } from 'node:child_process';
import { requireTool } from '../test/harness/peers.js';

/**
 * dnsperf with these arguments; resolves to its output. With `onLine`, the
 * per-reply lines `-v` prints ("> NOERROR name type 0.000123") go to it as
 * they come instead of into the output, which would otherwise hold millions.
 */
export function dnsperf(args: string[], onLine?: (line: string) => void): Promise<string> {
  const cmd = requireTool('dnsperf');
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let pending = '';
    child.stdout.on('data', (d: Buffer) => {
      if (!onLine) {
        out += d.toString();
        return;
      }
      // -v prints a line per reply: parsed as it comes, not kept.
      const lines = (pending + d.toString()).split('\n');
      pending = lines.pop() ?? '';
      for (const l of lines) {
        if (l.startsWith('> ')) onLine(l);
        else out += `${l}\n`;
      }
    });
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`${cmd} exited with ${code}:\n${out.slice(-2000)}`))));
  });
}

/** A number from dnsperf's summary, e.g. /Queries per second:\s+([\d.]+)/; throws if it is not there. */
export function field(out: string, re: RegExp): number {
  const m = re.exec(out);
  if (!m) throw new Error(`dnsperf output without ${re}:\n${out}`);
  return Number(m[1]);
}
