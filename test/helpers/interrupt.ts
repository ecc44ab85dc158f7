import { spawn } from 'node:child_process';

/** How an interrupted CLI run ended. */
export interface Interrupted {
  readonly code: number | null;
  readonly stderr: string;
  /** ms from SIGINT to exit. */
  readonly exitMs: number;
}

/**
 * Runs `pooltune <args>` as a real process (CI=true, so progress is plain lines) and sends it SIGINT
 * once the second trial is under way, when the first is on disk.
 */
export async function interruptAtSecondTrial(args: readonly string[]): Promise<Interrupted> {
  const child = spawn(process.execPath, ['bin/pooltune.js', ...args], {
    cwd: process.cwd(),
    env: { ...process.env, CI: 'true' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      clearInterval(check);
      child.kill('SIGKILL');
      reject(new Error(`no second trial started:\n${stderr}`));
    }, 60_000);
    const check = setInterval(() => {
      if (/\[2\/\d+\] t002 .*\.\.\./.test(stderr)) {
        clearInterval(check);
        clearTimeout(timer);
        resolve();
      }
    }, 50);
  });
  const interruptedAt = Date.now();
  child.kill('SIGINT');
  const code = await exited;
  return { code, stderr, exitMs: Date.now() - interruptedAt };
}
