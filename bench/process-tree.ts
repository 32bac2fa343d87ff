/**
 * A process and its descendants, read from /proc: what a server costs when
 * it forks (NSD) or runs threads (crdns --workers; threads count with their
 * process).
 */
import { readdirSync, readFileSync } from 'node:fs';

/** Clock ticks per second of /proc/<pid>/stat's utime and stime (USER_HZ, 100 on Linux). */
const TICKS_PER_SECOND = 100;

function tree(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const ppid = Number(/PPid:\s+(\d+)/.exec(readFileSync(`/proc/${d}/status`, 'utf8'))?.[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(d)]);
    } catch {
      // gone meanwhile
    }
  }
  const out: number[] = [];
  const walk = (p: number) => {
    out.push(p);
    for (const c of children.get(p) ?? []) walk(c);
  };
  walk(pid);
  return out;
}

export function treeRssMiB(pid: number): number {
  return treeStatusKb(pid, 'VmRSS') / 1024;
}

/** The peak resident memory (VmHWM) of the process and its descendants, summed: an upper bound of the tree's peak. */
export function treePeakMiB(pid: number): number {
  return treeStatusKb(pid, 'VmHWM') / 1024;
}

function treeStatusKb(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const re = new RegExp(`${field}:\\s+(\\d+) kB`);
  let kb = 0;
  for (const p of tree(pid)) {
    try {
      kb += Number(re.exec(readFileSync(`/proc/${p}/status`, 'utf8'))?.[1] ?? 0);
    } catch {
      // gone meanwhile
    }
  }
  return kb;
}

/** User + system CPU seconds used so far by the process and its descendants. */
export function treeCpuSeconds(pid: number): number {
  let ticks = 0;
  for (const p of tree(pid)) {
    try {
      // The command name (field 2) may hold spaces; fields are counted after its closing parenthesis.
      const stat = readFileSync(`/proc/${p}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch {
      // gone meanwhile
    }
  }
  return ticks / TICKS_PER_SECOND;
}
