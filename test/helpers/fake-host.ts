import os from 'node:os';
import { main } from '../../harness/cli/main.ts';
import type { Host, HostSystem } from '../../harness/host/host.ts';
import { nodeSystem } from '../../harness/host/node-host.ts';

/** A Host for running the CLI in-process: captured output, given argv/env/cwd, and a way to send SIGINT. */
export interface FakeHost extends Host {
  readonly out: () => string;
  readonly err: () => string;
  /** Delivers SIGINT to whatever registered for interrupts. */
  interrupt(): void;
}

/**
 * Builds a {@link FakeHost}; env defaults to the real one (PATH etc.) without CI noise, the system to the
 * real machine's (runs start real processes) with a cleanup registry of its own.
 */
export function fakeHost(
  argv: readonly string[],
  options: { cwd?: string; env?: Record<string, string | undefined>; system?: HostSystem } = {},
): FakeHost {
  let stdout = '';
  let stderr = '';
  const handlers = new Set<(signal: 'SIGINT' | 'SIGTERM') => void>();
  return {
    argv,
    env: options.env ?? { ...process.env, CI: 'true' },
    cwd: options.cwd ?? process.cwd(),
    stdout: {
      write: (text) => {
        stdout += text;
      },
      isTTY: false,
      columns: 100,
    },
    stderr: {
      write: (text) => {
        stderr += text;
      },
      isTTY: false,
      columns: 100,
    },
    now: () => new Date(),
    tmpDir: os.tmpdir(),
    execPath: process.execPath,
    nodeVersion: process.version,
    onInterrupt(handler) {
      handlers.add(handler);
      return () => handlers.delete(handler);
    },
    system: options.system ?? nodeSystem(),
    out: () => stdout,
    err: () => stderr,
    interrupt: () => {
      for (const handler of handlers) handler('SIGINT');
    },
  };
}

/** Runs the CLI in-process on a {@link fakeHost} in `cwd`: its exit code and what it printed. */
export async function runCli(
  argv: readonly string[],
  cwd: string,
): Promise<{ code: number; out: string; err: string }> {
  const host = fakeHost(argv, { cwd });
  const code = await main(host);
  return { code, out: host.out(), err: host.err() };
}
