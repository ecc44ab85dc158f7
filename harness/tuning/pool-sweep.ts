import type { Plan } from '../config/plan.ts';
import { usageError } from '../errors.ts';
import type { TrialKey } from '../results/trial.ts';

/** The tuning step this file implements, as recorded on each of its trials. */
export const poolSweepStep = 'pool-sweep';

/**
 * Step 4 of the method in its first form: measure the pool knob at each value of a geometric series
 * (1, 2, 4, ... up to the limit below the database's max_connections), each value `repetitions` times.
 */
export function poolSweepTrials(plan: Plan, firstIndex = 1): TrialKey[] {
  if (plan.sweep === undefined) {
    throw usageError(
      `target "${plan.target.name}" names no poolKnob, so there is nothing to sweep`,
      'set sweep.knob in the config',
    );
  }
  const keys: TrialKey[] = [];
  let index = firstIndex;
  for (const value of plan.sweep.values) {
    for (let repetition = 1; repetition <= plan.config.repetitions; repetition++) {
      keys.push({
        id: trialId(index++),
        step: poolSweepStep,
        knobs: { ...plan.knobs, [plan.sweep.knob]: value },
        scenario: plan.scenario.name,
        driver: plan.driver,
        repetition,
      });
    }
  }
  return keys;
}

/** `t001`, `t002`, ...: ids that sort in run order. */
export function trialId(index: number): string {
  return `t${String(index).padStart(3, '0')}`;
}
