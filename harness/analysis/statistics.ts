import { mean as ssMean, median as ssMedian, quantile as ssQuantile } from 'simple-statistics';

// simple-statistics throws on an empty sample; trials fail and points can end up with no
// repetitions, so these wrappers answer `undefined` and make the caller decide what "no data" means.

/** Arithmetic mean, or undefined for an empty sample. */
export function mean(values: readonly number[]): number | undefined {
  return values.length === 0 ? undefined : ssMean(values);
}

/** Median (mean of the two middle values for an even count), or undefined for an empty sample. */
export function median(values: readonly number[]): number | undefined {
  return values.length === 0 ? undefined : ssMedian(values);
}

/** Quantile `p` in [0, 1] with linear interpolation (R type 7, numpy's default), or undefined when empty. */
export function quantile(values: readonly number[], p: number): number | undefined {
  return values.length === 0 ? undefined : ssQuantile(values, p);
}

/**
 * Relative change from `from` to `to`: (to − from) / |from|, so a drop is negative whatever the sign of
 * `from`. 0 → 0 is no change; 0 → anything else is an infinite change in the direction of `to`.
 */
export function relativeChange(from: number, to: number): number {
  if (from === 0) return to === 0 ? 0 : Math.sign(to) * Number.POSITIVE_INFINITY;
  return (to - from) / Math.abs(from);
}
