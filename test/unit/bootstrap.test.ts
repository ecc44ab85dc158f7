import { mean } from 'simple-statistics';
import { describe, expect, it } from 'vitest';
import { bootstrapInterval, bootstrapMedian, bootstrapQuantile } from '../../harness/analysis/bootstrap.ts';
import { type Random, seededRandom } from '../../scenarios/schedule.ts';

/** Standard normal by Box–Muller from a seeded uniform source. */
function gaussian(random: Random): number {
  return Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
}

describe('bootstrapInterval', () => {
  it('covers the true mean of normal(10, 2) in about 95% of 200 datasets of 30', () => {
    const draw = seededRandom(2024);
    const resample = seededRandom(99);
    let covered = 0;
    for (let d = 0; d < 200; d++) {
      const data = Array.from({ length: 30 }, () => 10 + 2 * gaussian(draw));
      const interval = bootstrapInterval(data, mean, { random: resample });
      if (interval !== undefined && interval.low <= 10 && 10 <= interval.high) covered++;
    }
    // The percentile bootstrap runs slightly narrow at n = 30; 200 datasets give ±1.5% of noise.
    expect(covered / 200).toBeGreaterThanOrEqual(0.9);
    expect(covered / 200).toBeLessThanOrEqual(0.98);
  });

  it('gives the same interval for the same seed and a different one for another', () => {
    const data = [12, 15, 9, 14, 11, 30, 13];
    const a = bootstrapInterval(data, mean, { iterations: 200, random: seededRandom(5) });
    const b = bootstrapInterval(data, mean, { iterations: 200, random: seededRandom(5) });
    const c = bootstrapInterval(data, mean, { iterations: 200, random: seededRandom(6) });
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
    expect(a?.estimate).toBe(104 / 7);
  });

  it('gives the exact interval where the bootstrap distribution is known', () => {
    // Resampled means of [0, 1] are 0, 0.5 or 1 with probabilities 1/4, 1/2, 1/4: the 2.5% and 97.5%
    // quantiles of 1000 draws are the extremes, the 40% and 60% ones the middle.
    const random = seededRandom(1);
    expect(bootstrapInterval([0, 1], mean, { random })).toEqual({ estimate: 0.5, low: 0, high: 1 });
    expect(bootstrapInterval([0, 1], mean, { confidence: 0.2, random })).toEqual({
      estimate: 0.5,
      low: 0.5,
      high: 0.5,
    });
    expect(bootstrapInterval([7, 7, 7], mean, { random })).toEqual({ estimate: 7, low: 7, high: 7 });
  });

  it('answers undefined for no samples and rejects bad options', () => {
    const random = seededRandom(1);
    expect(bootstrapInterval([], mean, { random })).toBeUndefined();
    expect(() => bootstrapInterval([1], mean, { confidence: 1, random })).toThrow(RangeError);
    expect(() => bootstrapInterval([1], mean, { iterations: 0, random })).toThrow(RangeError);
  });
});

describe('median and quantile helpers', () => {
  it('bootstraps the median of repetitions, robust to one outlier', () => {
    const interval = bootstrapMedian([100, 102, 98, 101, 400], { random: seededRandom(3) });
    expect(interval?.estimate).toBe(101);
    expect(interval?.low).toBeGreaterThanOrEqual(98);
    expect(interval?.high).toBeLessThanOrEqual(400);
    expect(interval?.low).toBeLessThanOrEqual(101);
  });

  it('bootstraps a p99 of pooled values with the estimate on the sample', () => {
    const values = Array.from({ length: 101 }, (_, i) => i);
    const interval = bootstrapQuantile(values, 0.99, { random: seededRandom(4) });
    expect(interval?.estimate).toBe(99);
    expect(interval?.low).toBeLessThanOrEqual(99);
    expect(interval?.high).toBeLessThanOrEqual(100);
    expect(interval?.low).toBeGreaterThan(90);
  });
});
