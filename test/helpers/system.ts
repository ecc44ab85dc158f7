import os from 'node:os';
import { packageRoot } from '../../harness/cli/run-environment.ts';
import { nodeSystem } from '../../harness/host/node-host.ts';
import type { RuntimeOptions } from '../../harness/runtime/process-runtime.ts';

/** The real machine and process, for tests that start real processes (one cleanup registry per test file). */
export const system = nodeSystem();

/** The process runtime's options as a test starts a target: the package's own paths, the OS temp dir. */
export function testRuntime(env: Readonly<Record<string, string>>): RuntimeOptions {
  return { env, tmpDir: os.tmpdir(), node: process.execPath, packageRoot, baseDir: packageRoot, system };
}
