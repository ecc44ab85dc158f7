// What a killed pooltune left behind on this machine: service processes and temp folders.
import { readdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import type { Kill } from '../host/host.ts';

/**
 * Env var every process pooltune starts inherits: `<pid>:<start time in clock ticks>` of the pooltune
 * process that owns it. A process whose owner is gone (or whose pid now belongs to another process) is
 * an orphan of a killed run. The same value is written to `owner` in each target's temp folder.
 */
export const OWNER_ENV = 'POOLTUNE_OWNER';

/** The file in a target's temp folder naming its owner. */
export const OWNER_FILE = 'owner';

/** Start time (clock ticks after boot) and state of a process, from /proc; undefined when it is gone. */
async function processStat(pid: number): Promise<{ startTicks: number; state: string } | undefined> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined);
  if (stat === undefined) return undefined;
  // Fields after the command name (which may hold spaces) start after the last ')': state is field 3,
  // start time field 22.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { state: fields[0] ?? '?', startTicks: Number(fields[19]) };
}

/** The owner value for the process `pid` (see {@link OWNER_ENV}). */
export async function ownerOf(pid: number): Promise<string> {
  const stat = await processStat(pid);
  return `${pid}:${stat?.startTicks ?? 0}`;
}

/** True when the owner process still runs (same pid, same start time, not a zombie). */
export async function ownerAlive(owner: string): Promise<boolean> {
  const [pid, ticks] = owner.split(':').map(Number);
  if (pid === undefined || ticks === undefined || !Number.isInteger(pid) || pid <= 0) return false;
  const stat = await processStat(pid);
  return stat !== undefined && stat.state !== 'Z' && stat.startTicks === ticks;
}

/** A process of a run whose pooltune is gone. */
export interface OrphanProcess {
  readonly pid: number;
  readonly owner: string;
  readonly command: string;
}

/** Processes carrying an {@link OWNER_ENV} whose owner is no longer running. */
export async function findOrphanProcesses(): Promise<OrphanProcess[]> {
  const entries = await readdir('/proc').catch(() => [] as string[]);
  const alive = new Map<string, boolean>();
  const orphans: OrphanProcess[] = [];
  for (const entry of entries.filter((name) => /^\d+$/.test(name))) {
    const environ = await readFile(`/proc/${entry}/environ`, 'utf8').catch(() => '');
    const owner = environ
      .split('\0')
      .find((pair) => pair.startsWith(`${OWNER_ENV}=`))
      ?.slice(OWNER_ENV.length + 1);
    if (owner === undefined) continue;
    if (!alive.has(owner)) alive.set(owner, await ownerAlive(owner));
    if (alive.get(owner) === true) continue;
    const stat = await processStat(Number(entry));
    if (stat === undefined || stat.state === 'Z') continue;
    const cmdline = await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '');
    orphans.push({ pid: Number(entry), owner, command: cmdline.split('\0').join(' ').trim().slice(0, 120) });
  }
  return orphans;
}

/** True while one of `processes` still runs (a zombie has stopped: only its parent can reap it). */
async function anyRunning(processes: readonly OrphanProcess[]): Promise<boolean> {
  for (const { pid } of processes) {
    const stat = await processStat(pid);
    if (stat !== undefined && stat.state !== 'Z') return true;
  }
  return false;
}

/** Target temp folders (`pooltune-*` under `tmpDir`) whose owner is gone. */
export async function findOrphanDirs(tmpDir: string): Promise<string[]> {
  const entries = await readdir(tmpDir).catch(() => [] as string[]);
  const found: string[] = [];
  for (const entry of entries.filter((name) => name.startsWith('pooltune-'))) {
    const dir = path.join(tmpDir, entry);
    const owner = await readFile(path.join(dir, OWNER_FILE), 'utf8').catch(() => undefined);
    if (owner !== undefined && !(await ownerAlive(owner.trim()))) found.push(dir);
  }
  return found;
}

/**
 * Kills the orphaned processes (SIGKILL: their pooltune is gone, nothing will ask them nicely) and
 * removes the orphaned temp folders. Returns what it removed, for the report of `pooltune clean`.
 */
export async function removeOrphans(
  tmpDir: string,
  kill: Kill,
): Promise<{ processes: OrphanProcess[]; dirs: string[] }> {
  const processes = await findOrphanProcesses();
  for (const orphan of processes) {
    try {
      kill(orphan.pid, 'SIGKILL');
    } catch {
      // Gone meanwhile.
    }
  }
  // A process must be gone before its data folder can be removed cleanly (up to 5 s).
  for (let i = 0; i < 50 && (await anyRunning(processes)); i++) {
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const dirs = await findOrphanDirs(tmpDir);
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  return { processes, dirs };
}
