import type { Scenario } from '../../scenarios/scenario.ts';
import { measuredMs } from '../../scenarios/scenario.ts';
import { invalidReason } from '../analysis/tagging.ts';
import { collectTargetOf } from '../collect/collect-target.ts';
import type { RunningCollector } from '../collect/collector.ts';
import { startCollector } from '../collect/sampler.ts';
import type { Driver } from '../drivers/driver.ts';
import { isPooltuneError, messageOf } from '../errors.ts';
import type { RemotePolicy } from '../loopback.ts';
import type { TrialKey, TrialResult } from '../results/trial.ts';
import type { StartedTarget } from '../runtime/service.ts';

/** Everything one trial needs. */
export interface TrialInput {
  readonly key: TrialKey;
  readonly target: StartedTarget;
  readonly scenario: Scenario;
  readonly driver: Driver;
  readonly seed: number;
  /** Aborted by SIGINT/SIGTERM: load stops and the trial is recorded as `aborted`. */
  readonly signal: AbortSignal;
  readonly now: () => Date;
  /** Which non-loopback hosts load may go to (`allowRemote` + `allowHosts`); loopback only when absent. */
  readonly remote?: RemotePolicy;
  /** Extra warm-up after a restart; `postRestartWarmupMs` when absent (`--quick` passes less). */
  readonly restartWarmupMs?: number;
  /**
   * Extra warm-up for the first trial a run measures against its just-started target, whose target,
   * database and load generator are all cold (`coldStartWarmupMs`); none when absent.
   */
  readonly coldStartWarmupMs?: number;
}

/** Extra warm-up for a trial right after its service restarted. */
export const postRestartWarmupMs = 1_000;

/**
 * Extra warm-up for a run's first trial. Without it the calibration's first trial read 8–25% below the
 * next two in three default tunes, and that start-up, not the machine's noise, set the calibrated CV.
 * `--quick` gives half a second: a fast look, and a short `--max-duration` must still keep a trial.
 */
export const coldStartWarmupMs = { quick: 500, full: 2_000 } as const;

/**
 * The extra warm-up a restarted service gets under a closed model (step 4, where nearly every trial
 * follows a restart): the full second, and 300 ms with `--quick`, which accepts a little JIT in its
 * figures. Half a second was tried for the default: step 4's pooled CV rose from 4.3% to 7.5–10.5%
 * in three tunes while the calibration's (no restarts) stayed at 4.5–6%.
 */
export const closedRestartWarmupMs = { quick: 300, full: postRestartWarmupMs } as const;

/** Slack on top of a scenario's own length before a trial is declared stuck. */
const deadlineSlackMs = 60_000;

/**
 * Runs one trial: applies the knob values (restarting only what changed), runs the driver with the
 * collectors alongside, and returns the result as data: a failure becomes an `errored` trial, never a throw.
 */
export async function runTrial(input: TrialInput): Promise<TrialResult> {
  const { key, target, driver } = input;
  const startedAt = input.now().toISOString();
  const ended = () => ({ startedAt, finishedAt: input.now().toISOString() });
  let collector: RunningCollector | undefined;
  try {
    // A freshly started service is slower for its first second (JIT, connection set-up): give trials
    // that follow a restart a longer warm-up, so repetitions measure the same thing.
    const restarted = await target.apply(key.knobs);
    const extraMs = input.coldStartWarmupMs
      ? input.coldStartWarmupMs
      : restarted.length > 0
        ? (input.restartWarmupMs ?? postRestartWarmupMs)
        : 0;
    const scenario =
      extraMs > 0 ? { ...input.scenario, warmupMs: input.scenario.warmupMs + extraMs } : input.scenario;
    const entry = target.entry();
    collector = startCollector(await collectTargetOf(target));
    const deadline = AbortSignal.timeout(scenario.warmupMs + measuredMs(scenario) + deadlineSlackMs);
    const signal = AbortSignal.any([input.signal, deadline]);
    const running = collector;
    const client = await driver.run({
      ...(input.remote === undefined ? {} : { remote: input.remote }),
      url: entry.url,
      scenario,
      signal,
      seed: input.seed,
      onMeasureStart: () => running.markMeasureStart(),
    });
    const server = await collector.stop();
    collector = undefined;
    if (input.signal.aborted) return { ...key, ...ended(), status: 'aborted', reason: 'interrupted' };
    if (deadline.aborted) {
      return {
        ...key,
        ...ended(),
        status: 'errored',
        error: 'trial deadline passed: the driver or target is stuck',
        logTail: entry.logTail(),
      };
    }
    const crashed = crashedService(target);
    if (crashed !== undefined) {
      return {
        ...key,
        ...ended(),
        status: 'errored',
        error: crashed.error,
        logTail: crashed.logTail,
        crashed: crashed.service,
      };
    }
    const reason = invalidReason(client, server);
    return reason === undefined
      ? { ...key, ...ended(), status: 'completed', client, server }
      : { ...key, ...ended(), status: 'invalid', reason, client, server };
  } catch (error) {
    await collector?.stop().catch(() => undefined);
    if (input.signal.aborted) return { ...key, ...ended(), status: 'aborted', reason: 'interrupted' };
    // A usage error (e.g. k6 missing) is the user's to fix before any trial can run: stop the run.
    if (isPooltuneError(error) && error.exitCode === 2) throw error;
    const tail = isPooltuneError(error) ? [...error.details] : safeTail(target);
    return { ...key, ...ended(), status: 'errored', error: messageOf(error), logTail: tail.slice(-15) };
  }
}

/** A service of the target that exited (crashed or was killed), with its log tail; the entry is checked first. */
export function crashedService(
  target: StartedTarget,
): { readonly service: string; readonly error: string; readonly logTail: string[] } | undefined {
  const names = Object.keys(target.definition.services).sort((a, b) =>
    a === target.definition.entry ? -1 : b === target.definition.entry ? 1 : 0,
  );
  for (const name of names) {
    const service = target.service(name);
    const exit = service.exitInfo();
    if (exit === undefined) continue;
    return {
      service: name,
      error: `service "${name}" exited during the trial (${exit.signal ?? `code ${exit.code}`})`,
      logTail: service.logTail().slice(-15),
    };
  }
  return undefined;
}

function safeTail(target: StartedTarget): string[] {
  try {
    return target.entry().logTail();
  } catch {
    return [];
  }
}
