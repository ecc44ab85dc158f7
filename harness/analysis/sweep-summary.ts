import type { MeasuredTrial, TrialResult } from '../results/trial.ts';
import { isMeasured } from '../results/trial.ts';

/** Counts of trials by status. */
export interface StatusCounts {
  readonly completed: number;
  readonly invalid: number;
  readonly errored: number;
  readonly aborted: number;
}

/** The headline of a sweep: what was measured best, and where. Facts only; no recommendation yet. */
export interface SweepSummary {
  readonly trials: number;
  readonly statuses: StatusCounts;
  /** The completed trial with the highest throughput. */
  readonly best?: {
    readonly trial: string;
    readonly knob: string;
    readonly value: number | boolean | string | undefined;
    readonly throughput: number;
    readonly p99Ms: number;
  };
}

/** Counts trials by status and finds the best completed one on throughput. */
export function summarizeSweep(trials: readonly TrialResult[], knob: string): SweepSummary {
  const statuses = { completed: 0, invalid: 0, errored: 0, aborted: 0 };
  for (const trial of trials) statuses[trial.status] += 1;
  const completed = trials.filter(
    (trial): trial is MeasuredTrial => isMeasured(trial) && trial.status === 'completed',
  );
  const best = completed.reduce<MeasuredTrial | undefined>(
    (top, trial) => (top === undefined || trial.client.throughput > top.client.throughput ? trial : top),
    undefined,
  );
  return {
    trials: trials.length,
    statuses,
    ...(best === undefined
      ? {}
      : {
          best: {
            trial: best.id,
            knob,
            value: best.knobs[knob],
            throughput: best.client.throughput,
            p99Ms: best.client.latency.p99,
          },
        }),
  };
}
