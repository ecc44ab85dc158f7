import { readdir, readFile } from 'node:fs/promises';
import type { TargetDefinition } from '../../harness/config/schema.ts';
import type { Driver } from '../../harness/drivers/driver.ts';
import type { KnobValues, MeasuredTrial } from '../../harness/results/trial.ts';
import { startTarget } from '../../harness/runtime/process-runtime.ts';
import type { StartedTarget } from '../../harness/runtime/service.ts';
import { runTrial } from '../../harness/tuning/run-trial.ts';
import type { Scenario } from '../../scenarios/scenario.ts';
import { testRuntime } from './system.ts';

/** This process's env with the unset entries left out, as the runtime takes it. */
export function testEnv(): Record<string, string> {
  return Object.fromEntries(
    Object.entries(process.env).filter((e): e is [string, string] => e[1] !== undefined),
  );
}

/** Starts a target with the process runtime, as a test does: the package's own paths, the OS temp dir. */
export function startForTest(definition: TargetDefinition, knobs: KnobValues): Promise<StartedTarget> {
  return startTarget(definition, knobs, testRuntime(testEnv()));
}

let counter = 0;

/** Runs one trial of `scenario` at `knobs` (all of them) and returns it measured, or throws with why not. */
export async function measuredTrial(
  target: StartedTarget,
  knobs: KnobValues,
  scenario: Scenario,
  driver: Driver,
  signal: AbortSignal = new AbortController().signal,
): Promise<MeasuredTrial> {
  counter += 1;
  const result = await runTrial({
    key: {
      id: `t${counter}`,
      step: 'test',
      knobs,
      scenario: scenario.name,
      driver: driver.name,
      repetition: 1,
    },
    target,
    scenario,
    driver,
    seed: counter,
    signal,
    now: () => new Date(),
  });
  if (result.status !== 'completed' && result.status !== 'invalid') {
    throw new Error(
      `trial ${JSON.stringify(knobs)} ${result.status}: ${'error' in result ? result.error : ''}`,
    );
  }
  return result;
}

/** Processes whose command line mentions `needle` (other than this test's own). */
export async function processesMatching(needle: string): Promise<string[]> {
  const found: string[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    const cmdline = await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '');
    if (cmdline.includes(needle)) found.push(`${entry}: ${cmdline.replaceAll('\0', ' ')}`);
  }
  return found;
}
