import { JsHistogram } from 'hdr-histogram-js';
import { median, quantileSorted } from 'simple-statistics';
import { type Random, seededRandom } from '../../scenarios/schedule.ts';
import { decodeHistogram } from './histogram.ts';
import { relativeChange } from './statistics.ts';

// Run-to-run comparison (pure): per point, is the current run's latency or throughput worse than the
// baseline's by more than a threshold, and by more than the noise? See `pointVerdict` for the rule.

/** A knob's value, as a point records it. */
type KnobValue = number | boolean | string;

/**
 * One measured point of a run, as `summary.json` carries it (`ComparablePoint`): every repetition of
 * one (scenario, knob values) with the merged latency histogram (compressed base64 HdrHistogram, µs).
 */
export interface ComparableRunPoint {
  /** `scenario|knob=value,...`, knobs sorted by name: equal keys are compared. */
  readonly key: string;
  readonly scenario: string;
  readonly step: string;
  readonly knobs: Readonly<Record<string, KnobValue>>;
  readonly trials: readonly string[];
  readonly throughputs: readonly number[];
  readonly p99Ms: readonly number[];
  readonly errorRates: readonly number[];
  readonly histogram: string;
}

/** A run as the comparison needs it: from a run directory or a `summary.json`. */
export interface ComparableRun {
  readonly runId: string;
  /** How the run is named in tables and legends, e.g. its run id and date. */
  readonly label: string;
  /** The knob that sets the pool's size (the grow-pool step's x axis), when the run says. */
  readonly poolSizeKnob?: string;
  readonly points: readonly ComparableRunPoint[];
}

/** How to compare; every field has a default. */
export interface CompareOptions {
  /** A p99 increase above this share (0.10 = +10%) can be a regression. */
  readonly p99Threshold?: number;
  /** A throughput drop above this share (0.10 = −10%) can be a regression. */
  readonly throughputThreshold?: number;
  /** Same seed, same intervals and test statistics. */
  readonly seed?: number;
  /**
   * Requests per point that the latency test and the p99 interval treat as the sample (fewer when the
   * histogram holds fewer). Requests in a trial are correlated, so the full count would overstate the
   * evidence; the cap also bounds the cost.
   */
  readonly samples?: number;
  /** Bootstrap resamples. */
  readonly resamples?: number;
  /** Two-sided coverage of the intervals. */
  readonly confidence?: number;
}

/** The defaults of {@link CompareOptions}. */
export const compareDefaults = {
  p99Threshold: 0.1,
  throughputThreshold: 0.1,
  seed: 1,
  samples: 4000,
  resamples: 1000,
  confidence: 0.95,
} as const satisfies Required<CompareOptions>;

/** A relative change (current − baseline) / baseline with its interval, when there is one. */
export interface RelativeChange {
  readonly estimate: number;
  readonly low?: number;
  readonly high?: number;
}

/** A Mann–Whitney U test of two samples, with its effect size. */
export interface MannWhitneyResult {
  /** U of the second sample: pairs where it is larger, plus half the ties. */
  readonly u: number;
  readonly n1: number;
  readonly n2: number;
  /** Normal approximation with tie and continuity correction; 0 when every value is tied. */
  readonly z: number;
  /** Two-sided p-value. */
  readonly p: number;
  /**
   * Rank-biserial correlation, equal to Cliff's delta: P(second > first) − P(second < first), in
   * [−1, 1]. Positive when the second sample tends to be larger (for latency: slower).
   */
  readonly effect: number;
}

/** A run's figures at one point. */
export interface PointFigures {
  readonly trials: readonly string[];
  /** Each repetition's throughput (successful responses per second). */
  readonly throughputs: readonly number[];
  /** Median over repetitions. */
  readonly throughput: number;
  /** p99 of the merged histogram (all repetitions' requests), in ms; undefined without requests. */
  readonly p99Ms?: number;
  /** Each repetition's own p99. */
  readonly trialP99Ms: readonly number[];
  /** Mean error rate over repetitions. */
  readonly errorRate: number;
  /** Requests in the merged histogram. */
  readonly requests: number;
}

/** How a throughput drop was judged: by a bootstrap interval, or (too few repetitions) by dominance. */
export interface ThroughputChange extends RelativeChange {
  readonly method: 'bootstrap' | 'dominance';
  /** Every current repetition is below every baseline one. */
  readonly allBelow: boolean;
  /** Every current repetition is above every baseline one. */
  readonly allAbove: boolean;
}

/** What a point's comparison concluded. */
export type PointVerdict = 'regressed' | 'improved' | 'unchanged';

/** One point measured in both runs, compared. */
export interface PointComparison {
  readonly key: string;
  readonly scenario: string;
  readonly step: string;
  readonly knobs: Readonly<Record<string, KnobValue>>;
  readonly baseline: PointFigures;
  readonly current: PointFigures;
  /** Relative change of the merged p99 with its bootstrap interval; undefined when a run has no requests. */
  readonly p99Change?: RelativeChange;
  /** Mann–Whitney U on latency samples thinned from both histograms (baseline first). */
  readonly latencyTest?: MannWhitneyResult;
  /** Relative change of the median throughput; undefined when the baseline's is 0. */
  readonly throughputChange?: ThroughputChange;
  readonly verdict: PointVerdict;
  /** Why, one sentence per criterion that fired (empty when unchanged). */
  readonly reasons: readonly string[];
}

/** Two runs compared point by point. */
export interface RunComparison {
  readonly baseline: { readonly runId: string; readonly label: string };
  readonly current: { readonly runId: string; readonly label: string };
  /** The pool-size knob (current run's, else the baseline's), for charts against pool size. */
  readonly poolSizeKnob?: string;
  readonly thresholds: { readonly p99: number; readonly throughput: number };
  readonly confidence: number;
  /** Points measured in both runs, in the current run's order. */
  readonly points: readonly PointComparison[];
  /** Keys measured in only one run: listed, not compared. */
  readonly unmatched: { readonly baselineOnly: readonly string[]; readonly currentOnly: readonly string[] };
  /** Keys of the points that regressed. */
  readonly regressions: readonly string[];
  readonly regressed: boolean;
}

/**
 * Compares two runs point by point (pure, deterministic for a seed). Points are matched by key;
 * those in only one run are listed as unmatched. Each matched point gets a verdict (see
 * {@link pointVerdict}); the comparison regressed when any point did.
 */
export function compareRuns(
  baseline: ComparableRun,
  current: ComparableRun,
  options: CompareOptions = {},
): RunComparison {
  const settings = { ...compareDefaults, ...definedOnly(options) };
  checkSettings(settings);
  const baselineByKey = new Map(baseline.points.map((point) => [point.key, point]));
  const currentKeys = new Set(current.points.map((point) => point.key));
  const points: PointComparison[] = [];
  const currentOnly: string[] = [];
  for (const point of current.points) {
    const before = baselineByKey.get(point.key);
    if (before === undefined) currentOnly.push(point.key);
    else points.push(comparePoint(before, point, settings));
  }
  const regressions = points.filter((point) => point.verdict === 'regressed').map((point) => point.key);
  const poolSizeKnob = current.poolSizeKnob ?? baseline.poolSizeKnob;
  return {
    baseline: { runId: baseline.runId, label: baseline.label },
    current: { runId: current.runId, label: current.label },
    ...(poolSizeKnob === undefined ? {} : { poolSizeKnob }),
    thresholds: { p99: settings.p99Threshold, throughput: settings.throughputThreshold },
    confidence: settings.confidence,
    points,
    unmatched: {
      baselineOnly: baseline.points.map((point) => point.key).filter((key) => !currentKeys.has(key)),
      currentOnly,
    },
    regressions,
    regressed: regressions.length > 0,
  };
}

type Settings = Required<CompareOptions>;

function definedOnly(options: CompareOptions): Partial<Settings> {
  return Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined));
}

function checkSettings(settings: Settings): void {
  const fail = (what: string) => {
    throw new RangeError(`compareRuns: ${what}`);
  };
  if (!(settings.p99Threshold >= 0)) fail(`p99Threshold must be >= 0, got ${settings.p99Threshold}`);
  if (!(settings.throughputThreshold >= 0 && settings.throughputThreshold < 1)) {
    fail(`throughputThreshold must be in [0, 1), got ${settings.throughputThreshold}`);
  }
  if (!(Number.isInteger(settings.samples) && settings.samples >= 2)) fail('samples must be an integer >= 2');
  if (!(Number.isInteger(settings.resamples) && settings.resamples >= 1)) {
    fail('resamples must be an integer >= 1');
  }
  if (!(settings.confidence > 0 && settings.confidence < 1)) fail('confidence must be in (0, 1)');
}

/** Compares one point measured in both runs; the random streams depend only on the seed and the key. */
export function comparePoint(
  baseline: ComparableRunPoint,
  current: ComparableRunPoint,
  options: CompareOptions = {},
): PointComparison {
  const settings = { ...compareDefaults, ...definedOnly(options) };
  const seed = (settings.seed ^ hashString(current.key)) >>> 0;
  const before = latencyDistribution(baseline.histogram);
  const after = latencyDistribution(current.histogram);
  const p99Before = distributionQuantile(before, 0.99);
  const p99After = distributionQuantile(after, 0.99);
  const figures = (point: ComparableRunPoint, p99: number | undefined, requests: number): PointFigures => ({
    trials: point.trials,
    throughputs: point.throughputs,
    throughput: point.throughputs.length === 0 ? 0 : median([...point.throughputs]),
    ...(p99 === undefined ? {} : { p99Ms: p99 / 1000 }),
    trialP99Ms: point.p99Ms,
    errorRate: point.errorRates.length === 0 ? 0 : sum(point.errorRates) / point.errorRates.length,
    requests,
  });
  let p99Change: RelativeChange | undefined;
  let latencyTest: MannWhitneyResult | undefined;
  if (p99Before !== undefined && p99After !== undefined && p99Before > 0) {
    p99Change = p99Interval(before, after, settings, seededRandom(seed));
    const offset = seededRandom(seed + 1)();
    latencyTest = mannWhitneyU(
      thinnedSample(before, settings.samples, offset),
      thinnedSample(after, settings.samples, offset),
    );
  }
  const throughputChange = compareThroughputs(
    baseline.throughputs,
    current.throughputs,
    settings,
    seededRandom(seed + 2),
  );
  const { verdict, reasons } = pointVerdict(p99Change, throughputChange, settings);
  return {
    key: current.key,
    scenario: current.scenario,
    step: current.step,
    knobs: current.knobs,
    baseline: figures(baseline, p99Before, before.total),
    current: figures(current, p99After, after.total),
    ...(p99Change === undefined ? {} : { p99Change }),
    ...(latencyTest === undefined ? {} : { latencyTest }),
    ...(throughputChange === undefined ? {} : { throughputChange }),
    verdict,
    reasons,
  };
}

/**
 * The regression rule. A point **regresses** when
 * - its p99 rose by more than `p99Threshold` (point estimate, merged histograms) and the lower bound of
 *   the bootstrap interval of that rise is above 0, or
 * - its median throughput fell by more than `throughputThreshold` and the fall is beyond the noise: the
 *   bootstrap interval over repetitions lies below 0, or, with fewer than two repetitions in a run (no
 *   interval), every current repetition is below every baseline one.
 *
 * It **improved** by the mirror-image rule, when it did not regress; otherwise it is unchanged. Both
 * conditions are needed: the threshold keeps a statistically clear but negligible shift from failing a
 * build, the interval keeps a large but noisy difference from doing so. The Mann–Whitney test and its
 * effect size are reported beside the verdict, not part of it: with thousands of requests almost any
 * shift is "significant", and the question a gate asks is about the tail (p99) and capacity.
 */
export function pointVerdict(
  p99Change: RelativeChange | undefined,
  throughputChange: ThroughputChange | undefined,
  thresholds: { readonly p99Threshold: number; readonly throughputThreshold: number },
): { verdict: PointVerdict; reasons: string[] } {
  const worse: string[] = [];
  const better: string[] = [];
  const pct = (value: number, digits = 1) =>
    `${value < 0 ? '−' : '+'}${Math.abs(value * 100).toFixed(digits)}%`;
  if (p99Change !== undefined) {
    const { estimate, low, high } = p99Change;
    if (estimate > thresholds.p99Threshold && low !== undefined && low > 0) {
      worse.push(
        `p99 ${pct(estimate)} (interval from ${pct(low)}), above the ${pct(thresholds.p99Threshold, 0)} threshold`,
      );
    } else if (estimate < -thresholds.p99Threshold && high !== undefined && high < 0) {
      better.push(`p99 ${pct(estimate)} (interval up to ${pct(high)})`);
    }
  }
  if (throughputChange !== undefined) {
    const { estimate, high, low, method } = throughputChange;
    const clearlyLower = method === 'bootstrap' ? high !== undefined && high < 0 : throughputChange.allBelow;
    const clearlyHigher = method === 'bootstrap' ? low !== undefined && low > 0 : throughputChange.allAbove;
    const why = method === 'bootstrap' ? 'interval below 0' : 'every repetition below the baseline’s';
    if (estimate < -thresholds.throughputThreshold && clearlyLower) {
      worse.push(
        `throughput ${pct(estimate)} (${why}), beyond the ${pct(-thresholds.throughputThreshold, 0)} threshold`,
      );
    } else if (estimate > thresholds.throughputThreshold && clearlyHigher) {
      better.push(`throughput ${pct(estimate)}`);
    }
  }
  if (worse.length > 0) return { verdict: 'regressed', reasons: worse };
  if (better.length > 0) return { verdict: 'improved', reasons: better };
  return { verdict: 'unchanged', reasons: [] };
}

/**
 * Mann–Whitney U test of `second` against `first` (two-sided; normal approximation with tie and
 * continuity correction, as scipy's `mannwhitneyu(..., method='asymptotic')`), with the rank-biserial
 * effect size. Undefined-free: empty samples give U 0, p 1, effect 0.
 */
export function mannWhitneyU(first: readonly number[], second: readonly number[]): MannWhitneyResult {
  const n1 = first.length;
  const n2 = second.length;
  if (n1 === 0 || n2 === 0) return { u: 0, n1, n2, z: 0, p: 1, effect: 0 };
  const a = Float64Array.from(first).sort();
  const b = Float64Array.from(second).sort();
  // Walk both sorted samples in step, one group of equal values at a time: each gets the mean rank.
  let i = 0;
  let j = 0;
  let ranked = 0;
  let rankSum2 = 0;
  let ties = 0;
  while (i < n1 || j < n2) {
    const value = Math.min(
      i < n1 ? (a[i] as number) : Number.POSITIVE_INFINITY,
      j < n2 ? (b[j] as number) : Number.POSITIVE_INFINITY,
    );
    let inFirst = 0;
    let inSecond = 0;
    while (i < n1 && a[i] === value) {
      inFirst++;
      i++;
    }
    while (j < n2 && b[j] === value) {
      inSecond++;
      j++;
    }
    const t = inFirst + inSecond;
    rankSum2 += inSecond * (ranked + (t + 1) / 2);
    ranked += t;
    ties += t * t * t - t;
  }
  const n = n1 + n2;
  const u = rankSum2 - (n2 * (n2 + 1)) / 2;
  const mean = (n1 * n2) / 2;
  const variance = ((n1 * n2) / 12) * (n + 1 - ties / (n * (n - 1)));
  const effect = (2 * u) / (n1 * n2) - 1;
  if (!(variance > 0)) return { u, n1, n2, z: 0, p: 1, effect };
  const z = Math.max(0, Math.abs(u - mean) - 0.5) / Math.sqrt(variance);
  return { u, n1, n2, z: u >= mean ? z : -z, p: Math.min(1, erfc(z / Math.SQRT2)), effect };
}

/** A latency histogram as sorted distinct values (µs, highest equivalent value) and cumulative counts. */
export interface LatencyDistribution {
  readonly values: Float64Array;
  readonly cumulative: Float64Array;
  readonly total: number;
}

/** Reads a compressed base64 HdrHistogram into a {@link LatencyDistribution}. */
export function latencyDistribution(encoded: string): LatencyDistribution {
  const histogram = decodeHistogram(encoded);
  if (!(histogram instanceof JsHistogram)) throw new Error('expected a JS histogram from decodeHistogram');
  const values: number[] = [];
  const cumulative: number[] = [];
  let total = 0;
  const steps = histogram.recordedValuesIterator;
  steps.reset();
  while (steps.hasNext()) {
    const step = steps.next();
    total += step.countAtValueIteratedTo;
    values.push(step.valueIteratedTo);
    cumulative.push(total);
  }
  return { values: Float64Array.from(values), cumulative: Float64Array.from(cumulative), total };
}

/**
 * Quantile `p` (0–1) of a distribution, as HdrHistogram's `getValueAtPercentile` reads it: the value
 * of the ⌈p·n⌉-th smallest request. Undefined when it is empty.
 */
export function distributionQuantile(distribution: LatencyDistribution, p: number): number | undefined {
  if (distribution.total === 0) return undefined;
  return valueAtRank(distribution, quantileRank(p, distribution.total));
}

/** The rank (1-based) of quantile `p` among `n` values, guarding against p·n landing 1 ulp above an integer. */
function quantileRank(p: number, n: number): number {
  return Math.min(n, Math.max(1, Math.ceil(p * n * (1 - 1e-12))));
}

/** The value of the request at `rank` (1-based, fractional ranks round up) in the distribution. */
function valueAtRank(distribution: LatencyDistribution, rank: number): number {
  const { values, cumulative } = distribution;
  let low = 0;
  let high = cumulative.length - 1;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if ((cumulative[middle] as number) >= rank) high = middle;
    else low = middle + 1;
  }
  return values[low] as number;
}

/**
 * At most `size` latencies standing for a distribution: all of its requests when it holds no more,
 * else a systematic sample of its sorted requests (every (total / size)-th, from a start `offset` ∈ [0, 1)
 * of a step). Thinning the sorted requests keeps their shape exactly, where independent draws would
 * add noise of their own: two identical histograms give identical samples, not a random p-value.
 */
export function thinnedSample(distribution: LatencyDistribution, size: number, offset: number): number[] {
  const { values, cumulative, total } = distribution;
  const sample: number[] = [];
  if (total <= size) {
    let previous = 0;
    values.forEach((value, index) => {
      const count = (cumulative[index] as number) - previous;
      previous = cumulative[index] as number;
      for (let k = 0; k < count; k++) sample.push(value);
    });
    return sample;
  }
  let index = 0;
  for (let k = 0; k < size; k++) {
    const rank = Math.floor(((k + offset) * total) / size) + 1;
    while ((cumulative[index] as number) < rank) index++;
    sample.push(values[index] as number);
  }
  return sample;
}

/**
 * Percentile-bootstrap interval of (p99 current − p99 baseline) / p99 baseline, each run's p99 taken
 * over a resample of m = min(requests, `samples`) requests drawn with replacement from its histogram.
 * Instead of sorting m values per resample, each resample's p99 is drawn directly: the k-th smallest of
 * m draws is the distribution's value at U(k), the k-th order statistic of m uniforms, which is
 * Beta(k, m − k + 1) distributed. That is the same distribution, at O(1) per resample.
 */
function p99Interval(
  before: LatencyDistribution,
  after: LatencyDistribution,
  settings: Settings,
  random: Random,
): RelativeChange {
  const estimateBefore = distributionQuantile(before, 0.99) as number;
  const estimateAfter = distributionQuantile(after, 0.99) as number;
  const resampledP99 = orderStatisticSampler(before, settings.samples, random);
  const resampledP99After = orderStatisticSampler(after, settings.samples, random);
  const replicates = new Float64Array(settings.resamples);
  for (let r = 0; r < settings.resamples; r++) {
    replicates[r] = relativeChange(resampledP99(), resampledP99After());
  }
  replicates.sort();
  const sorted = Array.from(replicates);
  return {
    estimate: relativeChange(estimateBefore, estimateAfter),
    low: quantileSorted(sorted, (1 - settings.confidence) / 2),
    high: quantileSorted(sorted, (1 + settings.confidence) / 2),
  };
}

/** Draws the p99 of a bootstrap resample of min(requests, `samples`) requests from a distribution. */
function orderStatisticSampler(
  distribution: LatencyDistribution,
  samples: number,
  random: Random,
): () => number {
  const m = Math.min(distribution.total, samples);
  const k = quantileRank(0.99, m);
  return () => {
    const u = betaVariate(k, m - k + 1, random);
    // Map the uniform order statistic through the distribution's quantile function.
    return valueAtRank(distribution, Math.max(1, Math.ceil(u * distribution.total)));
  };
}

/**
 * Relative change of the median throughput over repetitions. With at least two repetitions in each
 * run, a percentile-bootstrap interval (each run's repetitions resampled on their own); with fewer,
 * no interval, and the verdict falls back to whether every current repetition is below (or above)
 * every baseline one. Undefined when either run has no repetitions or the baseline's median is 0.
 */
export function compareThroughputs(
  baseline: readonly number[],
  current: readonly number[],
  options: { readonly resamples?: number; readonly confidence?: number },
  random: Random,
): ThroughputChange | undefined {
  if (baseline.length === 0 || current.length === 0) return undefined;
  const before = median([...baseline]);
  if (before === 0) return undefined;
  const estimate = relativeChange(before, median([...current]));
  const allBelow = Math.max(...current) < Math.min(...baseline);
  const allAbove = Math.min(...current) > Math.max(...baseline);
  if (baseline.length < 2 || current.length < 2) return { estimate, method: 'dominance', allBelow, allAbove };
  const resamples = options.resamples ?? compareDefaults.resamples;
  const confidence = options.confidence ?? compareDefaults.confidence;
  const replicates: number[] = new Array(resamples);
  for (let r = 0; r < resamples; r++) {
    replicates[r] = relativeChange(resampledMedian(baseline, random), resampledMedian(current, random));
  }
  replicates.sort((x, y) => x - y);
  return {
    estimate,
    low: quantileSorted(replicates, (1 - confidence) / 2),
    high: quantileSorted(replicates, (1 + confidence) / 2),
    method: 'bootstrap',
    allBelow,
    allAbove,
  };
}

function resampledMedian(values: readonly number[], random: Random): number {
  const resample = values.map(() => values[Math.floor(random() * values.length)] as number);
  return median(resample);
}

/** A Beta(a, b) variate for a, b ≥ 1, as X / (X + Y) of two gamma variates. */
function betaVariate(a: number, b: number, random: Random): number {
  const x = gammaVariate(a, random);
  const y = gammaVariate(b, random);
  return x / (x + y);
}

/** A Gamma(shape, 1) variate for shape ≥ 1 (Marsaglia and Tsang, 2000). */
function gammaVariate(shape: number, random: Random): number {
  const d = shape - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    let x: number;
    let v: number;
    do {
      x = normalVariate(random);
      v = 1 + c * x;
    } while (v <= 0);
    v = v * v * v;
    const u = random();
    if (u < 1 - 0.0331 * x ** 4) return d * v;
    if (Math.log(u) < 0.5 * x * x + d * (1 - v + Math.log(v))) return d * v;
  }
}

/** A standard normal variate (Box–Muller). */
function normalVariate(random: Random): number {
  let u = random();
  while (u === 0) u = random();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
}

/**
 * The complementary error function, with a relative error below 1.2e-7 everywhere (Numerical
 * Recipes' `erfcc`): unlike 1 − erf(x), it keeps its precision in the tails, where small p-values live.
 */
export function erfc(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const poly =
    -1.26551223 +
    t *
      (1.00002368 +
        t *
          (0.37409196 +
            t *
              (0.09678418 +
                t *
                  (-0.18628806 +
                    t *
                      (0.27886807 +
                        t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277))))))));
  const result = t * Math.exp(-z * z + poly);
  return x >= 0 ? result : 2 - result;
}

/** FNV-1a hash of a string: a point's own seed, so its numbers do not depend on the other points. */
function hashString(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

function sum(values: readonly number[]): number {
  let total = 0;
  for (const value of values) total += value;
  return total;
}
