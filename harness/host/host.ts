import type { CleanupRegistry } from '../runtime/cleanup.ts';

/** A stream the CLI writes to. */
export interface OutStream {
  write(text: string): void;
  readonly isTTY: boolean;
  readonly columns: number;
}

/** Sends a signal to a process (a negative pid: to its process group), as `process.kill` does. */
export type Kill = (pid: number, signal: NodeJS.Signals) => void;

/** CPU time of this process in µs, since `previous` when given, as `process.cpuUsage` measures it. */
export type CpuUsage = (previous?: NodeJS.CpuUsage) => NodeJS.CpuUsage;

/** The user pooltune runs as. */
export interface HostUser {
  readonly uid: number;
  readonly gid: number;
  readonly username: string;
}

/** Facts about the machine and the pooltune process, and what pooltune does to other processes. */
export interface HostSystem {
  readonly cpus: { readonly count: number; readonly model: string };
  readonly totalMemoryBytes: number;
  /** As `os.platform()`, `os.release()` and `os.arch()` say, e.g. `linux`, `6.8.0`, `x64`. */
  readonly platform: string;
  readonly release: string;
  readonly arch: string;
  readonly user: HostUser;
  readonly cpuUsage: CpuUsage;
  readonly kill: Kill;
  /** Every process group pooltune starts is registered here; the host kills what is left on exit. */
  readonly cleanup: CleanupRegistry;
}

/**
 * Everything pooltune takes from the process: arguments, environment, streams, clock, signals, and the
 * machine's facts. Only `node-host.ts` builds one from the real process; tests build their own and run
 * the CLI in-process.
 */
export interface Host {
  readonly argv: readonly string[];
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly cwd: string;
  readonly stdout: OutStream;
  readonly stderr: OutStream;
  readonly now: () => Date;
  readonly tmpDir: string;
  /** The node binary and its version. */
  readonly execPath: string;
  readonly nodeVersion: string;
  /** Calls `handler` on SIGINT/SIGTERM; returns a function that removes it. */
  onInterrupt(handler: (signal: 'SIGINT' | 'SIGTERM') => void): () => void;
  /** The machine, the user, CPU use, signals to other processes, cleanup. */
  readonly system: HostSystem;
}
