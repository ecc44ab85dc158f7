import { describe, expect, it } from 'vitest';
import type { PointStats } from '../../harness/analysis/point-stats.ts';
import {
  defaultSearchRules,
  nextMove,
  type SearchRules,
  type SizePoint,
} from '../../harness/tuning/search.ts';

const rules: SearchRules = { from: 1, factor: 2, limit: 95, minGain: 0.05, ...defaultSearchRules };
const stats = (throughput: number, p99 = 10): PointStats => ({
  repetitions: 3,
  throughput,
  p50: 1,
  p99,
  p999: p99,
  errorRate: 0,
  errors: {},
});

/** Runs the search against a throughput curve and returns the sizes it measured and its answer. */
function search(curve: (n: number) => number, searchRules = rules) {
  const geometric: SizePoint[] = [];
  const refined: SizePoint[] = [];
  const measured: number[] = [];
  for (let i = 0; i < 30; i++) {
    const move = nextMove(geometric, refined, searchRules);
    if (move.kind === 'done') return { measured, move };
    measured.push(move.n);
    (move.phase === 'geometric' ? geometric : refined).push({
      n: move.n,
      stats: stats(curve(move.n), 100 / move.n),
    });
  }
  throw new Error('search did not end');
}

describe('pool-size search', () => {
  it('grows geometrically, then bisects to the knee of a saturating curve', () => {
    const { measured, move } = search((n) => Math.min(n, 10) * 100);
    expect(measured).toEqual([1, 2, 4, 8, 16, 32, 12, 10, 9]);
    expect(move).toMatchObject({ kind: 'done', stoppedBy: 'diminishing-returns', recommended: 10 });
  });

  it('stops at the limit below max_connections when the curve keeps rising', () => {
    const { measured, move } = search((n) => n * 100, { ...rules, limit: 20 });
    expect(measured).toEqual([1, 2, 4, 8, 16]);
    expect(move).toMatchObject({ kind: 'done', stoppedBy: 'limit', recommended: 16 });
  });

  it('stops when the target itself saturates its CPU', () => {
    const geometric: SizePoint[] = [
      { n: 1, stats: stats(100) },
      { n: 2, stats: { ...stats(200), targetCpuShare: 0.97 } },
    ];
    expect(nextMove(geometric, [], rules)).toMatchObject({ kind: 'done', stoppedBy: 'cpu-saturated' });
  });
});
