import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Plan } from '../../harness/config/plan.ts';
import { createDriver } from '../../harness/drivers/index.ts';
import { TrialLog } from '../../harness/results/trial-log.ts';
import { startTarget } from '../../harness/runtime/process-runtime.ts';
import { silentProgress } from '../../harness/tuning/progress.ts';
import { Session } from '../../harness/tuning/session.ts';
import { system, testRuntime } from '../helpers/system.ts';

/**
 * Runs `body` with a Session on the plan's target, started as local processes, and cleans up after:
 * what the benchmarks measure the harness's own pieces with, outside a whole `pooltune tune`.
 */
export async function withBenchSession<T>(
  plan: Plan,
  repetitions: number,
  body: (session: Session) => Promise<T>,
): Promise<T> {
  const env = Object.fromEntries(
    Object.entries(process.env).filter((e): e is [string, string] => e[1] !== undefined),
  );
  const dir = await mkdtemp(path.join(os.tmpdir(), 'pooltune-bench-'));
  try {
    await using target = await startTarget(plan.target, plan.knobs, testRuntime(env));
    await using trialLog = await TrialLog.open(path.join(dir, 'trials.jsonl'));
    const host = { env, tmpDir: os.tmpdir(), system };
    const byModel = { closed: createDriver('autocannon', host), open: createDriver('arrival-rate', host) };
    const session = new Session({
      plan,
      target,
      log: trialLog,
      drivers: (scenario) => byModel[scenario.model],
      progress: silentProgress,
      signal: new AbortController().signal,
      now: () => new Date(),
      repetitions,
    });
    return await body(session);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
