import { median } from 'simple-statistics';

/** A pool size with the throughput of each repetition. */
export interface RepeatedPoint {
  readonly n: number;
  readonly throughputs: readonly number[];
}

const medianOf = (values: readonly number[]): number => (values.length === 0 ? 0 : median([...values]));

/**
 * The throughput of the plateau: the median of the points from half the best size up. The best point
 * alone is a poor level: on a flat, noisy plateau it is the luckiest of many draws, and the more sizes
 * are measured the luckier it gets, which would push the recommendation right.
 */
export function plateauLevel(medians: readonly { readonly n: number; readonly value: number }[]): number {
  const best = medians.reduce((top, m) => (m.value > top.value ? m : top), medians[0] ?? { n: 0, value: 0 });
  return medianOf(medians.filter((m) => m.n >= best.n / 2).map((m) => m.value));
}

/** The smallest size whose median throughput is within `minGain` of the plateau level: where the plateau starts. */
export function plateauStart(points: readonly RepeatedPoint[], minGain: number): number | undefined {
  const medians = points
    .filter((p) => p.throughputs.length > 0)
    .map((p) => ({ n: p.n, value: medianOf(p.throughputs) }));
  if (medians.length === 0) return undefined;
  const level = plateauLevel(medians);
  return medians.filter((m) => m.value >= (1 - minGain) * level).sort((a, b) => a.n - b.n)[0]?.n;
}
