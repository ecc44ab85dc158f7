import { describe, expect, it } from 'vitest';
import { analysePlateau, type SizeRuns } from '../../harness/analysis/plateau.ts';

const runs = (n: number, values: readonly number[]): SizeRuns => ({
  n,
  runs: values.map((throughput, i) => ({ id: `t${n}-${i}`, throughput })),
});

describe('plateau by equivalence to the best', () => {
  const sizes = [
    runs(4, [1500, 1510, 1490]),
    runs(8, [2980, 3010, 3000]),
    runs(16, [3020, 2990, 3010]),
    runs(32, [3000, 3025, 2985]),
  ];

  it('puts the sizes shown equivalent to the best on the plateau, and the rising part off it', () => {
    const found = analysePlateau(sizes, { margin: 0.05, repetitions: 3 });
    expect(found?.best).toBe(16);
    expect(found?.plateau).toEqual([8, 16, 32]);
    expect(found?.sizes.find((s) => s.n === 4)?.equivalence?.verdict).toBe('worse');
    expect(found?.margin).toBe(0.05);
  });

  it('widens the margin to what a noisy machine can resolve, and says so', () => {
    // A little noise: the margin becomes what the machine can resolve.
    const some = analysePlateau(sizes, { margin: 0.05, repetitions: 3, calibration: [2850, 3000, 3150] });
    expect(some?.resolvable).toBeGreaterThan(0.05);
    expect(some?.resolvable).toBeLessThan(0.1);
    expect(some?.margin).toBe(some?.resolvable);
    expect(some?.requestedMargin).toBe(0.05);
    // A lot of noise: it widens no further than twice the configured margin.
    const much = analysePlateau(sizes, { margin: 0.05, repetitions: 3, calibration: [2400, 3000, 3600] });
    expect(much?.resolvable).toBeGreaterThan(0.1);
    expect(much?.margin).toBe(0.1);
  });

  it('keeps a size the widened margin calls equivalent off the plateau when its mean is over 5% down', () => {
    // About 4% noise widens the margin to about 9.5%; 8 at 93.5% of the best passes the TOST within it
    // on a dozen repetitions each, but its mean is not within tuning.minGain of the best's.
    const many = (n: number, level: number) =>
      runs(
        n,
        Array.from({ length: 12 }, (_, i) => level * (1 + (i % 2 === 0 ? 0.04 : -0.04))),
      );
    const found = analysePlateau([many(8, 2805), many(12, 2960), many(16, 3000)], {
      margin: 0.05,
      repetitions: 3,
      calibration: [2850, 3000, 3150, 2900, 3100],
    });
    const eight = found?.sizes.find((s) => s.n === 8);
    expect(found?.margin).toBeGreaterThan(0.07);
    expect(eight?.equivalence?.verdict).toBe('equivalent');
    expect(eight?.onPlateau).toBe(false);
    expect(found?.plateau).toEqual([12, 16]);
  });

  it('tests the smaller sizes against the best pooled with the larger sizes, not the luckiest size alone', () => {
    // 16 drew a lucky 3,200; 32 and 64 read 3,000 like 8. Against 16 alone, 8 is 6% down; against the
    // plateau's level (16, 32 and 64 pooled) it is 2% down and on the plateau.
    const lucky = [
      runs(4, [1500, 1510, 1490]),
      runs(8, [2950, 3000, 3050]),
      runs(16, [3200, 3150, 3250]),
      runs(32, [3000, 2980, 3020]),
      runs(64, [3010, 2990, 3000]),
    ];
    const found = analysePlateau(lucky, { margin: 0.05, repetitions: 3, calibration: [2700, 3000, 3300] });
    expect(found?.best).toBe(16);
    expect(found?.reference).toEqual([16, 32, 64]);
    const eight = found?.sizes.find((s) => s.n === 8);
    expect(eight?.equivalence?.ratio).toBeCloseTo(3000 / 3067, 2);
    expect(eight?.onPlateau).toBe(true);
    expect(found?.plateau[0]).toBe(8);
    expect(found?.sizes.find((s) => s.n === 4)?.onPlateau).toBe(false);
  });

  it('leaves out a flagged outlier from the means and keeps it on record', () => {
    const found = analysePlateau([...sizes, runs(12, [3000, 1400, 3005])], { margin: 0.05, repetitions: 3 });
    const twelve = found?.sizes.find((s) => s.n === 12);
    expect(twelve?.runs.map((r) => r.outlier)).toEqual([false, true, false]);
    expect(twelve?.mean).toBe(3002.5);
    expect(found?.plateau).toEqual([8, 12, 16, 32]);
  });
});
