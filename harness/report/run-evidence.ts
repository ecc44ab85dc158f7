import type { Manifest } from '../results/manifest.ts';
import type { ProbeResult } from '../results/probe-results.ts';
import { isMeasured, type MeasuredTrial, type TrialResult } from '../results/trial.ts';
import type { MethodOutcome } from '../tuning/outcome.ts';

/** What a finished run left behind, as the report's pure builders read it. */
export interface RunEvidence {
  readonly manifest: Manifest;
  /** In the order they ran. */
  readonly trials: readonly TrialResult[];
  /** The method's steps and recommendations; absent for `pooltune run`. */
  readonly analysis?: MethodOutcome;
  /** The resilience probes' results (`probes.json`), when they ran. */
  readonly probes?: readonly ProbeResult[];
}

/** The trials a step of the method lists as its evidence for a pool (all pools when `pool` is undefined). */
export function stepTrials(run: RunEvidence, stepId: string, pool?: string): TrialResult[] {
  const ids = new Set(
    (run.analysis?.steps ?? [])
      .filter((step) => step.id === stepId && (pool === undefined || step.pool === pool))
      .flatMap((step) => step.trials),
  );
  return run.trials.filter((trial) => ids.has(trial.id));
}

/** Completed trials only: the ones that count. */
export function completedTrials(trials: readonly TrialResult[]): MeasuredTrial[] {
  return trials.filter(isMeasured).filter((trial) => trial.status === 'completed');
}

/** The largest value `read` gives over the trials' samples, with the trial it came from. */
export function sampleMax(
  trials: readonly MeasuredTrial[],
  read: (trial: MeasuredTrial) => number | undefined,
): { readonly value: number; readonly trial: string } | undefined {
  let best: { value: number; trial: string } | undefined;
  for (const trial of trials) {
    const value = read(trial);
    if (value !== undefined && (best === undefined || value > best.value)) best = { value, trial: trial.id };
  }
  return best;
}
