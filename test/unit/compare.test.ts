import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { quantileSorted } from 'simple-statistics';
import { describe, expect, it } from 'vitest';
import {
  type ComparableRun,
  type ComparableRunPoint,
  compareRuns,
  compareThroughputs,
  distributionQuantile,
  erfc,
  latencyDistribution,
  mannWhitneyU,
  pointVerdict,
  thinnedSample,
} from '../../harness/analysis/compare.ts';
import {
  createLatencyHistogram,
  decodeHistogram,
  encodeHistogram,
} from '../../harness/analysis/histogram.ts';
import { comparablePoints, pointKey } from '../../harness/report/comparable-points.ts';
import { buildComparisonView, knobLabels } from '../../harness/report/compare-view.ts';
import type { TrialResult } from '../../harness/results/trial.ts';
import { seededRandom } from '../../scenarios/schedule.ts';
import { scaleHistogram } from '../helpers/plant-regression.ts';

const trialsOf = (run: string): TrialResult[] =>
  readFileSync(fileURLToPath(new URL(`../fixtures/runs/${run}/trials.jsonl`, import.meta.url)), 'utf8')
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as TrialResult);

/** Latencies in µs from a seeded log-normal around `medianMs` (a service's typical right-skewed shape). */
function latencies(count: number, medianMs: number, seed: number): number[] {
  const random = seededRandom(seed);
  return Array.from({ length: count }, () => {
    const normal = Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
    return Math.round(medianMs * 1000 * Math.exp(0.5 * normal));
  });
}

function encoded(values: readonly number[]): string {
  const histogram = createLatencyHistogram();
  for (const value of values) histogram.recordValue(value);
  return encodeHistogram(histogram);
}

function point(histogram: string, throughputs: number[], knobs: Record<string, number> = { max: 4 }) {
  return {
    key: pointKey('saturate@32', knobs),
    scenario: 'saturate@32',
    step: '4-grow-pool',
    knobs,
    trials: throughputs.map((_, i) => `t${i}`),
    throughputs,
    p99Ms: throughputs.map(() => 20),
    errorRates: throughputs.map(() => 0),
    histogram,
  } satisfies ComparableRunPoint;
}

const run = (runId: string, points: ComparableRunPoint[]): ComparableRun => ({ runId, label: runId, points });

describe('mannWhitneyU', () => {
  it('matches a hand-checked example with a tie (scipy: U 18.5, p 0.049090)', () => {
    // Ranks of [1,2,3,4 | 3,5,6,7,8]: the two 3s share rank 3.5, so R(second) = 33.5 and U = 33.5 − 15.
    const result = mannWhitneyU([1, 2, 3, 4], [3, 5, 6, 7, 8]);
    expect(result.u).toBe(18.5);
    expect(result.effect).toBeCloseTo(0.85, 12); // 2 × 18.5 / 20 − 1
    expect(result.p).toBeCloseTo(0.04909011632260757, 6);
    const swapped = mannWhitneyU([3, 5, 6, 7, 8], [1, 2, 3, 4]);
    expect(swapped.u).toBe(1.5);
    expect(swapped.effect).toBeCloseTo(-0.85, 12);
    expect(swapped.p).toBeCloseTo(result.p, 12);
  });

  it('gives p 1 and no effect when every value is tied or a sample is empty', () => {
    expect(mannWhitneyU([5, 5], [5, 5, 5])).toMatchObject({ p: 1, effect: 0 });
    expect(mannWhitneyU([], [1, 2])).toMatchObject({ p: 1, effect: 0 });
  });

  it('uses a complementary error function that is accurate in the tails', () => {
    expect(erfc(0)).toBeCloseTo(1, 7);
    expect(erfc(1.959963984540054 / Math.SQRT2)).toBeCloseTo(0.05, 6);
    expect(erfc(6 / Math.SQRT2) / 1.973175290075e-9).toBeCloseTo(1, 4);
    expect(erfc(-1)).toBeCloseTo(2 - erfc(1), 12);
  });
});

describe('latency distributions', () => {
  it('read quantiles as HdrHistogram does, for every point of a real run', () => {
    for (const { histogram } of comparablePoints(trialsOf('tune-http-pg'))) {
      const hdr = decodeHistogram(histogram);
      const distribution = latencyDistribution(histogram);
      expect(distribution.total).toBe(hdr.totalCount);
      for (const p of [0.5, 0.9, 0.99, 0.999]) {
        expect(distributionQuantile(distribution, p)).toBe(hdr.getValueAtPercentile(p * 100));
      }
    }
  });

  it('thin a large histogram to evenly spaced ranks and keep a small one whole', () => {
    const distribution = latencyDistribution(encoded(latencies(10_000, 10, 3)));
    const sample = thinnedSample(distribution, 1000, 0.5);
    expect(sample).toHaveLength(1000);
    expect([...sample].sort((a, b) => a - b)).toEqual(sample);
    expect(quantileSorted(sample, 0.5)).toBeCloseTo(distributionQuantile(distribution, 0.5) as number, -2);
    expect(thinnedSample(latencyDistribution(encoded([1000, 2000, 2000])), 1000, 0.5)).toEqual([
      1000, 2000, 2000,
    ]);
  });
});

describe('compareRuns', () => {
  const baselineLatency = encoded(latencies(5000, 10, 1));

  it('finds no regression and no effect between identical runs', () => {
    const same = run('a', [point(baselineLatency, [1000, 1040, 980])]);
    const comparison = compareRuns(same, same);
    const [only] = comparison.points;
    expect(comparison.regressed).toBe(false);
    expect(only?.verdict).toBe('unchanged');
    expect(only?.p99Change?.estimate).toBe(0);
    expect(only?.p99Change?.low).toBeLessThan(0);
    expect(only?.p99Change?.high).toBeGreaterThan(0);
    expect(only?.latencyTest?.effect).toBe(0);
    expect(only?.latencyTest?.p).toBe(1);
    expect(only?.throughputChange?.estimate).toBe(0);
  });

  it('flags a 1.5× latency shift as a regression, its interval clear of 0, with a large effect', () => {
    const slower = encoded(latencies(5000, 10, 2).map((value) => value * 1.5));
    const comparison = compareRuns(
      run('base', [point(baselineLatency, [1000, 1040, 980])]),
      run('slow', [point(slower, [1000, 1040, 980])]),
    );
    const [only] = comparison.points;
    expect(comparison.regressed).toBe(true);
    expect(comparison.regressions).toEqual([only?.key]);
    expect(only?.p99Change?.estimate).toBeGreaterThan(0.35);
    expect(only?.p99Change?.estimate).toBeLessThan(0.65);
    expect(only?.p99Change?.low).toBeGreaterThan(0.1);
    expect(only?.latencyTest?.p).toBeLessThan(1e-6);
    expect(only?.latencyTest?.effect).toBeGreaterThan(0.3);
    expect(only?.reasons.join(' ')).toMatch(/^p99 \+/);
  });

  it('does not flag a rise below the threshold, however clear, nor a small noisy sample', () => {
    const slightly = encoded(latencies(5000, 10, 1).map((value) => value * 1.05));
    const comparison = compareRuns(
      run('base', [point(baselineLatency, [1000, 1040, 980])]),
      run('cur', [point(slightly, [1000, 1040, 980])]),
    );
    expect(comparison.points[0]?.p99Change?.estimate).toBeGreaterThan(0.03);
    expect(comparison.regressed).toBe(false);
    // 30 requests per run: a p99 of 30 values is the slowest one, and its interval straddles 0.
    const few = compareRuns(
      run('base', [point(encoded(latencies(30, 10, 5)), [1000])]),
      run('cur', [point(encoded(latencies(30, 10, 6)), [1000])]),
    );
    const change = few.points[0]?.p99Change;
    expect(change?.low).toBeLessThan(0);
    expect(few.points[0]?.verdict).not.toBe('regressed');
  });

  it('is deterministic for a seed, and the seed moves only the intervals', () => {
    const slower = encoded(latencies(5000, 10, 2).map((value) => value * 1.2));
    const base = run('base', [point(baselineLatency, [1000, 1040, 980])]);
    const cur = run('cur', [point(slower, [900, 950, 880])]);
    expect(compareRuns(base, cur, { seed: 7 })).toEqual(compareRuns(base, cur, { seed: 7 }));
    const other = compareRuns(base, cur, { seed: 8 }).points[0];
    const first = compareRuns(base, cur, { seed: 7 }).points[0];
    expect(other?.p99Change?.estimate).toBe(first?.p99Change?.estimate);
    expect(other?.p99Change?.low).not.toBe(first?.p99Change?.low);
  });

  it('draws resampled p99s with the spread of an ordinary bootstrap (resample, sort, read the p99)', () => {
    const values = latencies(2000, 10, 11);
    const histogram = encoded(values);
    const same = run('a', [point(histogram, [1000])]);
    const shortcut = compareRuns(same, same, { resamples: 2000 }).points[0]?.p99Change;
    // The same interval the slow way, over the histogram's own requests.
    const distribution = latencyDistribution(histogram);
    const sorted = thinnedSample(distribution, 2000, 0);
    const random = seededRandom(99);
    const p99OfResample = () => {
      const resample = Float64Array.from(
        sorted,
        () => sorted[Math.floor(random() * sorted.length)] as number,
      );
      resample.sort();
      return resample[Math.ceil(0.99 * resample.length) - 1] as number;
    };
    const p99 = distributionQuantile(distribution, 0.99) as number;
    const naive = Array.from({ length: 1000 }, () => (p99OfResample() - p99OfResample()) / p99).sort(
      (a, b) => a - b,
    );
    // Both are Monte Carlo estimates of the same quantiles (about ±0.14 here): they agree within 0.025.
    expect(Math.abs((shortcut?.low ?? 0) - (quantileSorted(naive, 0.025) as number))).toBeLessThan(0.025);
    expect(Math.abs((shortcut?.high ?? 0) - (quantileSorted(naive, 0.975) as number))).toBeLessThan(0.025);
  });

  it('lists points measured in only one run as unmatched, without comparing them', () => {
    const shared = point(baselineLatency, [1000, 1000]);
    const onlyBefore = point(baselineLatency, [1000, 1000], { max: 2 });
    const onlyAfter = point(encoded(latencies(5000, 30, 3)), [500, 500], { max: 8 });
    const comparison = compareRuns(run('a', [shared, onlyBefore]), run('b', [onlyAfter, shared]));
    expect(comparison.points.map((p) => p.key)).toEqual([shared.key]);
    expect(comparison.unmatched).toEqual({ baselineOnly: [onlyBefore.key], currentOnly: [onlyAfter.key] });
    expect(comparison.regressed).toBe(false);
  });

  it('flags a regression planted in a real run on every point, and none against itself', () => {
    const points = comparablePoints(trialsOf('tune-http-pg'));
    const planted = points.map((p) => ({
      ...p,
      histogram: scaleHistogram(p.histogram, 1.5),
      throughputs: p.throughputs.map((t) => t * 0.8),
    }));
    const against = compareRuns(run('base', points), run('planted', planted));
    expect(against.points).toHaveLength(points.length);
    expect(against.regressions).toHaveLength(points.length);
    const itself = compareRuns(run('base', points), run('base', points));
    expect(itself.regressed).toBe(false);
    expect(itself.points.every((p) => p.latencyTest?.effect === 0)).toBe(true);
  });

  it('rejects thresholds out of range', () => {
    const same = run('a', []);
    expect(() => compareRuns(same, same, { throughputThreshold: 1 })).toThrow(/throughputThreshold/);
    expect(() => compareRuns(same, same, { p99Threshold: -0.1 })).toThrow(/p99Threshold/);
  });
});

describe('the regression rule', () => {
  const thresholds = { p99Threshold: 0.1, throughputThreshold: 0.1 };

  it('needs both the threshold and an interval clear of 0 for latency', () => {
    expect(pointVerdict({ estimate: 0.2, low: 0.05, high: 0.3 }, undefined, thresholds).verdict).toBe(
      'regressed',
    );
    expect(pointVerdict({ estimate: 0.2, low: -0.01, high: 0.5 }, undefined, thresholds).verdict).toBe(
      'unchanged',
    );
    expect(pointVerdict({ estimate: 0.08, low: 0.05, high: 0.11 }, undefined, thresholds).verdict).toBe(
      'unchanged',
    );
    expect(pointVerdict({ estimate: -0.3, low: -0.4, high: -0.2 }, undefined, thresholds).verdict).toBe(
      'improved',
    );
  });

  it('judges throughput by a bootstrap interval over repetitions, or by dominance with one repetition', () => {
    const random = seededRandom(1);
    const clear = compareThroughputs([1000, 1010, 990], [800, 810, 790], {}, random);
    expect(clear).toMatchObject({ method: 'bootstrap', allBelow: true });
    expect(clear?.estimate).toBeCloseTo(-0.2, 10);
    expect(clear?.high).toBeLessThan(0);
    expect(pointVerdict(undefined, clear, thresholds).verdict).toBe('regressed');
    // The medians drop 15%, but the repetitions overlap: the interval reaches above 0.
    const overlapping = compareThroughputs([1000, 800, 1200], [850, 700, 1000], {}, random);
    expect(overlapping?.high).toBeGreaterThan(0);
    expect(pointVerdict(undefined, overlapping, thresholds).verdict).toBe('unchanged');
    const single = compareThroughputs([1000], [850], {}, random);
    expect(single).toEqual({ estimate: -0.15, method: 'dominance', allBelow: true, allAbove: false });
    expect(pointVerdict(undefined, single, thresholds).verdict).toBe('regressed');
    expect(pointVerdict(undefined, compareThroughputs([1000], [950], {}, random), thresholds).verdict).toBe(
      'unchanged',
    );
  });
});

describe('comparablePoints', () => {
  it('groups completed trials by scenario and knobs, merging their histograms', () => {
    const trials = trialsOf('tune-http-pg');
    const points = comparablePoints(trials);
    expect(points).toHaveLength(18);
    const grow = points.find((p) => p.step === '4-grow-pool' && p.knobs.max === 8);
    expect(grow?.key).toBe(
      'saturate@32|connectionTimeoutMillis=5000,idleTimeoutMillis=10000,max=8,maxLifetimeSeconds=0,statement_timeout=30000',
    );
    expect(grow?.trials).toEqual(['t013', 't014', 't015']);
    expect(grow?.throughputs).toHaveLength(3);
    const counts = trials
      .filter((t) => grow?.trials.includes(t.id) && t.status === 'completed')
      .map((t) => (t.status === 'completed' ? decodeHistogram(t.client.histogram).totalCount : 0));
    expect(decodeHistogram(grow?.histogram ?? '').totalCount).toBe(counts.reduce((a, b) => a + b, 0));
  });

  it('leaves invalid and errored trials out, and counts transport errors as attempts', () => {
    const points = comparablePoints(trialsOf('sweep-small'));
    expect(points.flatMap((p) => p.trials)).toEqual(['t001', 't002', 't003', 't004']);
    // t001: 7388 responses of which 4 are 503s, plus 1 timeout that got no response.
    expect(points[0]?.errorRates[0]).toBeCloseTo(5 / 7389, 12);
  });
});

describe('the comparison view', () => {
  it('labels each point by the knobs that set it apart', () => {
    const labels = knobLabels(comparablePoints(trialsOf('tune-http-pg')).map((p) => ({ ...p })));
    const values = [...labels.values()];
    expect(values).toContain('max=1');
    expect(values).toContain('idleTimeoutMillis=1500');
    expect(values).toContain('max=10');
  });

  it('states the verdict, thresholds and each point’s figures', () => {
    const slower = encoded(latencies(5000, 10, 2).map((value) => value * 1.5));
    const base = run('base', [point(encoded(latencies(5000, 10, 1)), [1000, 1040, 980])]);
    const slow = run('slow', [point(slower, [1000, 1040, 980])]);
    const view = buildComparisonView(compareRuns(base, slow), base, slow);
    expect(view.verdictLabel).toBe('regression');
    expect(view.thresholds).toBe('p99 +10%, throughput −10%');
    expect(view.rows[0]).toMatchObject({ verdict: 'regressed', verdictClass: 'fail', knobs: 'max=4' });
    expect(view.rows[0]?.p99Change).toMatch(/^\+\d+\.\d%$/);
    expect(view.rows[0]?.p99Interval).toMatch(/^\[\+\d+\.\d%, \+\d+\.\d%\]$/);
  });
});
