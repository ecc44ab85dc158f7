import path from 'node:path';
import { defineCommand } from 'citty';
import { scenarios } from '../../scenarios/index.ts';
import { bundledTargets } from '../../targets/index.ts';
import { summarizeSweep } from '../analysis/sweep-summary.ts';
import { type ConfigFlags, flagLayer } from '../config/layers.ts';
import { loadConfig, reloadConfig } from '../config/load.ts';
import { resolvePlan } from '../config/plan.ts';
import { ExitCode, usageError } from '../errors.ts';
import type { Host } from '../host/host.ts';
import { loadComparableRun } from '../report/comparable-run.ts';
import { SecretMasker, secretValues } from '../results/mask.ts';
import { prepareResume } from '../results/resume.ts';
import { maskServiceLogs, runPaths } from '../results/run-dir.ts';
import { capacity, type RunOutcome, runOnce, tune } from '../run/tune.ts';
import type { Progress } from '../tuning/progress.ts';
import type { CommandResult } from './command.ts';
import { checkFlags, configFlags, runArgs } from './options.ts';
import { preflight } from './preflight.ts';
import { chooseProgress, packageRoot, runEnvironment } from './run-environment.ts';

/**
 * Runs `tune` or `run` with everything from the host, and prints the outcome. The config's secrets
 * join `masker` (which masks all output) as soon as it is loaded; the run's service logs are masked
 * once the services have stopped.
 */
async function execute(
  host: Host,
  rawArgs: string[],
  args: Record<string, unknown>,
  version: string,
  kind: MeasuringKind,
  masker: SecretMasker,
): Promise<CommandResult> {
  checkFlags(rawArgs, measuringCommands[kind].args);
  const resume =
    typeof args.resume === 'string' && args.resume !== ''
      ? await prepareResume(path.resolve(host.cwd, args.resume))
      : undefined;
  const flags = configFlags(args, rawArgs);
  const { config, baseDir, origin } =
    resume === undefined
      ? await loadConfig(host.cwd, { configPath: configPath(args), env: host.env, flags })
      : await reloadConfig(host.cwd, resume.origin, resumeOverrides(args, flags));
  const plan = resolvePlan(config, { targets: bundledTargets, scenarios });
  masker.add(secretValues([plan.config, plan.target]));
  // Load the baseline before any load: a wrong path is exit 2 now, not after minutes of trials.
  const baseline =
    typeof args.baseline === 'string' && args.baseline !== ''
      ? await loadComparableRun(path.resolve(host.cwd, args.baseline))
      : undefined;
  await preflight(plan, {
    env: host.env,
    node: host.execPath,
    packageRoot,
    baseDir,
    tmpDir: host.tmpDir,
  });
  const options = {
    origin,
    ...(baseline === undefined ? {} : { baseline }),
    ...(resume === undefined ? {} : { resume }),
  };
  const controller = new AbortController();
  const stopListening = host.onInterrupt((signal) => {
    host.stderr.write(`\npooltune: ${signal}: stopping load and the target (again to force)\n`);
    controller.abort();
  });
  let outcome: RunOutcome;
  let runDir: string | undefined;
  try {
    const chosen =
      args.json === true
        ? chooseProgress({ ...host, stderr: { ...host.stderr, isTTY: false } }, plan.knobs)
        : chooseProgress(host, plan.knobs);
    // The run directory is known once trials begin; its logs are masked even when the run then fails.
    const progress: Progress = {
      ...chosen,
      begin(total, dir) {
        runDir = dir;
        chosen.begin(total, dir);
      },
    };
    const environment = runEnvironment(host, baseDir, controller.signal, progress, version);
    outcome =
      kind === 'tune'
        ? await tune(plan, environment, options)
        : kind === 'capacity'
          ? await capacity(plan, environment, options)
          : await runOnce(plan, environment, options);
  } finally {
    stopListening();
    if (runDir !== undefined) await maskServiceLogs(runPaths(runDir), masker);
  }
  const summary = summarizeSweep(outcome.trials, plan.sweep?.knob ?? '');
  for (const warning of outcome.warnings) host.stderr.write(`warning: ${warning}\n`);
  if (args.json === true) {
    host.stdout.write(
      `${JSON.stringify(
        {
          runDir: outcome.runDir,
          report: outcome.reportPath,
          interrupted: outcome.interrupted,
          ...(outcome.stoppedBy === undefined ? {} : { stoppedBy: outcome.stoppedBy }),
          replayed: outcome.replayed,
          verdict: outcome.summary.verdict,
          slo: outcome.summary.slo.status,
          ...(outcome.summary.regression === undefined ? {} : { regression: outcome.summary.regression }),
          ...(outcome.comparisonPath === undefined ? {} : { comparison: outcome.comparisonPath }),
          exitCode: outcome.interrupted ? ExitCode.interrupted : outcome.summary.exitCode,
          ...(outcome.summary.capacity === undefined ? {} : { capacity: outcome.summary.capacity }),
          ...summary,
        },
        null,
        2,
      )}\n`,
    );
  } else {
    const { statuses, best } = summary;
    host.stdout.write(
      `${summary.trials} trials: ${statuses.completed} completed, ${statuses.invalid} invalid, ${statuses.errored} errored, ${statuses.aborted} aborted\n`,
    );
    if (best !== undefined) {
      host.stdout.write(
        `best measured: ${best.knob}=${best.value} at ${best.throughput.toFixed(0)} req/s, p99 ${best.p99Ms.toFixed(1)} ms (${best.trial})\n`,
      );
    }
    if (outcome.summary.capacity !== undefined) host.stdout.write(`${outcome.summary.capacity.text}\n`);
    host.stdout.write(`SLO: ${outcome.summary.slo.status}; verdict: ${outcome.summary.verdict}\n`);
    for (const check of outcome.summary.slo.checks.filter((c) => c.status === 'fail')) {
      host.stdout.write(
        `  failed: ${check.pool === '' ? '' : `${check.pool}: `}${check.name} (${check.detail})\n`,
      );
    }
    const regression = outcome.summary.regression;
    if (regression !== undefined) {
      host.stdout.write(
        regression.regressed
          ? `REGRESSION against ${regression.baseline}: ${regression.regressions.join('; ')}\n`
          : `no regression against ${regression.baseline} (${regression.compared} points compared)\n`,
      );
    }
    if (outcome.comparisonPath !== undefined) host.stdout.write(`comparison: ${outcome.comparisonPath}\n`);
    host.stdout.write(`report: ${outcome.reportPath}\n`);
  }
  if (outcome.interrupted) {
    const why =
      outcome.stoppedBy === 'max-duration'
        ? `max duration ${plan.config.maxDuration} reached`
        : 'interrupted';
    host.stderr.write(`${why}: the trials measured so far are in ${outcome.runDir}/trials.jsonl\n`);
    if (kind === 'tune') host.stderr.write(`resume with: pooltune tune --resume ${outcome.runDir}\n`);
    return { code: ExitCode.interrupted };
  }
  return { code: outcome.summary.exitCode as CommandResult['code'] };
}

/** `tune` takes the run flags and `--resume`. */
const tuneArgs = {
  ...runArgs,
  resume: {
    type: 'string',
    valueHint: 'run-dir',
    description: 'continue an interrupted tune: completed trials are kept, the rest are run',
  },
} as const;

/** The `--config` path, when given. */
function configPath(args: Readonly<Record<string, unknown>>): string | undefined {
  return typeof args.config === 'string' ? args.config : undefined;
}

/** With --resume the run's own config stands: only --max-duration may be given again. */
function resumeOverrides(args: Readonly<Record<string, unknown>>, flags: ConfigFlags) {
  const { maxDuration, ...others } = flagLayer(flags);
  const given = [...Object.keys(others), ...(configPath(args) === undefined ? [] : ['config'])];
  if (given.length > 0) {
    throw usageError(
      `--resume takes the run's own config, but ${given.join(', ')} ${given.length > 1 ? 'were' : 'was'} given too`,
      'drop those flags (only --max-duration, --baseline and --json go with --resume)',
    );
  }
  return maxDuration === undefined ? {} : { maxDuration };
}

/** The commands that start a target and measure it, with their flags and what `--help` says. */
const measuringCommands = {
  tune: { args: tuneArgs, description: 'Sweep the pool size against a target and write an HTML report' },
  run: { args: runArgs, description: 'Run one trial with the given knob values (--set knob=value)' },
  capacity: {
    args: runArgs,
    description:
      'Find the highest arrival rate the given knob values (--set knob=value) sustain under the SLO',
  },
} as const;

type MeasuringKind = keyof typeof measuringCommands;

/** The citty command of one measuring command, run through {@link execute}. */
function measuringCommand(kind: MeasuringKind) {
  return (
    host: Host,
    version: string,
    result: (r: CommandResult) => void,
    masker: SecretMasker = new SecretMasker(),
  ) =>
    defineCommand({
      meta: { name: kind, description: measuringCommands[kind].description },
      args: measuringCommands[kind].args,
      run: async ({ rawArgs, args }) => result(await execute(host, rawArgs, args, version, kind, masker)),
    });
}

/** `pooltune tune`: sweep the pool size on a target and write the report. */
export const tuneCommand = measuringCommand('tune');
/** `pooltune run`: one trial with the given knob values. */
export const runCommand = measuringCommand('run');
/** `pooltune capacity`: the capacity search alone at the given knob values. */
export const capacityCommand = measuringCommand('capacity');
