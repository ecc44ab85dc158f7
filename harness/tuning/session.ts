import type { Scenario } from '../../scenarios/scenario.ts';
import type { Plan } from '../config/plan.ts';
import type { Driver, DriverName } from '../drivers/driver.ts';
import { ExitCode, PooltuneError, targetError } from '../errors.ts';
import type { KnobValues, MeasuredTrial, TrialKey, TrialResult } from '../results/trial.ts';
import { isMeasured } from '../results/trial.ts';
import type { TrialLog } from '../results/trial-log.ts';
import type { StartedTarget } from '../runtime/service.ts';
import type { Progress } from './progress.ts';
import { closedRestartWarmupMs, coldStartWarmupMs, postRestartWarmupMs, runTrial } from './run-trial.ts';

/** One measured point: a knob setting under a scenario, repeated. */
export interface Point {
  readonly knobs: KnobValues;
  readonly scenario: string;
  /** Every trial of the point, in order (re-runs of invalid trials included). */
  readonly trials: readonly TrialResult[];
  /** The completed trials: what statistics and fits use. */
  readonly completed: readonly MeasuredTrial[];
}

/** What a point asks for. */
export interface PointRequest {
  /** The tuning step asking, recorded on each trial (e.g. `4-grow-pool`). */
  readonly step: string;
  readonly knobs: KnobValues;
  readonly scenario: Scenario;
  /** Repetitions; defaults to the plan's. */
  readonly repetitions?: number;
  /** Re-run an invalid trial once (the default); the capacity search judges invalid trials itself. */
  readonly rerunInvalid?: boolean;
}

/** What the method's steps need from a run: measuring, and telling the user what comes next. */
export interface MethodSession {
  readonly plan: Plan;
  /** Repetitions each point gets unless it asks otherwise. */
  readonly repetitions: number;
  /** True once SIGINT/SIGTERM arrived: steps stop asking for points. */
  readonly aborted: boolean;
  /** Every trial of the run so far, in order. */
  readonly trials: readonly TrialResult[];
  log(line: string): void;
  /** Tells the progress display how many more trials are expected (the search is adaptive). */
  expect(moreTrials: number): void;
  facts(): Record<string, string | number>;
  /** Measures one point: its repetitions back to back, an invalid one re-run once unless asked not to. */
  point(request: PointRequest): Promise<Point>;
  /** One trial of each request, in the order given (an invalid one re-run once at once). */
  block(requests: readonly BlockRequest[]): Promise<TrialResult[]>;
}

/** One trial of a block: the point and the repetition it is. */
export interface BlockRequest extends Omit<PointRequest, 'repetitions'> {
  readonly repetition: number;
}

/**
 * A run in progress: the started target, the trial log and the drivers. Steps ask it for points; it
 * runs the trials (restarting only what the knobs change), appends each to disk as it finishes, and
 * re-runs an invalid trial once so a point is not lost to one bad moment of the generator.
 */
export class Session implements MethodSession {
  readonly plan: Plan;
  readonly trials: TrialResult[] = [];
  readonly #target: StartedTarget;
  readonly #log: TrialLog;
  readonly #drivers: (scenario: Scenario) => Driver;
  readonly #progress: Progress;
  readonly #signal: AbortSignal;
  readonly #now: () => Date;
  readonly #repetitions: number;
  /** Trials of an interrupted run being resumed, replayed in order instead of measured again. */
  readonly #previous: readonly TrialResult[];
  #restarts = 0;
  /** Trials this process has measured (replayed ones aside): the first meets a cold target. */
  #measured = 0;
  /** The trials the progress display was told to expect: never below the trial being run. */
  #expected = 0;

  constructor(options: {
    plan: Plan;
    target: StartedTarget;
    log: TrialLog;
    drivers: (scenario: Scenario) => Driver;
    progress: Progress;
    signal: AbortSignal;
    now: () => Date;
    repetitions: number;
    previous?: readonly TrialResult[];
  }) {
    this.plan = options.plan;
    this.#target = options.target;
    this.#log = options.log;
    this.#drivers = options.drivers;
    this.#progress = options.progress;
    this.#signal = options.signal;
    this.#now = options.now;
    this.#repetitions = options.repetitions;
    this.#previous = options.previous ?? [];
  }

  /** Trials taken from the interrupted run instead of measured again. */
  get replayed(): number {
    return Math.min(this.trials.length, this.#previous.length);
  }

  /** Repetitions each point gets unless it asks otherwise. */
  get repetitions(): number {
    return this.#repetitions;
  }

  /** True once SIGINT/SIGTERM arrived: steps stop asking for points. */
  get aborted(): boolean {
    return this.#signal.aborted;
  }

  /** A line of news for the progress display. */
  log(line: string): void {
    this.#progress.log(line);
  }

  /** Tells the progress display how many more trials are expected (the search is adaptive). */
  expect(moreTrials: number): void {
    this.#expected = this.trials.length + Math.max(0, moreTrials);
    this.#progress.expect?.(this.#expected);
  }

  /** Facts about the running target (PostgreSQL version, max_connections, ...). */
  facts(): Record<string, string | number> {
    return this.#target.facts();
  }

  /** One trial per request in the given order; an invalid one is re-run once at once. Stops when aborted. */
  async block(requests: readonly BlockRequest[]): Promise<TrialResult[]> {
    const trials: TrialResult[] = [];
    for (const request of requests) {
      if (this.aborted) break;
      const result = await this.trial(request, request.repetition);
      trials.push(result);
      if (result.status === 'invalid' && !this.aborted) {
        trials.push(await this.trial(request, request.repetition));
      }
    }
    return trials;
  }

  /** Measures one point: `repetitions` trials, an invalid one re-run once. Stops early when aborted. */
  async point(request: PointRequest): Promise<Point> {
    const trials: TrialResult[] = [];
    const repetitions = request.repetitions ?? this.#repetitions;
    let rerunsLeft = request.rerunInvalid === false ? 0 : 1;
    for (let repetition = 1; repetition <= repetitions && !this.aborted; repetition++) {
      const result = await this.trial(request, repetition);
      trials.push(result);
      if (result.status === 'invalid' && rerunsLeft > 0 && !this.aborted) {
        rerunsLeft -= 1;
        trials.push(await this.trial(request, repetition));
      }
    }
    return {
      knobs: request.knobs,
      scenario: request.scenario.name,
      trials,
      completed: trials.filter(
        (trial): trial is MeasuredTrial => isMeasured(trial) && trial.status === 'completed',
      ),
    };
  }

  async trial(request: Omit<PointRequest, 'repetitions'>, repetition: number): Promise<TrialResult> {
    const index = this.trials.length;
    const driver = this.#drivers(request.scenario);
    const key: TrialKey = {
      id: `t${String(index + 1).padStart(3, '0')}`,
      step: request.step,
      knobs: request.knobs,
      scenario: request.scenario.name,
      driver: driver.name as DriverName,
      repetition,
    };
    if (index + 1 > this.#expected) {
      // The adaptive plan ran past its estimate: the count grows with it, never "57 of 48".
      this.#expected = index + 1;
      this.#progress.expect?.(this.#expected);
    }
    const earlier = this.#previous[index];
    if (earlier !== undefined && sameTrial(earlier, key)) {
      // A resumed run asks for the same trials in the same order (the method is deterministic given
      // their results), so the earlier result stands in for a new measurement.
      this.trials.push(earlier);
      this.#progress.trialEnd(index, earlier);
      return earlier;
    }
    if (earlier !== undefined) {
      throw new PooltuneError(
        `resume: trial ${key.id} differs from the interrupted run's (${describeKey(earlier)} there, ${describeKey(key)} now)`,
        { exitCode: ExitCode.internal },
      );
    }
    this.#progress.trialStart(index, key);
    const first = this.#measured === 0;
    this.#measured += 1;
    const result = await runTrial({
      ...(first ? { coldStartWarmupMs: coldStartWarmupMs[this.plan.config.quick ? 'quick' : 'full'] } : {}),
      key,
      target: this.#target,
      scenario: request.scenario,
      driver,
      seed: this.plan.config.seed + index,
      signal: this.#signal,
      now: this.#now,
      remote: { allowRemote: this.plan.config.allowRemote, allowHosts: this.plan.config.allowHosts },
      // A closed model waits for a cold service; an open one queues behind it, so only closed-model
      // trials (step 4's) get the shorter warm-up after a restart.
      restartWarmupMs:
        request.scenario.model === 'closed'
          ? closedRestartWarmupMs[this.plan.config.quick ? 'quick' : 'full']
          : postRestartWarmupMs,
    });
    await this.#log.append(result);
    this.trials.push(result);
    this.#progress.trialEnd(index, result);
    if (result.status === 'errored' && result.crashed !== undefined) this.#afterCrash(result.crashed);
    return result;
  }

  /** Applies the crash policy: go on (the next trial restarts the service) or stop the run, exit 5. */
  #afterCrash(service: string): void {
    const { policy, maxRestarts } = this.plan.config.onCrash;
    if (policy === 'stop') {
      throw targetError(
        `service "${service}" crashed during a trial; onCrash.policy is "stop", so the run ends here`,
        'the trials so far are kept; set onCrash.policy to "continue" to restart it and go on',
      );
    }
    this.#restarts += 1;
    if (this.#restarts > maxRestarts) {
      throw targetError(
        `service "${service}" crashed ${this.#restarts} times, more than onCrash.maxRestarts (${maxRestarts})`,
        "the trials so far are kept; see the errored trials' log tails for the cause",
      );
    }
    this.log(`service ${service} crashed: restarting it (${this.#restarts} of ${maxRestarts} restarts)`);
  }
}

/** True when a recorded trial is the one the run asks for now (same step, knobs, scenario, driver, repetition). */
function sameTrial(earlier: TrialKey, key: TrialKey): boolean {
  return describeKey(earlier) === describeKey(key) && earlier.id === key.id;
}

function describeKey(key: TrialKey): string {
  return JSON.stringify([key.step, key.scenario, key.driver, key.repetition, key.knobs]);
}
