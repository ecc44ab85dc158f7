import { describe, expect, it } from 'vitest';
import { plateauStart } from '../../harness/analysis/plateau.ts';

describe('plateau start', () => {
  it('finds the smallest size within the gain threshold of the best median', () => {
    const points = [
      { n: 4, throughputs: [400, 410, 390] },
      { n: 8, throughputs: [800, 790, 810] },
      { n: 12, throughputs: [980, 990, 1000] },
      { n: 16, throughputs: [1000, 1010, 990] },
    ];
    expect(plateauStart(points, 0.05)).toBe(12);
    expect(plateauStart(points, 0.25)).toBe(8);
  });

  it('does not let one lucky size on a flat plateau pull the start to the right', () => {
    const rising = [1, 2, 4, 8].map((n) => ({ n, throughputs: [n * 110, n * 110] }));
    const flat = [10, 12, 16, 21, 24, 32].map((n) => ({
      n,
      throughputs: n === 21 ? [1_090, 1_090] : [1_000, 1_000],
    }));
    // The best (1090 at 21) is noise: the plateau level is the median, 1000, and 10 is within 5% of it.
    expect(plateauStart([...rising, ...flat], 0.05)).toBe(10);
  });
});
