import os from 'node:os';
import path from 'node:path';
import { scaleScenario } from '../../scenarios/scenario.ts';
import type { Plan } from '../config/plan.ts';
import { createDriver } from '../drivers/index.ts';
import { usageError } from '../errors.ts';
import { writeReport } from '../report/write-report.ts';
import type { Manifest } from '../results/manifest.ts';
import { maskSecrets } from '../results/mask.ts';
import { createRunDir, makeRunId, type RunPaths, writeManifest } from '../results/run-dir.ts';
import type { TrialKey, TrialResult } from '../results/trial.ts';
import { TrialLog } from '../results/trial-log.ts';
import { startTarget } from '../runtime/process-runtime.ts';
import { poolSweepTrials, trialId } from './pool-sweep.ts';
import { runTrial } from './run-trial.ts';

/** Where progress goes: a TTY progress bar, plain log lines, or nothing (tests, --json). */
export interface Progress {
  /** A run with `total` trials starts. */
  begin(total: number, runDir: string): void;
  trialStart(index: number, key: TrialKey): void;
  trialEnd(index: number, result: TrialResult): void;
  /** A line of news (starting the target, writing the report, ...). */
  log(line: string): void;
  end(): void;
}

/** A progress sink that drops everything. */
export const silentProgress: Progress = {
  begin() {},
  trialStart() {},
  trialEnd() {},
  log() {},
  end() {},
};

/** What a run needs from the host: passed in, so the whole run can be driven from a test. */
export interface RunEnvironment {
  readonly env: Readonly<Record<string, string>>;
  readonly tmpDir: string;
  readonly node: string;
  readonly packageRoot: string;
  /** Relative paths in the config resolve from here. */
  readonly baseDir: string;
  readonly now: () => Date;
  /** Aborted on SIGINT/SIGTERM. */
  readonly signal: AbortSignal;
  readonly progress: Progress;
  readonly version: string;
  readonly nodeVersion: string;
}

/** What a tune or single-trial run produced. */
export interface RunOutcome {
  readonly runDir: string;
  readonly reportPath: string;
  readonly trials: readonly TrialResult[];
  readonly interrupted: boolean;
  readonly warnings: readonly string[];
}

/** `pooltune tune`: the pool-size sweep on the plan's target, then the report. */
export function tune(plan: Plan, environment: RunEnvironment): Promise<RunOutcome> {
  return execute(plan, environment, 'tune', poolSweepTrials(plan));
}

/** `pooltune run`: one trial with the plan's knob values (repetitions times). */
export function runOnce(plan: Plan, environment: RunEnvironment): Promise<RunOutcome> {
  const keys = Array.from({ length: plan.config.repetitions }, (_, i) => ({
    id: trialId(i + 1),
    step: 'single',
    knobs: plan.knobs,
    scenario: plan.scenario.name,
    driver: plan.driver,
    repetition: i + 1,
  }));
  return execute(plan, environment, 'run', keys);
}

async function execute(
  plan: Plan,
  environment: RunEnvironment,
  command: Manifest['command'],
  keys: readonly TrialKey[],
): Promise<RunOutcome> {
  const { progress } = environment;
  const scenario = plan.config.quick ? scaleScenario(plan.scenario, 0.25) : plan.scenario;
  const driver = createDriver(plan.driver, environment.env);
  const unsupported = driver.unsupported(scenario);
  if (unsupported !== undefined)
    throw usageError(`driver ${driver.name}: ${unsupported}`, 'pick another --driver or --scenario');
  driver.preflight?.();

  const now = environment.now();
  const runId = makeRunId(now, plan.target.name, Math.random().toString(36).slice(2, 6));
  const paths: RunPaths = await createRunDir(path.resolve(environment.baseDir, plan.config.outDir), runId);
  const trials: TrialResult[] = [];
  let interrupted = false;
  {
    await using log = await TrialLog.open(paths.trials);
    progress.log(`starting target ${plan.target.name} (${Object.keys(plan.target.services).join(', ')})`);
    const firstKnobs = keys[0]?.knobs ?? plan.knobs;
    await using target = await startTarget(plan.target, firstKnobs, {
      env: environment.env,
      tmpDir: environment.tmpDir,
      node: environment.node,
      packageRoot: environment.packageRoot,
      baseDir: environment.baseDir,
      logDir: paths.logs,
    });
    await writeManifest(paths, makeManifest(plan, environment, command, runId, now, target.facts()));
    progress.begin(keys.length, paths.dir);
    for (const [index, key] of keys.entries()) {
      if (environment.signal.aborted) {
        interrupted = true;
        break;
      }
      progress.trialStart(index, key);
      const result = await runTrial({
        key,
        target,
        scenario,
        driver,
        seed: plan.config.seed + index,
        signal: environment.signal,
        now: environment.now,
      });
      await log.append(result);
      trials.push(result);
      progress.trialEnd(index, result);
      if (result.status === 'aborted') interrupted = true;
    }
    progress.log('stopping target');
  }
  progress.end();
  const warnings: string[] = [];
  const reportPath = await writeReport(paths.dir, { onWarning: (warning) => warnings.push(warning) });
  return { runDir: paths.dir, reportPath, trials, interrupted, warnings };
}

function makeManifest(
  plan: Plan,
  environment: RunEnvironment,
  command: Manifest['command'],
  runId: string,
  now: Date,
  facts: Record<string, string | number>,
): Manifest {
  const cpus = os.cpus();
  return {
    schemaVersion: 1,
    runId,
    createdAt: now.toISOString(),
    command,
    target: {
      name: plan.target.name,
      description: plan.target.description,
      services: Object.keys(plan.target.services),
      entry: plan.target.entry,
    },
    scenario: plan.scenario.name,
    driver: plan.driver,
    runtime: 'process',
    ...(command === 'tune' && plan.sweep !== undefined
      ? { sweep: { knob: plan.sweep.knob, values: plan.sweep.values } }
      : {}),
    fixedKnobs: plan.knobs,
    repetitions: plan.config.repetitions,
    quick: plan.config.quick,
    config: maskSecrets(plan.config),
    environment: {
      pooltune: environment.version,
      node: environment.nodeVersion,
      platform: `${os.platform()} ${os.release()} ${os.arch()}`,
      cpus: cpus.length,
      cpuModel: cpus[0]?.model ?? 'unknown',
      memoryBytes: os.totalmem(),
      ...(facts.postgres === undefined ? {} : { postgres: String(facts.postgres) }),
    },
  };
}
