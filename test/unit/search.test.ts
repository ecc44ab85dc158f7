import { describe, expect, it } from 'vitest';
import { pointStats } from '../../harness/analysis/point-stats.ts';
import {
  defaultSearchRules,
  type GrowSample,
  nextGrowMove,
  type SearchRules,
} from '../../harness/tuning/search.ts';
import { plantedTrial } from '../helpers/fake-session.ts';

const rules: SearchRules & Parameters<typeof nextGrowMove>[2] = {
  from: 1,
  factor: 2,
  limit: 95,
  minGain: 0.05,
  ...defaultSearchRules,
  repetitions: { base: 3, max: 5, targetHalfWidth: 0.05, maxTrials: 40, seed: 1 },
};

/** Runs the search against an exact curve; returns the sizes in the order measured and the end. */
function search(curve: (n: number) => number, searchRules = rules, cpu?: (n: number) => number) {
  const trials: { n: number; phase: GrowSample['phase']; throughput: number }[] = [];
  for (let i = 0; i < 80; i++) {
    const samples: GrowSample[] = [...new Set(trials.map((t) => t.n))].map((n) => {
      const at = trials.filter((t) => t.n === n);
      const measured = at.map((t, j) => {
        const trial = plantedTrial(
          { id: `t${n}-${j}`, step: 's', knobs: {}, scenario: 'x', repetition: j + 1 },
          { throughput: t.throughput, p99: 1000 / n },
        );
        return cpu === undefined
          ? trial
          : {
              ...trial,
              server: { ...trial.server, process: { cpuShareMean: cpu(n), rssMaxBytes: 1, fdsMax: 1 } },
            };
      });
      return {
        n,
        phase: at[0]?.phase ?? 'geometric',
        stats: pointStats(measured),
        runs: at.map((t, j) => ({ id: `t${n}-${j}`, throughput: t.throughput })),
        attempts: at.length,
      };
    });
    const move = nextGrowMove(samples, [], searchRules, trials.length);
    if (move.kind === 'done') return { order: trials.map((t) => t.n), move };
    for (const request of move.requests) {
      // A deterministic wobble so repetitions are not identical.
      trials.push({
        n: request.n,
        phase: request.phase,
        throughput: curve(request.n) * (1 + 0.004 * (trials.length % 3)),
      });
    }
  }
  throw new Error('search did not end');
}

describe('pool-size search', () => {
  it('grows geometrically, confirms the flat part with one more doubling, then bisects the knee', () => {
    const { order, move } = search((n) => Math.min(n, 10) * 100);
    expect(order.slice(0, 6)).toEqual([1, 2, 4, 8, 16, 32]);
    expect(new Set(order).has(12)).toBe(true);
    expect(move).toMatchObject({ kind: 'done', stoppedBy: 'diminishing-returns' });
    expect(order.filter((n) => n === 1)).toHaveLength(1);
  });

  it('stops at the limit below max_connections when the curve keeps rising', () => {
    const { order, move } = search((n) => n * 100, { ...rules, limit: 20 });
    expect(order.slice(0, 5)).toEqual([1, 2, 4, 8, 16]);
    expect(new Set(order).has(32)).toBe(false);
    expect(move).toMatchObject({ kind: 'done', stoppedBy: 'limit' });
  });

  it('grows no further than the concurrent clients, and measures that size when doubling would pass it', () => {
    // A curve still rising at 16: without the clients it would go on to 32 and 64.
    const { order, move } = search((n) => n * 100, { ...rules, clients: 24 });
    expect(order.slice(0, 6)).toEqual([1, 2, 4, 8, 16, 24]);
    expect(order.some((n) => n > 24)).toBe(false);
    expect(move).toMatchObject({ kind: 'done', stoppedBy: 'clients' });
    // A knee below the clients: stopping at them still refines between 8 and 16.
    const knee = search((n) => Math.min(n, 10) * 100, { ...rules, clients: 32 });
    expect(knee.order.some((n) => n > 32)).toBe(false);
    expect(new Set(knee.order).has(12)).toBe(true);
  });

  it('stops when the target itself saturates its CPU', () => {
    const { order, move } = search(
      (n) => n * 100,
      rules,
      (n) => (n >= 4 ? 0.97 : 0.3),
    );
    expect(order.slice(0, 3)).toEqual([1, 2, 4]);
    expect(new Set(order).has(8)).toBe(false);
    expect(move).toMatchObject({ kind: 'done', stoppedBy: 'cpu-saturated' });
  });

  it('keeps within its trial budget', () => {
    const { order } = search((n) => Math.min(n, 10) * 100, {
      ...rules,
      repetitions: { ...rules.repetitions, maxTrials: 12 },
    });
    expect(order.length).toBeLessThanOrEqual(12);
  });

  it('keeps within its budget while still exploring, and says so', () => {
    const { order, move } = search((n) => n * 100, {
      ...rules,
      repetitions: { ...rules.repetitions, maxTrials: 4 },
    });
    expect(order).toEqual([1, 2, 4, 8]);
    expect(move).toMatchObject({ kind: 'done', stoppedBy: 'limit' });
    expect(move.kind === 'done' ? move.why : '').toContain('budget of 4 trials was spent exploring');
  });
});
