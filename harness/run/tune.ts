import { rm } from 'node:fs/promises';
import path from 'node:path';
import { type Scenario, scaleScenario } from '../../scenarios/scenario.ts';
import { capacityOutcome } from '../analysis/capacity-search.ts';
import { readOpenFilesLimit } from '../collect/proc-stats.ts';
import { durationValueMs } from '../config/duration.ts';
import type { Plan } from '../config/plan.ts';
import type { Driver } from '../drivers/driver.ts';
import { createDriver, type DriverHost } from '../drivers/index.ts';
import { usageError } from '../errors.ts';
import type { HostSystem } from '../host/host.ts';
import { probeContext, runProbes } from '../probes/index.ts';
import type { LoadedRun } from '../report/comparable-run.ts';
import { type ComparisonOutcome, compareRunPaths } from '../report/compare-report.ts';
import type { RunSummary } from '../report/summary-schema.ts';
import { writeRunOutputs } from '../report/write-report.ts';
import type { Manifest } from '../results/manifest.ts';
import { maskSecrets } from '../results/mask.ts';
import { writeProbeResults } from '../results/probe-results.ts';
import { planHash, type ResumeState, type RunOrigin, writeOrigin } from '../results/resume.ts';
import {
  createRunDir,
  makeRunId,
  type RunPaths,
  runPaths,
  writeAnalysis,
  writeManifest,
} from '../results/run-dir.ts';
import type { TrialResult } from '../results/trial.ts';
import { TrialLog } from '../results/trial-log.ts';
import { chooseRuntime, type RuntimeChoice } from '../runtime/choose-runtime.ts';
import { startContainerTarget } from '../runtime/container-runtime.ts';
import { startTarget } from '../runtime/process-runtime.ts';
import type { StartedTarget } from '../runtime/service.ts';
import { calibrate, calibrationTrials } from '../tuning/calibrate.ts';
import { capacityReport, capacityRules, expectedCapacityTrials, findCapacity } from '../tuning/capacity.ts';
import { expectedTrialsPerPool, runMethod } from '../tuning/method.ts';
import type { MethodOutcome } from '../tuning/outcome.ts';
import type { Progress } from '../tuning/progress.ts';
import { Session } from '../tuning/session.ts';

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
  /** The machine's facts, CPU use, signals and the cleanup registry. */
  readonly system: HostSystem;
}

/** What a tune or single-trial run produced. */
export interface RunOutcome {
  readonly runDir: string;
  readonly reportPath: string;
  readonly trials: readonly TrialResult[];
  readonly interrupted: boolean;
  /** Why the run stopped early: a signal, or its `maxDuration`. */
  readonly stoppedBy?: 'signal' | 'max-duration';
  /** Trials taken over from the interrupted run when resuming. */
  readonly replayed: number;
  readonly warnings: readonly string[];
  /** What `summary.json` holds: verdicts, recommendation and the exit code they map to. */
  readonly summary: RunSummary;
  /** The comparison report, when the run was compared with a baseline. */
  readonly comparisonPath?: string;
}

/** Options of a tune or single-point run. */
export interface RunOptions {
  /** A run to compare with once the trials are done (loaded up front, so a bad path fails before any load). */
  readonly baseline?: LoadedRun;
  /** How the config was given, saved in the run directory so `--resume` can rebuild the same plan. */
  readonly origin?: Pick<RunOrigin, 'cwd' | 'configFile' | 'layers'>;
  /** Continue this interrupted run (see {@link prepareResume}) instead of starting a new one. */
  readonly resume?: ResumeState;
}

/** `pooltune tune`: the seven-step method on the plan's target, then the report. */
export function tune(plan: Plan, environment: RunEnvironment, options: RunOptions = {}): Promise<RunOutcome> {
  if (plan.pools.length === 0) {
    throw usageError(
      `target "${plan.target.name}" declares no pool`,
      'add `pools` (or the `poolKnob` shorthand) to the target',
    );
  }
  return execute(plan, environment, 'tune', (session) => runMethod(session), options);
}

/** `pooltune run`: one point with the plan's knob values under the plan's scenario. */
export function runOnce(
  plan: Plan,
  environment: RunEnvironment,
  options: RunOptions = {},
): Promise<RunOutcome> {
  const scenario = plan.config.quick ? scaleScenario(plan.scenario, 0.25) : plan.scenario;
  return execute(
    plan,
    environment,
    'run',
    async (session) => {
      await session.point({
        step: 'single',
        knobs: plan.knobs,
        scenario,
        repetitions: plan.config.repetitions,
      });
      return undefined;
    },
    options,
  );
}

/**
 * `pooltune capacity`: the capacity search alone (step 8) at the plan's knob values, after the
 * calibration that gives its interval the machine's noise.
 */
export function capacity(
  plan: Plan,
  environment: RunEnvironment,
  options: RunOptions = {},
): Promise<RunOutcome> {
  return execute(
    plan,
    environment,
    'capacity',
    async (session) => {
      session.expect(calibrationTrials(plan.config.quick) + expectedCapacityTrials);
      const calibration = await calibrate(session, plan.knobs);
      const result = await findCapacity(session, plan.knobs, 'given', calibration.noise.cv);
      const rules = capacityRules(plan);
      const outcome = capacityOutcome(rules, calibration.noise.cv, [result]);
      return {
        steps: [calibration.report, capacityReport(outcome, rules)],
        recommendations: [],
        noise: calibration.noise,
        capacity: outcome,
      };
    },
    options,
  );
}

/** The driver for each scenario: the configured one where it can run it, else the model's default. */
function driverChooser(plan: Plan, host: DriverHost): (scenario: Scenario) => Driver {
  const configured =
    plan.config.driver === 'auto'
      ? undefined
      : createDriver(plan.config.driver, host, { k6: plan.config.k6 });
  configured?.preflight?.();
  const byModel = { closed: createDriver('autocannon', host), open: createDriver('arrival-rate', host) };
  return (scenario) =>
    configured !== undefined && configured.unsupported(scenario) === undefined
      ? configured
      : byModel[scenario.model];
}

async function execute(
  plan: Plan,
  environment: RunEnvironment,
  command: Manifest['command'],
  body: (session: Session) => Promise<MethodOutcome | undefined>,
  options: RunOptions,
): Promise<RunOutcome> {
  const { progress } = environment;
  const { env, tmpDir, system } = environment;
  const drivers = driverChooser(plan, { env, tmpDir, system });
  const now = environment.now();
  const { resume } = options;
  if (resume !== undefined && resume.origin.planHash !== planHash(plan)) {
    throw usageError(
      `cannot resume ${resume.dir}: its config or target changed since the run started`,
      'resume with the same config file, env and flags, or start a new run',
    );
  }
  const runId = resume?.runId ?? makeRunId(now, plan.target.name, Math.random().toString(36).slice(2, 6));
  const paths: RunPaths =
    resume === undefined
      ? await createRunDir(path.resolve(environment.baseDir, plan.config.outDir), runId)
      : runPaths(resume.dir);
  if (resume === undefined && options.origin !== undefined) {
    await writeOrigin(paths.dir, { schemaVersion: 1, command, ...options.origin, planHash: planHash(plan) });
  }
  const deadline =
    plan.config.maxDuration === undefined ? undefined : durationValueMs(plan.config.maxDuration);
  const deadlineSignal = deadline === undefined ? undefined : AbortSignal.timeout(deadline);
  const signal =
    deadlineSignal === undefined ? environment.signal : AbortSignal.any([environment.signal, deadlineSignal]);
  deadlineSignal?.addEventListener('abort', () =>
    progress.log(`max duration (${plan.config.maxDuration}) reached: stopping load and the target`),
  );
  let session: Session | undefined;
  let failure: unknown;
  try {
    await using log = await TrialLog.open(paths.trials);
    progress.log(`starting target ${plan.target.name} (${Object.keys(plan.target.services).join(', ')})`);
    const runtime = await chooseRuntime(plan.config.runtime);
    progress.log(`runtime: ${runtime.runtime} (${runtime.reason})`);
    const runtimeOptions = {
      env: environment.env,
      tmpDir: environment.tmpDir,
      node: environment.node,
      packageRoot: environment.packageRoot,
      baseDir: environment.baseDir,
      logDir: paths.logs,
      system: environment.system,
    };
    await using target =
      runtime.runtime === 'container'
        ? await startContainerTarget(plan.target, plan.knobs, { ...runtimeOptions, runLabel: runId })
        : await startTarget(plan.target, plan.knobs, runtimeOptions);
    const openFilesLimit = await readOpenFilesLimit();
    const manifest = makeManifest(
      plan,
      environment,
      command,
      runId,
      resume === undefined ? now : new Date(resume.createdAt),
      { ...target.facts(), openFilesLimit },
      runtime,
    );
    await writeManifest(
      paths,
      resume === undefined ? manifest : { ...manifest, resumedAt: now.toISOString() },
    );
    const repetitions = plan.config.quick ? Math.min(plan.config.repetitions, 2) : plan.config.repetitions;
    session = new Session({
      plan,
      target,
      log,
      drivers,
      progress,
      signal,
      now: environment.now,
      repetitions,
      ...(resume === undefined ? {} : { previous: resume.previous }),
    });
    progress.begin(
      command === 'tune'
        ? plan.pools.length * expectedTrialsPerPool(session)
        : command === 'capacity'
          ? expectedCapacityTrials
          : plan.config.repetitions,
      paths.dir,
    );
    const outcome = await body(session);
    if (outcome !== undefined) await writeAnalysis(paths, outcome);
    if (outcome !== undefined && plan.config.probes && !signal.aborted) {
      await probe(plan, target, outcome, { signal, progress, dir: paths.dir });
    }
    progress.log('stopping target');
  } catch (error) {
    // What was measured stays: the outputs are written from it below, then the error is reported.
    if (session === undefined) {
      // Nothing was measured: a new run leaves no directory behind that looks like a run.
      if (resume === undefined) await rm(paths.dir, { recursive: true, force: true });
      throw error;
    }
    failure = error;
  }
  progress.end();
  const trials = session.trials;
  const warnings: string[] = [...(resume?.warnings ?? [])];
  const interrupted = signal.aborted || trials.some((trial) => trial.status === 'aborted');
  // The comparison reads only trials.jsonl, so it goes first and the outputs are written once, with its
  // verdict; a baseline that cannot be compared still gets every output written before its error.
  let compared: ComparisonOutcome | undefined;
  let comparisonError: unknown;
  if (options.baseline !== undefined && !interrupted && failure === undefined) {
    progress.log(`comparing with the baseline ${options.baseline.label}`);
    compared = await compareRunPaths(options.baseline, paths.dir, plan.config.compare).catch(
      (error: unknown) => {
        comparisonError = error;
        return undefined;
      },
    );
  }
  progress.log('writing report.html, summary.json, junit.xml, summary.md and trials.csv');
  const outputs = await writeRunOutputs(paths.dir, {
    onWarning: (warning) => warnings.push(warning),
    ...(compared === undefined ? {} : { regression: compared.regression }),
  });
  if (failure !== undefined) throw failure;
  if (comparisonError !== undefined) throw comparisonError;
  const comparison = compared?.report;
  return {
    runDir: paths.dir,
    reportPath: outputs.report,
    trials,
    interrupted,
    ...(interrupted ? { stoppedBy: environment.signal.aborted ? 'signal' : 'max-duration' } : {}),
    replayed: session.replayed,
    warnings,
    summary: outputs.summary,
    ...(comparison === undefined ? {} : { comparisonPath: comparison }),
  };
}

/** The resilience probes against the settings the method recommends; results go to `probes.json`. */
async function probe(
  plan: Plan,
  target: StartedTarget,
  outcome: MethodOutcome,
  run: { readonly signal: AbortSignal; readonly progress: Progress; readonly dir: string },
): Promise<void> {
  run.progress.log('running the resilience probes at the recommended settings');
  const recommended = outcome.recommendations.flatMap((r) => r.knobs.map((k) => [k.knob, k.value] as const));
  const knobs = { ...plan.knobs, ...Object.fromEntries(recommended) };
  await target.apply(knobs);
  // The mix's most common request is the one the probes send; the others are there for the draining probe.
  const [top, ...others] = [...plan.scenario.mix]
    .sort((a, b) => b.weight - a.weight)
    .map(({ method, path }) => ({ method, path }));
  const results = await runProbes(
    probeContext({
      target,
      knobs,
      request: top ?? { method: 'GET', path: '/' },
      otherRequests: others,
      signal: run.signal,
      clock: { now: () => performance.now() },
      peakConcurrency: plan.config.tuning.concurrency,
    }),
    { onResult: (result) => run.progress.log(`probe ${result.id}: ${result.status}: ${result.evidence}`) },
  );
  await writeProbeResults(run.dir, results);
}

function makeManifest(
  plan: Plan,
  environment: RunEnvironment,
  command: Manifest['command'],
  runId: string,
  now: Date,
  facts: Record<string, string | number | undefined>,
  runtime: RuntimeChoice,
): Manifest {
  const { system } = environment;
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
      serviceKinds: Object.fromEntries(
        Object.entries(plan.target.services).map(([name, service]) => [
          name,
          {
            kind: service.kind,
            dependsOn: service.kind === 'process' ? service.dependsOn : [],
            ...('cpus' in service && service.cpus !== undefined ? { cpus: service.cpus } : {}),
          },
        ]),
      ),
      pools: plan.pools.map((pool) => ({
        name: pool.name,
        service: pool.service,
        library: pool.library,
        knobs: Object.fromEntries(
          Object.entries(pool.knobs).filter((entry): entry is [string, string] => entry[1] !== undefined),
        ),
      })),
    },
    scenario: plan.scenario.name,
    driver: plan.driver,
    runtime: runtime.runtime,
    runtimeReason: runtime.reason,
    ...(command === 'tune' && plan.sweep !== undefined
      ? { sweep: { knob: plan.sweep.knob, values: plan.sweep.values } }
      : {}),
    fixedKnobs: plan.knobs,
    repetitions: plan.config.repetitions,
    quick: plan.config.quick,
    slo: { p99Ms: plan.config.tuning.slo.p99Ms, errorRate: plan.config.tuning.slo.errorRate },
    config: maskSecrets(plan.config),
    environment: {
      pooltune: environment.version,
      node: environment.nodeVersion,
      platform: `${system.platform} ${system.release} ${system.arch}`,
      cpus: system.cpus.count,
      cpuModel: system.cpus.model,
      memoryBytes: system.totalMemoryBytes,
      ...(facts.postgres === undefined ? {} : { postgres: String(facts.postgres) }),
      ...(typeof facts.openFilesLimit === 'number' ? { openFilesLimit: facts.openFilesLimit } : {}),
    },
  };
}
