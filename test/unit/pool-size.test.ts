import { describe, expect, it } from 'vitest';
import { analysePlateau, type SizeRuns } from '../../harness/analysis/plateau.ts';
import { recommendationUncertainty, recommendSize } from '../../harness/analysis/pool-size.ts';
import { seededRandom } from '../../scenarios/schedule.ts';

const runs = (n: number, values: readonly number[]): SizeRuns => ({
  n,
  runs: values.map((throughput, i) => ({ id: `t${n}-${i}`, throughput })),
});

describe('pool size recommendation', () => {
  it('is the smallest plateau size above every size that failed the headroom check', () => {
    const plateau = { plateau: [8, 12, 16, 32] };
    expect(recommendSize(plateau, [])).toBe(8);
    expect(recommendSize(plateau, [8])).toBe(12);
    expect(recommendSize(plateau, [8, 12])).toBe(16);
    expect(recommendSize(plateau, [32])).toBeUndefined();
  });

  it('states its own uncertainty: none when the data are clear, some when the edge is close', () => {
    const clear = analysePlateau(
      [runs(4, [1500, 1510, 1490]), runs(8, [3000, 3010, 2990]), runs(16, [3005, 2995, 3000])],
      { margin: 0.05, repetitions: 3 },
    );
    if (clear === undefined) throw new Error('no plateau');
    const sure = recommendationUncertainty(clear, { margin: 0.05, repetitions: 3 }, [], 8, seededRandom(1));
    expect(sure).toMatchObject({ low: 8, high: 8, otherShare: 0 });

    const close = analysePlateau(
      [runs(4, [2700, 2950, 2800]), runs(8, [2900, 3100, 2850]), runs(16, [3050, 2950, 3100])],
      { margin: 0.05, repetitions: 3 },
    );
    if (close === undefined) throw new Error('no plateau');
    const rec = recommendSize(close, []) ?? 0;
    const unsure = recommendationUncertainty(
      close,
      { margin: 0.05, repetitions: 3 },
      [],
      rec,
      seededRandom(1),
    );
    expect(unsure?.otherShare).toBeGreaterThan(0);
    expect(unsure?.low).toBeLessThanOrEqual(rec);
    expect(unsure?.high).toBeGreaterThanOrEqual(rec);
  });
});
