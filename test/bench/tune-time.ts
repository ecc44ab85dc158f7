import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { packageRoot } from '../../harness/cli/run-environment.ts';

/** Runs `pooltune tune [args]` as a user would and returns its wall time in seconds and its exit code. */
async function timeTune(
  args: readonly string[],
  out: string,
): Promise<{ seconds: number; code: number | null }> {
  const started = performance.now();
  const child = spawn(
    process.execPath,
    [path.join(packageRoot, 'bin/pooltune.js'), 'tune', ...args, '--out', out],
    {
      cwd: packageRoot,
      env: { ...process.env, CI: 'true' },
      stdio: 'ignore',
    },
  );
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  return { seconds: (performance.now() - started) / 1000, code };
}

/** Wall time of the default `pooltune tune` and of `--quick` (goals: 5 min and 90 s). Asserts nothing. */
export async function benchTuneTime(log: (line: string) => void): Promise<Record<string, number>> {
  const out = await mkdtemp(path.join(os.tmpdir(), 'pooltune-bench-tune-'));
  try {
    const quick = await timeTune(['--quick'], out);
    log(`pooltune tune --quick: ${quick.seconds.toFixed(0)} s (exit ${quick.code}; goal <= 90 s)`);
    const full = await timeTune([], out);
    log(`pooltune tune:         ${full.seconds.toFixed(0)} s (exit ${full.code}; goal <= 300 s)`);
    return { tuneQuickSeconds: quick.seconds, tuneDefaultSeconds: full.seconds };
  } finally {
    await rm(out, { recursive: true, force: true });
  }
}
