import { type ChildProcess, spawn } from 'node:child_process';

/** A `pooltune` CLI running as a real process, with its output collected as it comes. */
export interface SpawnedCli {
  readonly child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Called with the whole stderr so far after each chunk. */
  onStderr(listener: (stderr: string) => void): void;
  /** Its exit code (null when a signal ended it). */
  readonly exited: Promise<number | null>;
}

/** Runs `pooltune <args>` as a real process, with CI=true so progress is plain lines. */
export function spawnPooltune(args: readonly string[]): SpawnedCli {
  const child = spawn(process.execPath, ['bin/pooltune.js', ...args], {
    cwd: process.cwd(),
    env: { ...process.env, CI: 'true' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  const listeners: ((stderr: string) => void)[] = [];
  child.stdout?.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
    for (const listener of listeners) listener(stderr);
  });
  return {
    child,
    stdout: () => stdout,
    stderr: () => stderr,
    onStderr: (listener) => listeners.push(listener),
    exited: new Promise((resolve) => child.once('exit', (code) => resolve(code))),
  };
}

/** How an interrupted CLI run ended. */
export interface Interrupted {
  readonly code: number | null;
  readonly stderr: string;
  /** ms from SIGINT to exit. */
  readonly exitMs: number;
}

/** Sends SIGINT to `pooltune <args>` once the second trial is under way, when the first is on disk. */
export async function interruptAtSecondTrial(args: readonly string[]): Promise<Interrupted> {
  const cli = spawnPooltune(args);
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      cli.child.kill('SIGKILL');
      reject(new Error(`no second trial started:\n${cli.stderr()}`));
    }, 60_000);
    cli.onStderr((stderr) => {
      if (/\[2\/\d+\] t002 .*\.\.\./.test(stderr)) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
  const interruptedAt = Date.now();
  cli.child.kill('SIGINT');
  const code = await cli.exited;
  return { code, stderr: cli.stderr(), exitMs: Date.now() - interruptedAt };
}
