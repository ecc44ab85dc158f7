import { coefficientOfVariation, resolvableDifference } from '../analysis/noise.ts';
import type { KnobValues } from '../results/trial.ts';
import { isMeasured } from '../results/trial.ts';
import type { NoiseCalibration } from './outcome.ts';
import type { MethodSession } from './session.ts';
import { type StepReport, stepIds } from './step.ts';
import { saturateFor } from './step-scenarios.ts';

/** Trials of the calibration: enough for a spread, few enough to stay a small share of the run. */
export function calibrationTrials(quick: boolean): number {
  return quick ? 2 : 3;
}

/**
 * What the calibration's throughputs say about the machine (pure): their CV, and the smallest
 * difference two sizes of `repetitions` trials each could show at that noise.
 */
export function judgeNoise(throughputs: readonly number[], repetitions: number): NoiseCalibration {
  const cv = coefficientOfVariation(throughputs) ?? null;
  return {
    throughputs: [...throughputs],
    cv,
    resolvable: cv === null ? null : resolvableDifference(cv, repetitions),
    repetitions,
  };
}

/** `differences under 7.8% between two sizes of 3 trials each are not resolvable here` */
export function describeNoise(noise: NoiseCalibration): string {
  if (noise.cv === null || noise.resolvable === null) return 'the noise could not be measured';
  return `run-to-run CV ${(noise.cv * 100).toFixed(1)}%: differences under ${(noise.resolvable * 100).toFixed(1)}% between two sizes of ${noise.repetitions} trials each are not resolvable here`;
}

/**
 * Before the method: the machine's own run-to-run noise, from back-to-back trials at one fixed setting
 * (the current knobs) under step 4's closed-model scenario. Step 4 pools it with its own repetitions,
 * floors its outlier rule with it, and the report states what it allows the answer to claim.
 */
export async function calibrate(
  session: MethodSession,
  knobs: KnobValues,
): Promise<{ noise: NoiseCalibration; report: StepReport }> {
  const scenario = saturateFor(session.plan);
  const count = calibrationTrials(session.plan.config.quick);
  const point = await session.point({ step: stepIds.calibrate, knobs, scenario, repetitions: count });
  const throughputs = point.completed.map((trial) => trial.client.throughput);
  const noise = judgeNoise(throughputs, session.repetitions);
  return {
    noise,
    report: {
      step: 0,
      id: stepIds.calibrate,
      title: "Calibrate: the machine's own noise",
      tried: `${count} trials back to back at the current settings; ${scenario.description}`,
      saw: [
        point.trials
          .map((trial) =>
            isMeasured(trial)
              ? `${trial.id} ${trial.client.throughput.toFixed(0)} req/s${trial.status === 'invalid' ? ' (invalid)' : ''}`
              : `${trial.id} ${trial.status}`,
          )
          .join(', '),
      ],
      decided: describeNoise(noise),
      trials: point.trials.map((trial) => trial.id),
    },
  };
}
