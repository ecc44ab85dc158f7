import { describe, expect, it } from 'vitest';
import { chooseSize, sizeInterval } from '../../harness/analysis/pool-size.ts';
import { uslThroughput } from '../../harness/analysis/usl.ts';
import { seededRandom } from '../../scenarios/schedule.ts';

const usl = { lambda: 500, sigma: 0.02, kappa: 0.0005 };
/** Three repetitions at each size with ±2% seeded noise around a known USL curve. */
function measure(sizes: readonly number[], seed: number) {
  const random = seededRandom(seed);
  return sizes.map((n) => ({
    n,
    throughputs: [0, 1, 2].map(() => uslThroughput(usl, n) * (0.98 + 0.04 * random())),
  }));
}

describe('pool size choice', () => {
  it('chooses from the fitted curve, so a sparse search and a dense grid agree', () => {
    const sparse = chooseSize(measure([1, 2, 4, 8, 16, 32, 12, 10], 1), 0.05);
    const dense = chooseSize(
      measure(
        Array.from({ length: 32 }, (_, i) => i + 1),
        2,
      ),
      0.05,
    );
    expect(sparse?.fit?.quality).toBe('good');
    expect(sparse?.rule).toContain('USL fit');
    expect(Math.abs((sparse?.n ?? 0) - (dense?.n ?? 0))).toBeLessThanOrEqual(1);
    // The true curve reaches 95% of its maximum over 1..32 at this size:
    const top = uslThroughput(usl, 32);
    const truth = Array.from({ length: 32 }, (_, i) => i + 1).find(
      (n) => uslThroughput(usl, n) >= 0.95 * top,
    );
    expect(Math.abs((dense?.n ?? 0) - (truth ?? 0))).toBeLessThanOrEqual(1);
  });

  it('falls back to the measured plateau when the data do not follow the USL', () => {
    const jagged = [1, 2, 4, 8, 16].map((n, i) => ({ n, throughputs: [[100, 900, 300, 1000, 980][i] ?? 0] }));
    const choice = chooseSize(jagged, 0.05);
    expect(choice?.rule).toContain('plateau');
    expect(choice?.n).toBe(8);
  });

  it('brackets the choice with a bootstrap interval', () => {
    const points = measure([1, 2, 4, 8, 16, 32, 12, 10], 3);
    const choice = chooseSize(points, 0.05);
    const interval = sizeInterval(points, 0.05, seededRandom(4));
    expect(interval?.low).toBeLessThanOrEqual(choice?.n ?? 0);
    expect(interval?.high).toBeGreaterThanOrEqual(choice?.n ?? 0);
  });
});
