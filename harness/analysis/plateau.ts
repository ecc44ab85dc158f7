import { mean } from 'simple-statistics';
import {
  asMeasured,
  type CorrectedRun,
  type CorrectedSizeRuns,
  type DriftCorrection,
  removeDrift,
} from './drift.ts';
import {
  coefficientOfVariation,
  type Equivalence,
  equivalence,
  madFloor,
  madOutliers,
  type PooledNoise,
  pooledNoise,
  resolvableDifference,
  tQuantile,
} from './noise.ts';
import type { SizeRuns } from './size-runs.ts';

// Where the throughput plateau is, decided by an equivalence test against the best size rather than by a
// raw gap between medians, with outliers flagged and the machine's own noise on record. Pure.

export type { SizeRun, SizeRuns } from './size-runs.ts';

/** What a size's repetitions say, as the decision and the report read it. */
export interface SizeEvidence {
  readonly n: number;
  /**
   * Every completed repetition, each flagged when far off its siblings (left out of the figures below).
   * `throughput` is corrected for drift; `measured` is what the trial saw.
   */
  readonly runs: readonly (CorrectedRun & { readonly outlier: boolean })[];
  /** Mean throughput of the repetitions that are not outliers. */
  readonly mean: number;
  /** Their coefficient of variation; null with fewer than two. */
  readonly cv: number | null;
  /**
   * The 95% interval's half-width of the mean, relative to it, from the pooled noise (one size's two or
   * three repetitions say little about their own spread); null when the noise is unknown.
   */
  readonly halfWidth: number | null;
  /**
   * The TOST against the reference (the best pooled with the larger sizes within the margin), or for a
   * size above the best against the best alone; null for the best itself.
   */
  readonly equivalence: Equivalence | null;
  /** True for the size with the highest mean. */
  readonly best: boolean;
  /**
   * On the plateau: the best, or shown equivalent to it within the margin with a mean at least
   * 1 − the configured margin of the best's (a margin widened for noise admits a size about 10% down
   * as equivalent; its mean still has to be within `tuning.minGain`).
   */
  readonly onPlateau: boolean;
}

/** The plateau of a set of sizes. */
export interface PlateauAnalysis {
  readonly sizes: readonly SizeEvidence[];
  /** The size with the highest mean throughput. */
  readonly best: number;
  /**
   * The sizes the smaller ones are compared with, ascending: the best and every larger size whose mean
   * is within the margin of the best's, their runs pooled (see {@link analysePlateau}).
   */
  readonly reference: readonly number[];
  /** Sizes on the plateau, ascending. */
  readonly plateau: readonly number[];
  /** Sizes the test could not decide either way, ascending: more repetitions would tell. */
  readonly undecided: readonly number[];
  /**
   * The equivalence margin used (a share: 0.05 = within ±5% of the best): the configured one, or the
   * machine's resolvable difference when that is wider (a test cannot tell sizes apart more finely).
   */
  readonly margin: number;
  /** The configured margin (`tuning.minGain`). */
  readonly requestedMargin: number;
  /** The smallest difference two sizes of `repetitions` trials can show at the pooled noise. */
  readonly resolvable: number | null;
  /** The pooled trial-to-trial noise the test used (the calibration's and every size's repetitions). */
  readonly noise: PooledNoise;
  /** The slow drift taken out of the runs before comparing; null when none was estimated. */
  readonly drift: DriftCorrection | null;
}

/** What the plateau analysis needs besides the sizes. */
export interface PlateauRules {
  /** Equivalence margin around the best: `tuning.minGain`. */
  readonly margin: number;
  /** Repetitions a size is meant to get: what the resolvable difference is figured for. */
  readonly repetitions: number;
  /** The calibration's throughputs at one fixed setting: the machine's own noise, pooled with the sizes'. */
  readonly calibration?: readonly number[];
  /** Flag outliers (default true); resampling passes false, its values being already kept ones. */
  readonly flagOutliers?: boolean;
  /** Take slow drift out first (default true); resampling passes false, its values being corrected. */
  readonly removeDrift?: boolean;
  /**
   * The noise to test with, when already known: resampling passes the measured one, since a resample
   * of three or four runs understates its own spread (duplicates) and would test too leniently.
   */
  readonly noise?: PooledNoise;
}

/**
 * The margin widens with the machine's noise up to this multiple of the configured one, and no
 * further: past it "the same throughput" would promise too little, so sizes stay undecided instead.
 */
export const MAX_MARGIN_FACTOR = 2;

/** Noise assumed when nothing was repeated at all: no equivalence can be shown with it. */
const UNKNOWN_NOISE: PooledNoise = { cv: Number.POSITIVE_INFINITY, df: 0 };

/** Each size's repetitions with outliers flagged, by the MAD rule floored at the calibration's noise. */
export function flagOutliers<S extends SizeRuns>(
  sizes: readonly S[],
  calibration: readonly number[] = [],
): (S & { readonly flags: readonly boolean[] })[] {
  const floor = madFloor(coefficientOfVariation(calibration));
  return sizes.map((size) => ({
    ...size,
    flags: madOutliers(
      size.runs.map((run) => run.throughput),
      floor,
    ),
  }));
}

/**
 * The plateau: the best size (highest mean), and every size whose mean is shown equivalent to the
 * reference's within ±margin by two one-sided tests at 5% on the pooled noise. The reference is the
 * best's runs pooled with those of every larger size whose mean is within the margin of the best's; a
 * size above the best is tested against the best alone. The margin is the configured
 * one, widened to the machine's resolvable difference when that is larger (at most twice the
 * configured one): on a noisy machine sizes closer than that cannot be told apart, and the report
 * says so. Slow drift of the machine is taken out of the runs first ({@link removeDrift}), so a size
 * measured only while the machine was quiet does not look better for it. A size the test cannot
 * decide is not on the plateau (it has not been shown to give the same throughput) and is listed as
 * undecided, which is where more repetitions pay. A size shown equivalent only within the widened
 * margin must also have a mean within the configured margin of the best's to be on the plateau. Undefined when no size has a completed repetition.
 */
export function analysePlateau(sizes: readonly SizeRuns[], rules: PlateauRules): PlateauAnalysis | undefined {
  const present = sizes.filter((size) => size.runs.length > 0);
  // Drift first (robust to a wild run), then outliers among the corrected runs.
  const corrected: { sizes: readonly CorrectedSizeRuns[]; correction: DriftCorrection | null } =
    rules.removeDrift === false ? { sizes: asMeasured(present), correction: null } : removeDrift(present);
  const flagged =
    rules.flagOutliers === false
      ? corrected.sizes.map((size) => ({ ...size, flags: size.runs.map(() => false) }))
      : flagOutliers(corrected.sizes, rules.calibration);
  if (flagged.length === 0) return undefined;
  const kept = flagged.map((size) => ({
    ...size,
    values: size.runs.filter((_, i) => size.flags[i] !== true).map((run) => run.throughput),
  }));
  const noise =
    rules.noise ??
    pooledNoise([...kept.map((size) => size.values), ...(rules.calibration ? [rules.calibration] : [])]) ??
    UNKNOWN_NOISE;
  const resolvable = Number.isFinite(noise.cv) ? resolvableDifference(noise.cv, rules.repetitions) : null;
  const margin = Math.max(rules.margin, Math.min(resolvable ?? 0, MAX_MARGIN_FACTOR * rules.margin));
  const spread = tQuantile(noise.df, 'two-sided') * noise.cv;
  const means = kept.map((size) => mean(size.values));
  const bestIndex = means.reduce((top, m, i) => (m > (means[top] ?? 0) ? i : top), 0);
  const best = kept[bestIndex];
  if (best === undefined) return undefined;
  // The best is the highest of several noisy means, so on its own it sits above the plateau's level
  // (by about one standard error per few sizes). Larger sizes within the margin (as widened for the
  // noise) are on the same plateau by the shape of a closed-model curve, so their runs join the
  // reference the smaller sizes are tested against: a level not picked for its luck, from more runs.
  const bestMean = means[bestIndex] ?? 0;
  const referenceSizes = kept.filter(
    (size, i) => i === bestIndex || (size.n > best.n && (means[i] ?? 0) >= (1 - margin) * bestMean),
  );
  const referenceValues = referenceSizes.flatMap((size) => size.values);
  const evidence = kept
    .map((size, i): SizeEvidence => {
      const isBest = i === bestIndex;
      // Sizes below the best against the pooled reference; those above it (in it) against the best.
      const against = size.n < best.n ? referenceValues : best.values;
      const test = isBest ? undefined : equivalence(size.values, against, noise, margin);
      return {
        n: size.n,
        runs: size.runs.map((run, j) => ({ ...run, outlier: size.flags[j] === true })),
        mean: means[i] ?? 0,
        cv: coefficientOfVariation(size.values) ?? null,
        halfWidth: Number.isFinite(spread) ? spread / Math.sqrt(size.values.length) : null,
        equivalence: test ?? null,
        best: isBest,
        onPlateau: isBest || (test?.verdict === 'equivalent' && test.ratio >= 1 - rules.margin),
      };
    })
    .sort((a, b) => a.n - b.n);
  return {
    sizes: evidence,
    best: best.n,
    reference: referenceSizes.map((size) => size.n).sort((a, b) => a - b),
    plateau: evidence.filter((s) => s.onPlateau).map((s) => s.n),
    undecided: evidence.filter((s) => s.equivalence?.verdict === 'undecided').map((s) => s.n),
    margin,
    requestedMargin: rules.margin,
    resolvable,
    noise,
    drift: corrected.correction,
  };
}
