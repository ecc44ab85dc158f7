import { describe, expect, it } from 'vitest';
import { median } from '../../harness/analysis/statistics.ts';
import { fitUsl, type UslPoint, uslPeak, uslThroughput } from '../../harness/analysis/usl.ts';
import { type Random, seededRandom } from '../../scenarios/schedule.ts';

const truth = { lambda: 1000, sigma: 0.05, kappa: 0.002 };
// Geometric sizes plus the in-between ones a bisection adds; the true peak is at N* = sqrt(475) ≈ 21.79.
const sizes = [1, 2, 3, 4, 6, 8, 12, 16, 20, 24, 32, 40, 48, 64];

/** Standard normal by Box–Muller from a seeded uniform source. */
function gaussian(random: Random): number {
  return Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
}

function noisy(seed: number, relativeNoise: number): UslPoint[] {
  const random = seededRandom(seed);
  return sizes.map((n) => ({
    n,
    throughput: uslThroughput(truth, n) * (1 + relativeNoise * gaussian(random)),
  }));
}

describe('USL model', () => {
  it('computes X(N) and the peak exactly', () => {
    expect(uslThroughput(truth, 1)).toBe(1000);
    expect(uslThroughput(truth, 10)).toBeCloseTo(10_000 / 1.63, 9);
    const peak = uslPeak(truth);
    expect(peak.n).toBeCloseTo(Math.sqrt(475), 12);
    expect(peak.throughput).toBeCloseTo(uslThroughput(truth, Math.sqrt(475)), 9);
    expect(uslThroughput(truth, peak.n)).toBeGreaterThan(uslThroughput(truth, 21));
    expect(uslThroughput(truth, peak.n)).toBeGreaterThan(uslThroughput(truth, 22));
  });

  it('has no finite peak without coherency cost, and peaks at 1 when contention is total', () => {
    expect(uslPeak({ lambda: 1000, sigma: 0.1, kappa: 0 })).toEqual({ n: Infinity, throughput: 10_000 });
    expect(uslPeak({ lambda: 1000, sigma: 0, kappa: 0 })).toEqual({ n: Infinity, throughput: Infinity });
    expect(uslPeak({ lambda: 1000, sigma: 1, kappa: 0.01 })).toEqual({ n: 1, throughput: 1000 });
  });
});

describe('fitUsl', () => {
  it('recovers the coefficients from noiseless data, with or without N = 1', () => {
    const exact = sizes.map((n) => ({ n, throughput: uslThroughput(truth, n) }));
    const large = [8, 16, 24, 32, 48, 64, 128].map((n) => ({ n, throughput: uslThroughput(truth, n) }));
    for (const points of [exact, exact.filter((p) => p.n >= 4), large]) {
      const fit = fitUsl(points);
      expect(fit?.quality).toBe('good');
      expect(fit?.lambda).toBeCloseTo(1000, 5);
      expect(fit?.sigma).toBeCloseTo(0.05, 9);
      expect(fit?.kappa).toBeCloseTo(0.002, 10);
      expect(fit?.peakN).toBeCloseTo(Math.sqrt(475), 5);
      expect(fit?.predict(100)).toBeCloseTo(100_000 / (1 + 4.95 + 19.8), 3);
      expect(fit?.rSquared).toBeCloseTo(1, 9);
    }
    expect(fitUsl(exact)?.peakExtrapolated).toBe(false);
  });

  it('recovers λ, σ, κ from 3% noise within stated tolerances, for every one of 30 seeds', () => {
    const fits = Array.from({ length: 30 }, (_, i) => fitUsl(noisy(i + 1, 0.03)));
    for (const fit of fits) {
      expect(fit?.quality).toBe('good');
      expect(Math.abs((fit?.lambda ?? 0) - 1000)).toBeLessThan(80);
      expect(Math.abs((fit?.sigma ?? 0) - 0.05)).toBeLessThan(0.02);
      expect(Math.abs((fit?.kappa ?? 0) - 0.002)).toBeLessThan(0.0004);
      expect(Math.abs((fit?.peakN ?? 0) - Math.sqrt(475))).toBeLessThan(2.2);
      expect(fit?.rSquared).toBeGreaterThan(0.98);
    }
    // No bias: the median over seeds sits close to the truth.
    expect(Math.abs((median(fits.map((f) => f?.lambda ?? 0)) ?? 0) - 1000)).toBeLessThan(15);
    expect(Math.abs((median(fits.map((f) => f?.sigma ?? 0)) ?? 0) - 0.05)).toBeLessThan(0.005);
    expect(Math.abs((median(fits.map((f) => f?.kappa ?? 0)) ?? 0) - 0.002)).toBeLessThan(0.0001);
  });

  it('gives these exact numbers for seed 1 (the recipe is deterministic)', () => {
    const fit = fitUsl(noisy(1, 0.03));
    expect(fit?.lambda).toBeCloseTo(989.66, 1);
    expect(fit?.sigma).toBeCloseTo(0.04775, 4);
    expect(fit?.kappa).toBeCloseTo(0.0019871, 6);
  });

  it('uses repetitions at the same size and ignores unusable points', () => {
    const repeated = [
      ...noisy(1, 0.03),
      ...noisy(2, 0.03),
      { n: 0, throughput: 5 },
      { n: 8, throughput: NaN },
    ];
    const fit = fitUsl(repeated);
    expect(fit?.points).toBe(28);
    expect(fit?.sizes).toBe(14);
    expect(fit?.quality).toBe('good');
  });

  it('flags random data as a poor fit and says why', () => {
    const random = seededRandom(7);
    const fit = fitUsl(sizes.map((n) => ({ n, throughput: 500 + 1000 * random() })));
    expect(fit?.quality).toBe('poor');
    expect(fit?.rSquared).toBeLessThan(0.5);
    expect(fit?.quality === 'poor' ? fit.reason : '').toMatch(/R² 0\.\d{3} is below 0\.9/);
  });

  it('flags too few sizes even when the curve passes through every point', () => {
    const fit = fitUsl([1, 2, 4, 8].map((n) => ({ n, throughput: uslThroughput(truth, n) })));
    expect(fit?.rSquared).toBeCloseTo(1, 6);
    expect(fit?.quality).toBe('poor');
    expect(fit?.quality === 'poor' ? fit.reason : '').toContain('only 4 distinct sizes');
  });

  it('marks a peak beyond the measured sizes as extrapolated', () => {
    const fit = fitUsl([1, 2, 4, 6, 8, 12].map((n) => ({ n, throughput: uslThroughput(truth, n) })));
    expect(fit?.peakN).toBeCloseTo(Math.sqrt(475), 3);
    expect(fit?.peakExtrapolated).toBe(true);
  });

  it('returns undefined with fewer than 3 distinct sizes or no throughput at the smallest', () => {
    expect(
      fitUsl([
        { n: 1, throughput: 100 },
        { n: 1, throughput: 110 },
        { n: 2, throughput: 190 },
      ]),
    ).toBeUndefined();
    expect(
      fitUsl([
        { n: 1, throughput: 0 },
        { n: 2, throughput: 190 },
        { n: 4, throughput: 300 },
      ]),
    ).toBeUndefined();
  });
});
