import type { Random } from '../../scenarios/schedule.ts';
import { plateauStart, type RepeatedPoint } from './plateau.ts';
import { quantile } from './statistics.ts';
import { fitUsl, type UslFit } from './usl.ts';

/** The recommended pool size and how it was chosen. */
export interface SizeChoice {
  readonly n: number;
  readonly rule: string;
  /** The USL fit behind the choice, when it fitted well. */
  readonly fit?: UslFit;
}

/**
 * The pool size to recommend: where the USL curve fitted to every repetition first comes within
 * `minGain` of its own maximum over the measured range (a smooth curve is not fooled by one lucky
 * point, and does not depend on which sizes the search happened to measure); when the fit is poor,
 * the measured plateau start instead. Pure.
 */
export function chooseSize(points: readonly RepeatedPoint[], minGain: number): SizeChoice | undefined {
  const measured = points.filter((p) => p.throughputs.length > 0);
  if (measured.length === 0) return undefined;
  const fit = fitUsl(measured.flatMap((p) => p.throughputs.map((throughput) => ({ n: p.n, throughput }))));
  const sizes = measured.map((p) => p.n);
  const lowest = Math.min(...sizes);
  const highest = Math.max(...sizes);
  if (fit !== undefined && fit.quality === 'good') {
    const top = Math.min(fit.peakN, highest);
    const target = (1 - minGain) * fit.predict(top);
    for (let n = Math.ceil(lowest); n <= highest; n++) {
      if (fit.predict(n) >= target) {
        return {
          n,
          fit,
          rule: `the USL fit (R² ${fit.rSquared.toFixed(3)}) comes within ${(minGain * 100).toFixed(0)}% of its maximum over the measured sizes at ${n}`,
        };
      }
    }
  }
  const n = plateauStart(measured, minGain);
  if (n === undefined) return undefined;
  const why =
    fit === undefined
      ? 'too few sizes for a USL fit'
      : fit.quality === 'poor'
        ? `the USL fit is poor: ${fit.reason}`
        : 'the fit found no size';
  return {
    n,
    rule: `the smallest measured size within ${(minGain * 100).toFixed(0)}% of the plateau's throughput (${why})`,
    ...(fit === undefined ? {} : { fit }),
  };
}

/** A 95% percentile-bootstrap interval of {@link chooseSize}, resampling each size's repetitions. */
export function sizeInterval(
  points: readonly RepeatedPoint[],
  minGain: number,
  random: Random,
  iterations = 300,
): { low: number; high: number } | undefined {
  const chosen: number[] = [];
  for (let i = 0; i < iterations; i++) {
    const resampled = points.map((p) => ({
      n: p.n,
      throughputs: p.throughputs.map(() => p.throughputs[Math.floor(random() * p.throughputs.length)] ?? 0),
    }));
    const choice = chooseSize(resampled, minGain);
    if (choice !== undefined) chosen.push(choice.n);
  }
  const low = quantile(chosen, 0.025);
  const high = quantile(chosen, 0.975);
  return low === undefined || high === undefined
    ? undefined
    : { low: Math.floor(low), high: Math.ceil(high) };
}
