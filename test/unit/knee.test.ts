import { describe, expect, it } from 'vitest';
import { kneedle, marginalGainKnee } from '../../harness/analysis/knee.ts';

const range = (from: number, to: number, step = 1) =>
  Array.from({ length: Math.round((to - from) / step) + 1 }, (_, i) => from + i * step);

describe('kneedle', () => {
  it('finds the exact elbow of a piecewise-linear curve', () => {
    const points = range(0, 40).map((x) => ({ x, y: Math.min(x, 10) }));
    expect(kneedle(points)).toEqual({ x: 10, y: 10, index: 10, difference: 0.75 });
  });

  it('finds x = sqrt(1 + X) − 1 on y = x / (1 + x) over [0, X]', () => {
    // d/dx of the scaled difference is zero where (1 + x)² = 1 + X: x = 9 for X = 99.
    const points = range(0, 99).map((x) => ({ x, y: x / (1 + x) }));
    expect(kneedle(points)?.x).toBe(9);
  });

  it('finds τ ln(X / (τ(1 − e^(−X/τ)))) on y = 1 − e^(−x/τ), within one sample', () => {
    const tau = 2;
    const points = range(0, 20, 0.1).map((x) => ({ x, y: 1 - Math.exp(-x / tau) }));
    const expected = tau * Math.log(20 / (tau * (1 - Math.exp(-20 / tau))));
    expect(expected).toBeCloseTo(4.6053, 4);
    expect(Math.abs((kneedle(points)?.x ?? 0) - expected)).toBeLessThanOrEqual(0.1);
  });

  it('works on log2(x) for geometric sizes, and returns x in the caller units', () => {
    const elbow = [1, 2, 4, 8, 16, 32, 64, 128, 256].map((n) => ({ x: n, y: Math.min(Math.log2(n), 4) }));
    expect(kneedle(elbow, { logX: true })?.x).toBe(16);
    // y = n / (4 + n) on 1..256: the scaled difference peaks at n ≈ 19.4 on a log2 axis (nearest sample 16)
    // and at n = sqrt(1300) − 4 ≈ 32.1 on a linear one, where the many small sizes crowd into the corner.
    const saturating = [1, 2, 4, 8, 16, 32, 64, 128, 256].map((n) => ({ x: n, y: n / (4 + n) }));
    expect(kneedle(saturating, { logX: true })?.x).toBe(16);
    expect(kneedle(saturating)?.x).toBe(32);
  });

  it('merges repeated x into their median', () => {
    const points = range(0, 40).flatMap((x) => [
      { x, y: Math.min(x, 10) },
      { x, y: Math.min(x, 10) + 5 },
      { x, y: Math.min(x, 10) - 5 },
    ]);
    expect(kneedle(points)?.x).toBe(10);
  });

  it('finds no knee on a straight line, a convex curve, a flat curve or too few points', () => {
    expect(kneedle(range(0, 10).map((x) => ({ x, y: 3 * x })))).toBeUndefined();
    expect(kneedle(range(0, 10).map((x) => ({ x, y: x * x })))).toBeUndefined();
    expect(kneedle(range(0, 10).map((x) => ({ x, y: 7 })))).toBeUndefined();
    expect(
      kneedle([
        { x: 1, y: 1 },
        { x: 2, y: 2 },
      ]),
    ).toBeUndefined();
  });

  it('with a sensitivity, confirms a maximum only once the curve drops S/(n−1) below it', () => {
    const points = range(0, 99).map((x) => ({ x, y: x / (1 + x) }));
    expect(kneedle(points, { sensitivity: 1 })?.x).toBe(9);
    // A drop of 100 steps never happens inside [0, 1]: no knee is confirmed.
    expect(kneedle(points, { sensitivity: 100 })).toBeUndefined();
    // An elbow at the last interior point is never followed by a drop large enough to confirm it.
    const late = range(0, 10).map((x) => ({ x, y: Math.min(x, 9) }));
    expect(kneedle(late)?.x).toBe(9);
    expect(kneedle(late, { sensitivity: 1 })).toBeUndefined();
  });

  it('rejects x <= 0 on a log axis', () => {
    expect(() =>
      kneedle(
        [
          { x: 0, y: 1 },
          { x: 1, y: 2 },
          { x: 2, y: 3 },
        ],
        { logX: true },
      ),
    ).toThrow(RangeError);
  });
});

describe('marginalGainKnee', () => {
  it('stops where the gain per doubling of y = n / (4 + n) falls below 5%', () => {
    // Gain per doubling is 4 / (4 + 2n): 5.9% from 32, 2.9% from 64.
    const points = [1, 2, 4, 8, 16, 32, 64, 128].map((n) => ({ x: n, y: (1000 * n) / (4 + n) }));
    const result = marginalGainKnee(points, 0.05);
    expect(result.x).toBe(64);
    expect(result.gains.map((g) => g.gain)[5]).toBeCloseTo(4 / 68, 12);
    expect(result.gains.map((g) => g.gain)[6]).toBeCloseTo(4 / 132, 12);
  });

  it('scales uneven steps to a doubling, or takes them as measured', () => {
    const points = [
      { x: 8, y: 100 },
      { x: 12, y: 110 },
    ];
    expect(marginalGainKnee(points, 0.05).gains[0]?.gain).toBeCloseTo(1.1 ** (1 / Math.log2(1.5)) - 1, 12);
    expect(marginalGainKnee(points, 0.05, { per: 'step' }).gains[0]?.gain).toBeCloseTo(0.1, 12);
  });

  it('is not fooled by one noisy dip on the way up', () => {
    const y = [100, 200, 400, 390, 800, 820, 830];
    const points = [1, 2, 4, 8, 16, 32, 64].map((x, i) => ({ x, y: y[i] ?? 0 }));
    expect(marginalGainKnee(points, 0.05).x).toBe(16);
  });

  it('has no knee while the last step still gains', () => {
    const points = [1, 2, 4, 8].map((x) => ({ x, y: 100 * x }));
    expect(marginalGainKnee(points, 0.05).x).toBeUndefined();
    expect(marginalGainKnee([], 0.05)).toEqual({ x: undefined, gains: [] });
  });
});
