// What a run takes from the host: the package root, the progress display, and the run environment.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Host } from '../host/host.ts';
import type { RunEnvironment } from '../run/tune.ts';
import type { Progress } from '../tuning/progress.ts';
import { barProgress, lineProgress } from './progress.ts';

/** The pooltune package root (bundled targets and templates live under it). */
export const packageRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** A bar on a terminal; plain lines when output is not a TTY or under CI=true. */
export function chooseProgress(host: Host, fixed: Readonly<Record<string, unknown>>): Progress {
  const plain = !host.stderr.isTTY || host.env.CI === 'true' || host.env.CI === '1';
  return plain ? lineProgress(host.stderr, fixed, host.now) : barProgress(host.stderr, fixed);
}

/** The run environment taken from the host. */
export function runEnvironment(
  host: Host,
  baseDir: string,
  signal: AbortSignal,
  progress: Progress,
  version: string,
): RunEnvironment {
  const env = Object.fromEntries(
    Object.entries(host.env).filter((entry): entry is [string, string] => entry[1] !== undefined),
  );
  return {
    env,
    tmpDir: host.tmpDir,
    node: host.execPath,
    nodeVersion: host.nodeVersion,
    packageRoot,
    baseDir,
    now: host.now,
    signal,
    progress,
    version,
    system: host.system,
  };
}
