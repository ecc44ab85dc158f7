import { describe, expect, it } from 'vitest';
import { mean, median, quantile, relativeChange } from '../../harness/analysis/statistics.ts';

describe('statistics helpers', () => {
  it('computes mean, median and type-7 quantiles', () => {
    expect(mean([1, 2, 3, 10])).toBe(4);
    expect(median([10, 2, 5, 100, 2, 1])).toBe(3.5);
    expect(median([3, 1, 2])).toBe(2);
    expect(quantile([1, 2, 3, 4, 5], 0.99)).toBeCloseTo(4.96, 12);
    expect(quantile([1, 2, 3, 4, 5], 0.25)).toBe(2);
  });

  it('answers undefined for an empty sample instead of throwing', () => {
    expect(mean([])).toBeUndefined();
    expect(median([])).toBeUndefined();
    expect(quantile([], 0.5)).toBeUndefined();
  });

  it('does not reorder the caller array', () => {
    const values = [5, 1, 4];
    median(values);
    quantile(values, 0.9);
    expect(values).toEqual([5, 1, 4]);
  });

  it('computes relative change with a sign that follows the direction', () => {
    expect(relativeChange(200, 250)).toBe(0.25);
    expect(relativeChange(200, 150)).toBe(-0.25);
    expect(relativeChange(-200, -100)).toBe(0.5);
    expect(relativeChange(0, 0)).toBe(0);
    expect(relativeChange(0, 3)).toBe(Infinity);
    expect(relativeChange(0, -3)).toBe(-Infinity);
  });
});
