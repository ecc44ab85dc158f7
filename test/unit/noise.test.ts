import { describe, expect, it } from 'vitest';
import {
  coefficientOfVariation,
  equivalence,
  madOutliers,
  pooledNoise,
  relativeHalfWidth,
  resolvableDifference,
  tQuantile,
} from '../../harness/analysis/noise.ts';

describe('noise figures', () => {
  it('computes the CV, the t-based half-width and the pooled noise exactly', () => {
    expect(coefficientOfVariation([90, 100, 110])).toBeCloseTo(0.1, 10);
    expect(coefficientOfVariation([5])).toBeUndefined();
    // t(2) = 4.303; 4.303 x 0.1 / sqrt(3)
    expect(relativeHalfWidth([90, 100, 110])).toBeCloseTo(0.24844, 4);
    expect(relativeHalfWidth([100])).toBe(Number.POSITIVE_INFINITY);
    // df-weighted: (2 x 0.01 + 1 x 0.04) / 3, square-rooted
    const pooled = pooledNoise([[90, 100, 110], [80, 120], [7]]);
    expect(pooled?.df).toBe(3);
    expect(pooled?.cv).toBeCloseTo(Math.sqrt((2 * 0.01 + (40 / Math.SQRT2 / 100) ** 2) / 3), 10);
    expect(tQuantile(12, 'one-sided')).toBe(1.782);
    expect(tQuantile(200, 'two-sided')).toBe(1.96);
    expect(resolvableDifference(0.05, 3)).toBeCloseTo(2.8016 * 0.05 * Math.sqrt(2 / 3), 10);
  });

  it('flags the wild repetition of the issue, and not an ordinary spread', () => {
    expect(madOutliers([1643, 3525, 3444], 0.02)).toEqual([true, false, false]);
    expect(madOutliers([3000, 3080, 2950], 0.02)).toEqual([false, false, false]);
    // Two close values do not make an ordinary third an outlier once the floor is the machine's noise.
    expect(madOutliers([3000, 3001, 3150], 0.6745 * 0.05)).toEqual([false, false, false]);
    expect(madOutliers([3000, 3001], 0.02)).toEqual([false, false]);
  });

  it('decides equivalence by two one-sided tests on the pooled noise', () => {
    const noise = { cv: 0.02, df: 20 };
    expect(equivalence([1000, 1010, 990], [1005, 995, 1000], noise, 0.05)?.verdict).toBe('equivalent');
    expect(equivalence([800, 810, 790], [1005, 995, 1000], noise, 0.05)?.verdict).toBe('worse');
    const noisy = { cv: 0.2, df: 4 };
    expect(equivalence([1000, 1010, 990], [1005, 995, 1000], noisy, 0.05)?.verdict).toBe('undecided');
    const found = equivalence([950], [1000], { cv: 0.01, df: 30 }, 0.1);
    expect(found?.ratio).toBeCloseTo(0.95, 10);
    // 90% interval: 0.95 x exp(±1.697 x 0.01 x sqrt 2)
    expect(found?.low).toBeCloseTo(0.95 * Math.exp(-1.697 * 0.01 * Math.SQRT2), 10);
  });
});
