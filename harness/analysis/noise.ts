import { mean, median, sampleStandardDeviation } from 'simple-statistics';

// How noisy repeated measurements are, and what that allows a decision to claim. Pure.
//
// Throughput on a shared 2-core machine varies from trial to trial by a few percent, more when something
// else runs. Every figure here is relative (a share of the mean), because the noise is roughly
// proportional to the throughput across pool sizes: that is what lets one pooled estimate, from many
// sizes' repetitions, stand in for the poor estimate a single size's three repetitions would give.

/** Student's t quantiles for 1..30 degrees of freedom (index = df − 1); beyond 30 the normal's. */
const T_975 = [
  12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.16, 2.145, 2.131,
  2.12, 2.11, 2.101, 2.093, 2.086, 2.08, 2.074, 2.069, 2.064, 2.06, 2.056, 2.052, 2.048, 2.045, 2.042,
] as const;
const T_95 = [
  6.314, 2.92, 2.353, 2.132, 2.015, 1.943, 1.895, 1.86, 1.833, 1.812, 1.796, 1.782, 1.771, 1.761, 1.753,
  1.746, 1.74, 1.734, 1.729, 1.725, 1.721, 1.717, 1.714, 1.711, 1.708, 1.706, 1.703, 1.701, 1.699, 1.697,
] as const;

/** The t quantile for a two-sided 95% interval (`two-sided`) or a one-sided 95% bound (`one-sided`). */
export function tQuantile(df: number, kind: 'two-sided' | 'one-sided'): number {
  if (!(df >= 1)) return Number.POSITIVE_INFINITY;
  const table = kind === 'two-sided' ? T_975 : T_95;
  const normal = kind === 'two-sided' ? 1.96 : 1.645;
  return df > table.length ? normal : (table[Math.floor(df) - 1] ?? normal);
}

/** Standard deviation over mean of repeated values; undefined with fewer than two, or a mean of 0. */
export function coefficientOfVariation(values: readonly number[]): number | undefined {
  if (values.length < 2) return undefined;
  const m = mean([...values]);
  return m === 0 ? undefined : sampleStandardDeviation([...values]) / Math.abs(m);
}

/**
 * The 95% confidence interval's half-width of the mean, relative to the mean (t-based, from the values'
 * own spread). Infinity with fewer than two values: one trial says nothing about its own precision.
 */
export function relativeHalfWidth(values: readonly number[]): number {
  const cv = coefficientOfVariation(values);
  if (cv === undefined) return Number.POSITIVE_INFINITY;
  return (tQuantile(values.length - 1, 'two-sided') * cv) / Math.sqrt(values.length);
}

/** A noise level with the degrees of freedom it was estimated from. */
export interface PooledNoise {
  /** Relative standard deviation of one trial's throughput. */
  readonly cv: number;
  /** Degrees of freedom behind it (repetitions minus groups). */
  readonly df: number;
}

/**
 * One relative noise level from several groups of repetitions (sizes, a calibration): the root of the
 * df-weighted mean of each group's squared CV. Undefined when no group has two values.
 */
export function pooledNoise(groups: readonly (readonly number[])[]): PooledNoise | undefined {
  let weighted = 0;
  let df = 0;
  for (const values of groups) {
    const cv = coefficientOfVariation(values);
    if (cv === undefined) continue;
    weighted += (values.length - 1) * cv * cv;
    df += values.length - 1;
  }
  return df === 0 ? undefined : { cv: Math.sqrt(weighted / df), df };
}

/**
 * The smallest relative difference between two points of `repetitions` trials each that this noise lets
 * a test at 5% significance find four times in five (80% power): (z₀.₉₇₅ + z₀.₈) × cv × √(2 / n).
 */
export function resolvableDifference(cv: number, repetitions: number): number {
  return (1.96 + 0.8416) * cv * Math.sqrt(2 / Math.max(1, repetitions));
}

/** A robust z above this marks an outlier (Iglewicz and Hoaglin's 3.5). */
export const OUTLIER_Z = 3.5;

/**
 * Which values are far off their siblings, by the modified z-score 0.6745 (x − median) / MAD. The MAD
 * is floored at `floorShare` of the median (what the machine's measured noise makes normal), so two
 * values that happen to agree closely do not turn an ordinary third into an outlier. Needs three values;
 * at most one value in three is ever flagged (a majority cannot be the outliers).
 */
export function madOutliers(values: readonly number[], floorShare: number): boolean[] {
  const flags = values.map(() => false);
  if (values.length < 3) return flags;
  const m = median([...values]);
  const mad = median(values.map((v) => Math.abs(v - m)));
  const scale = Math.max(mad, floorShare * Math.abs(m), Number.EPSILON);
  const scores = values.map((v) => (0.6745 * Math.abs(v - m)) / scale);
  const limit = Math.floor(values.length / 3);
  const ranked = scores
    .map((score, index) => ({ score, index }))
    .filter((s) => s.score > OUTLIER_Z)
    .sort((a, b) => b.score - a.score)
    .slice(0, limit);
  for (const { index } of ranked) flags[index] = true;
  return flags;
}

/** The MAD floor for {@link madOutliers} from a trial CV: a normal's MAD is 0.6745 σ. */
export function madFloor(cv: number | undefined): number {
  return 0.6745 * Math.max(cv ?? 0, 0.01);
}

/** What a two one-sided tests (TOST) equivalence check against a reference found. */
export interface Equivalence {
  /** Mean of the point over mean of the reference. */
  readonly ratio: number;
  /** The 90% interval of the ratio (each side a one-sided 95% bound): the TOST interval. */
  readonly low: number;
  readonly high: number;
  /**
   * `equivalent`: the interval lies inside 1 ± margin (both one-sided tests reject a difference);
   * `worse`: it lies wholly below 1 − margin; `undecided`: neither, more repetitions could tell.
   */
  readonly verdict: 'equivalent' | 'worse' | 'undecided';
}

/**
 * TOST on the log ratio of two means with a pooled relative noise: the standard error of log(a/b) is
 * cv × √(1/nA + 1/nB), with the pooled estimate's degrees of freedom. Equivalent within `margin` when
 * the 90% interval lies inside [1 − margin, 1 + margin].
 */
export function equivalence(
  point: readonly number[],
  reference: readonly number[],
  noise: PooledNoise,
  margin: number,
): Equivalence | undefined {
  if (point.length === 0 || reference.length === 0) return undefined;
  const a = mean([...point]);
  const b = mean([...reference]);
  if (!(a > 0 && b > 0)) return undefined;
  const ratio = a / b;
  const se = noise.cv * Math.sqrt(1 / point.length + 1 / reference.length);
  const spread = tQuantile(noise.df, 'one-sided') * se;
  const low = ratio * Math.exp(-spread);
  const high = ratio * Math.exp(spread);
  const verdict =
    low >= 1 - margin && high <= 1 + margin ? 'equivalent' : high < 1 - margin ? 'worse' : 'undecided';
  return { ratio, low, high, verdict };
}
