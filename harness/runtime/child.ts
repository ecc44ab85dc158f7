import { spawn } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import type { HostSystem } from '../host/host.ts';
import { LogTail } from './log-tail.ts';

/** How to start one service process. */
export interface ChildSpec {
  readonly name: string;
  readonly command: string;
  readonly args: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  readonly cwd?: string;
  /** Run as this user (pooltune runs PostgreSQL unprivileged when it is root). */
  readonly uid?: number;
  readonly gid?: number;
  /** Where all output is kept; the last lines are kept in memory regardless. */
  readonly logFile?: string;
  /** The signal that asks it to stop quickly (PostgreSQL: SIGINT, its fast shutdown). */
  readonly stopSignal?: NodeJS.Signals;
}

/** What starting and stopping a child needs from the host: signals, and the registry it is kept in. */
export type ChildControl = Pick<HostSystem, 'kill' | 'cleanup'>;

/** How a process ended. */
export interface ExitInfo {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** A started process, leader of its own process group. Disposing it stops the whole group. */
export interface StartedChild extends AsyncDisposable {
  readonly name: string;
  readonly pid: number;
  readonly log: LogTail;
  /** Settles when the leader exits, however it ends. */
  readonly exited: Promise<ExitInfo>;
  /** The exit of the leader once it happened, else undefined. */
  exitInfo(): ExitInfo | undefined;
  /** SIGTERM (or stopSignal) to the group, SIGKILL after `graceMs`; resolves when the leader is gone. */
  stop(graceMs?: number): Promise<void>;
}

/**
 * Starts a process in its own process group (so stopping it stops everything it started), captures
 * its output, and registers it for cleanup on any exit path.
 */
export async function startChild(spec: ChildSpec, control: ChildControl): Promise<StartedChild> {
  const log = new LogTail(40, spec.logFile);
  const child = spawn(spec.command, [...spec.args], {
    cwd: spec.cwd,
    env: { ...spec.env },
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(spec.uid === undefined ? {} : { uid: spec.uid }),
    ...(spec.gid === undefined ? {} : { gid: spec.gid }),
  });
  child.stdout.on('data', (chunk: Buffer) => log.write(chunk));
  child.stderr.on('data', (chunk: Buffer) => log.write(chunk));

  let info: ExitInfo | undefined;
  const exited = new Promise<ExitInfo>((resolve) => {
    child.once('exit', (code, signal) => {
      info = { code, signal };
      resolve(info);
    });
    child.once('error', (error) => {
      log.write(`${spec.command}: ${error.message}\n`);
      info = { code: 127, signal: null };
      resolve(info);
    });
  });

  const pid = await new Promise<number>((resolve) => {
    child.once('spawn', () => resolve(child.pid ?? 0));
    child.once('error', () => resolve(0));
  });
  if (pid > 0) control.cleanup.addGroup(pid, `${spec.name} (pid ${pid})`);

  const signalGroup = (signal: NodeJS.Signals) => {
    try {
      control.kill(-pid, signal);
    } catch {
      // The group is gone already.
    }
  };

  const stop = async (graceMs = 5_000): Promise<void> => {
    if (pid > 0) {
      if (info === undefined) {
        signalGroup(spec.stopSignal ?? 'SIGTERM');
        const timer = setTimeout(() => signalGroup('SIGKILL'), graceMs);
        await exited;
        clearTimeout(timer);
      }
      // Whatever the leader left behind in its group goes too.
      signalGroup('SIGKILL');
      control.cleanup.removeGroup(pid);
    }
    await exited;
    await log.close();
  };

  return {
    name: spec.name,
    pid,
    log,
    exited,
    exitInfo: () => info,
    stop,
    [Symbol.asyncDispose]: () => stop(),
  };
}

/** The pids in a process group (leader included), read from /proc. Vanished processes are skipped. */
export async function groupPids(pgid: number): Promise<number[]> {
  const entries = await readdir('/proc').catch(() => [] as string[]);
  const pids: number[] = [];
  await Promise.all(
    entries
      .filter((entry) => /^\d+$/.test(entry))
      .map(async (entry) => {
        const stat = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => '');
        // Fields after the command name (which may hold spaces) start after the last ')'.
        const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        if (Number(fields[2]) === pgid) pids.push(Number(entry));
      }),
  );
  return pids.sort((a, b) => a - b);
}
