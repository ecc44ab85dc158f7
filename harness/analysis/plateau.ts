import { quantileSorted } from 'simple-statistics';
import type { Random } from '../../scenarios/schedule.ts';

/** A pool size with the throughput of each repetition. */
export interface RepeatedPoint {
  readonly n: number;
  readonly throughputs: readonly number[];
}

const medianOf = (values: readonly number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
};

/** The smallest size whose median throughput is within `minGain` of the best median: where the plateau starts. */
export function plateauStart(points: readonly RepeatedPoint[], minGain: number): number | undefined {
  const medians = points
    .filter((p) => p.throughputs.length > 0)
    .map((p) => ({ n: p.n, median: medianOf(p.throughputs) }));
  if (medians.length === 0) return undefined;
  const best = Math.max(...medians.map((m) => m.median));
  return medians.filter((m) => m.median >= (1 - minGain) * best).sort((a, b) => a.n - b.n)[0]?.n;
}

/**
 * A percentile-bootstrap interval for the plateau start: resample each size's repetitions with
 * replacement, apply the same rule, and take the 2.5% and 97.5% quantiles of the sizes chosen.
 */
export function plateauInterval(
  points: readonly RepeatedPoint[],
  minGain: number,
  random: Random,
  iterations = 500,
): { low: number; high: number } | undefined {
  const chosen: number[] = [];
  for (let i = 0; i < iterations; i++) {
    const resampled = points.map((p) => ({
      n: p.n,
      throughputs: p.throughputs.map(() => p.throughputs[Math.floor(random() * p.throughputs.length)] ?? 0),
    }));
    const n = plateauStart(resampled, minGain);
    if (n !== undefined) chosen.push(n);
  }
  if (chosen.length === 0) return undefined;
  chosen.sort((a, b) => a - b);
  return { low: quantileSorted(chosen, 0.025), high: quantileSorted(chosen, 0.975) };
}
