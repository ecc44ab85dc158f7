import { median, quantile, quantileSorted, sampleWithReplacement } from 'simple-statistics';
import type { Random } from '../../scenarios/schedule.ts';

/** How to bootstrap: the random source is required so the same seed gives the same interval. */
export interface BootstrapOptions {
  /** Resamples drawn; percentile intervals read the tails, which a few hundred resamples estimate poorly. */
  readonly iterations?: number;
  /** Two-sided coverage, e.g. 0.95. */
  readonly confidence?: number;
  readonly random: Random;
}

/** A statistic of the observed sample with its percentile-bootstrap interval. */
export interface BootstrapInterval {
  readonly estimate: number;
  readonly low: number;
  readonly high: number;
}

/** Resamples drawn when the caller does not say. */
export const defaultBootstrapIterations = 1000;
/** Coverage used when the caller does not say. */
export const defaultBootstrapConfidence = 0.95;

/**
 * Percentile bootstrap: resample `samples` with replacement `iterations` times, apply `statistic` to
 * each resample, and take the (1 − c)/2 and (1 + c)/2 quantiles of the results. Undefined for no samples.
 * With the handful of repetitions a trial point has, the interval is only as wide as the values seen:
 * it shows spread, not a guarantee.
 */
export function bootstrapInterval(
  samples: readonly number[],
  statistic: (sample: readonly number[]) => number,
  options: BootstrapOptions,
): BootstrapInterval | undefined {
  const iterations = options.iterations ?? defaultBootstrapIterations;
  const confidence = options.confidence ?? defaultBootstrapConfidence;
  if (!Number.isInteger(iterations) || iterations < 1) {
    throw new RangeError(`bootstrapInterval: iterations must be an integer >= 1, got ${iterations}`);
  }
  if (!(confidence > 0 && confidence < 1)) {
    throw new RangeError(`bootstrapInterval: confidence must be in (0, 1), got ${confidence}`);
  }
  if (samples.length === 0) return undefined;
  const population = [...samples];
  const replicates: number[] = new Array(iterations);
  for (let i = 0; i < iterations; i++) {
    replicates[i] = statistic(sampleWithReplacement(population, population.length, options.random));
  }
  replicates.sort((a, b) => a - b);
  return {
    estimate: statistic(population),
    low: quantileSorted(replicates, (1 - confidence) / 2),
    high: quantileSorted(replicates, (1 + confidence) / 2),
  };
}

/** The median of repetitions (e.g. each repetition's throughput) with its bootstrap interval. */
export function bootstrapMedian(
  samples: readonly number[],
  options: BootstrapOptions,
): BootstrapInterval | undefined {
  return bootstrapInterval(samples, median, options);
}

/**
 * Quantile `p` of the values (e.g. 0.99 over pooled latencies) with its bootstrap interval. Over a few
 * repetitions' own p99s, use {@link bootstrapMedian} instead: a p99 of five values is nearly their maximum.
 */
export function bootstrapQuantile(
  samples: readonly number[],
  p: number,
  options: BootstrapOptions,
): BootstrapInterval | undefined {
  return bootstrapInterval(samples, (sample) => quantile(sample, p), options);
}
