// CPU, memory and file descriptors of the target's processes, read from Linux /proc.
import { readdir, readFile } from 'node:fs/promises';

/** Clock ticks per second in /proc (`getconf CLK_TCK`, the kernel's USER_HZ): 100 on common architectures. */
export const DEFAULT_TICKS_PER_SECOND = 100;

/** The figures we need from `/proc/<pid>/stat`. */
export interface ProcStat {
  readonly pid: number;
  /** One-letter state: R running, S sleeping, Z zombie, ... */
  readonly state: string;
  /** User + system CPU of the process (all its threads), in clock ticks; waited-for children excluded. */
  readonly cpuTicks: number;
  /** `cpuTicks` in seconds. */
  readonly cpuSeconds: number;
  /** Start time after boot in ticks: tells a reused pid apart from the process we sampled before. */
  readonly startTimeTicks: number;
}

/**
 * Parses `/proc/<pid>/stat`. The command name (field 2) may hold spaces and parentheses, so fields are
 * counted from the last ')'. Returns undefined for text that is not a stat line.
 */
export function parseProcStat(text: string, ticksPerSecond = DEFAULT_TICKS_PER_SECOND): ProcStat | undefined {
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open < 0 || close < open) return undefined;
  const pid = Number(text.slice(0, open).trim());
  // rest[0] is field 3 (state), so field n is rest[n - 3].
  const rest = text
    .slice(close + 1)
    .trim()
    .split(/\s+/);
  const state = rest[0];
  const utime = Number(rest[14 - 3]);
  const stime = Number(rest[15 - 3]);
  const startTime = Number(rest[22 - 3]);
  if (
    state === undefined ||
    !Number.isInteger(pid) ||
    !Number.isFinite(utime) ||
    !Number.isFinite(stime) ||
    !Number.isFinite(startTime)
  ) {
    return undefined;
  }
  const cpuTicks = utime + stime;
  return { pid, state, cpuTicks, cpuSeconds: cpuTicks / ticksPerSecond, startTimeTicks: startTime };
}

/**
 * Resident set size in bytes from `/proc/<pid>/status` (`VmRSS: 1234 kB`). Kernel threads and zombies
 * have no VmRSS line: they hold no user memory, so that is 0, not unknown.
 */
export function parseProcStatusRss(text: string): number {
  const match = /^VmRSS:\s+(\d+)\s+kB\s*$/m.exec(text);
  return match?.[1] === undefined ? 0 : Number(match[1]) * 1024;
}

/** One process's figures at one moment. */
export interface PidStats {
  readonly pid: number;
  readonly startTimeTicks: number;
  readonly cpuTicks: number;
  readonly rssBytes: number;
  /** Open file descriptors; undefined when /proc/<pid>/fd is not readable (another user's process). */
  readonly fds: number | undefined;
}

/** Counts entries in `/proc/<pid>/fd`; undefined when the process is gone or the directory unreadable. */
export async function countOpenFds(pid: number): Promise<number | undefined> {
  try {
    return (await readdir(`/proc/${pid}/fd`)).length;
  } catch {
    return undefined;
  }
}

/** Reads one process's figures; undefined when it has vanished (or exits while being read). */
export async function readPidStats(pid: number): Promise<PidStats | undefined> {
  try {
    const [statText, statusText, fds] = await Promise.all([
      readFile(`/proc/${pid}/stat`, 'utf8'),
      readFile(`/proc/${pid}/status`, 'utf8'),
      countOpenFds(pid),
    ]);
    const stat = parseProcStat(statText);
    if (stat === undefined) return undefined;
    return {
      pid,
      startTimeTicks: stat.startTimeTicks,
      cpuTicks: stat.cpuTicks,
      rssBytes: parseProcStatusRss(statusText),
      fds,
    };
  } catch {
    return undefined;
  }
}

/** Reads the figures of every pid still alive; vanished pids are left out, never an error. */
export async function readProcessStats(pids: readonly number[]): Promise<PidStats[]> {
  const stats = await Promise.all(pids.map((pid) => readPidStats(pid)));
  return stats.filter((stat): stat is PidStats => stat !== undefined);
}

/** The soft "Max open files" limit from a `/proc/<pid>/limits` text; undefined when unlimited or absent. */
export function parseOpenFilesLimit(text: string): number | undefined {
  const match = /^Max open files\s+(\S+)/m.exec(text);
  const soft = match?.[1];
  return soft === undefined || soft === 'unlimited' ? undefined : Number(soft);
}

/** The soft open-files limit of a process (default: this one, whose limit the target's processes inherit). */
export async function readOpenFilesLimit(pid: number | 'self' = 'self'): Promise<number | undefined> {
  const text = await readFile(`/proc/${pid}/limits`, 'utf8').catch(() => undefined);
  return text === undefined ? undefined : parseOpenFilesLimit(text);
}
