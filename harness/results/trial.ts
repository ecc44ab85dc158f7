import type { ServerFigures } from '../collect/collector.ts';
import type { DriverName, DriverResult } from '../drivers/driver.ts';

/** A knob's value: numbers for sizes and durations, booleans for switches, strings for modes. */
export type KnobValue = number | boolean | string;

/** Values for a target's knobs, by knob name. */
export type KnobValues = Readonly<Record<string, KnobValue>>;

/** What identifies a trial: the parameters, the scenario and the repetition. */
export interface TrialKey {
  /** Stable id, e.g. `t007`, referenced by the report and by recommendations. */
  readonly id: string;
  /** The tuning step that asked for it, e.g. `pool-sweep`. */
  readonly step: string;
  readonly knobs: KnobValues;
  readonly scenario: string;
  readonly driver: DriverName;
  readonly repetition: number;
}

interface TrialTimes {
  readonly startedAt: string;
  readonly finishedAt: string;
}

/** A trial that measured the target. */
export interface CompletedTrial extends TrialKey, TrialTimes {
  readonly status: 'completed';
  readonly client: DriverResult;
  readonly server: ServerFigures;
}

/** A trial whose numbers describe the generator, not the target: kept, but left out of fits. */
export interface InvalidTrial extends TrialKey, TrialTimes {
  readonly status: 'invalid';
  readonly reason: string;
  readonly client: DriverResult;
  readonly server: ServerFigures;
}

/** A trial that failed: the target crashed, the driver threw, or a deadline passed. */
export interface ErroredTrial extends TrialKey, TrialTimes {
  readonly status: 'errored';
  readonly error: string;
  readonly logTail: readonly string[];
  /** The service that exited during the trial, when a crash is what failed it. */
  readonly crashed?: string;
}

/** A trial stopped by the user (SIGINT/SIGTERM) before it finished. */
export interface AbortedTrial extends TrialKey, TrialTimes {
  readonly status: 'aborted';
  readonly reason: string;
}

/** One measured (parameters, scenario, repetition): data, whatever happened. */
export type TrialResult = CompletedTrial | InvalidTrial | ErroredTrial | AbortedTrial;

/** A trial that carries measurements. */
export type MeasuredTrial = CompletedTrial | InvalidTrial;

/** True for trials that carry client and server measurements. */
export function isMeasured(trial: TrialResult): trial is MeasuredTrial {
  return trial.status === 'completed' || trial.status === 'invalid';
}
