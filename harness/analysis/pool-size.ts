import type { Random } from '../../scenarios/schedule.ts';
import { analysePlateau, type PlateauAnalysis, type PlateauRules, type SizeRuns } from './plateau.ts';
import { quantile } from './statistics.ts';

// Which pool size to recommend, and how sure that choice is. Pure.
//
// The rule: the smallest size on the throughput plateau (see plateau.ts) whose pool use at the peak
// rate and under the bursts stays under the alert line. Pool use falls as the pool grows, so a size
// that failed the headroom check rules out every size at or below it.

/** The smallest plateau size larger than every size that failed the headroom check; undefined if none is. */
export function recommendSize(
  plateau: Pick<PlateauAnalysis, 'plateau'>,
  failedHeadroom: readonly number[],
): number | undefined {
  const floor = Math.max(0, ...failedHeadroom);
  return plateau.plateau.find((n) => n > floor);
}

/** How often, and how far, the rule's choice moves when the repetitions are resampled. */
export interface RecommendationUncertainty {
  /** The 2.5% and 97.5% quantiles of the resampled choices (measured sizes). */
  readonly low: number;
  readonly high: number;
  /** Share of resamples whose choice differs from `recommended`. */
  readonly otherShare: number;
  /** How many resamples chose each size. */
  readonly picks: Readonly<Record<string, number>>;
  readonly resamples: number;
}

/**
 * The recommendation's own uncertainty: each size's kept repetitions (outliers left out) are resampled
 * with replacement, the plateau test and the rule re-run, and the spread of the sizes chosen read off.
 * The headroom results stay as measured: they were not repeated per resample.
 */
export function recommendationUncertainty(
  plateau: PlateauAnalysis,
  rules: Pick<PlateauRules, 'margin' | 'calibration' | 'repetitions'>,
  failedHeadroom: readonly number[],
  recommended: number,
  random: Random,
  iterations = 400,
): RecommendationUncertainty | undefined {
  const kept: SizeRuns[] = plateau.sizes.map((size) => ({
    n: size.n,
    runs: size.runs.filter((run) => !run.outlier),
  }));
  const draw = <T>(values: readonly T[]): T[] =>
    values.map(() => values[Math.floor(random() * values.length)] as T);
  const chosen: number[] = [];
  for (let i = 0; i < iterations; i++) {
    const resampled = kept.map((size) => ({ n: size.n, runs: draw(size.runs) }));
    const calibration = rules.calibration === undefined ? undefined : draw(rules.calibration);
    const again = analysePlateau(resampled, {
      margin: rules.margin,
      repetitions: rules.repetitions,
      flagOutliers: false,
      removeDrift: false,
      noise: plateau.noise,
      ...(calibration === undefined ? {} : { calibration }),
    });
    const n = again === undefined ? undefined : recommendSize(again, failedHeadroom);
    if (n !== undefined) chosen.push(n);
  }
  const low = quantile(chosen, 0.025);
  const high = quantile(chosen, 0.975);
  if (low === undefined || high === undefined) return undefined;
  const picks: Record<string, number> = {};
  for (const n of chosen) picks[n] = (picks[n] ?? 0) + 1;
  // Quantiles of measured sizes: snap to the measured sizes that bracket them.
  const sizes = plateau.sizes.map((s) => s.n);
  return {
    low: Math.max(...sizes.filter((n) => n <= low), Math.min(...sizes)),
    high: Math.min(...sizes.filter((n) => n >= high), Math.max(...sizes)),
    otherShare: chosen.filter((n) => n !== recommended).length / chosen.length,
    picks,
    resamples: chosen.length,
  };
}
