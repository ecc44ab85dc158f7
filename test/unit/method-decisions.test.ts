import { describe, expect, it } from 'vitest';
import { recommendSize } from '../../harness/analysis/pool-size.ts';
import { validateConfig } from '../../harness/config/layers.ts';
import { resolvePlan } from '../../harness/config/plan.ts';
import type { TrialResult } from '../../harness/results/trial.ts';
import { growPool } from '../../harness/tuning/grow-pool.ts';
import { idleTimeout } from '../../harness/tuning/idle-timeout.ts';
import { runMethod } from '../../harness/tuning/method.ts';
import { stepIds } from '../../harness/tuning/step.ts';
import { scenarios } from '../../scenarios/index.ts';
import { seededRandom } from '../../scenarios/schedule.ts';
import { bundledTargets } from '../../targets/index.ts';
import { FakeSession, type Planted } from '../helpers/fake-session.ts';

// The method's decisions driven with planted data through a fake session: no target, no load. Each
// planted target says what a real one would have answered; the assertions are what the method must
// make of it.

const plan = resolvePlan(validateConfig({ sweep: { upTo: 32 } }, 'test'), {
  targets: bundledTargets,
  scenarios,
});
const pool = plan.pools[0];
if (pool === undefined) throw new Error('http-pg has no pool');
const size = (knobs: Readonly<Record<string, unknown>>) => Number(knobs[pool.knobs.size]);

/** A plateau from 8 to 32 at 3000 req/s (linear below), ±1.5% seeded noise, and one wild repetition. */
function plateauWithOutlier(wild: { readonly n: number; readonly repetition: number }): Planted {
  const random = seededRandom(7);
  const seen = new Map<number, number>();
  return ({ knobs, scenario }) => {
    const n = size(knobs);
    if (scenario.model !== 'closed') return { throughput: 300, inUse: [2, 2, 2, 2] };
    const repetition = (seen.get(n) ?? 0) + 1;
    seen.set(n, repetition);
    const truth = 3000 * Math.min(1, n / 8);
    if (n === wild.n && repetition === wild.repetition) return { throughput: truth * 0.5 };
    return { throughput: truth * (0.985 + 0.03 * random()) };
  };
}

const growTrials = (trials: readonly TrialResult[]) => trials.filter((t) => t.step === stepIds.grow);

describe('step 4 on planted noisy data', () => {
  it('flags the wild repetition, re-runs it once, and recommends the left edge of the plateau', async () => {
    const session = new FakeSession(plan, plateauWithOutlier({ n: 16, repetition: 2 }));
    const grow = await growPool(session, pool, plan.knobs, {
      calibration: [3000, 2950, 3040],
      laterTrials: 0,
    });
    const at16 = grow.plateau?.sizes.find((s) => s.n === 16);
    const wild = at16?.runs.filter((run) => run.outlier) ?? [];
    expect(wild).toHaveLength(1);
    expect(wild[0]?.measured).toBeLessThan(1600);
    // The re-run: 16 got one repetition more than the base.
    expect(at16?.runs.length).toBe(session.repetitions + 1);
    expect(grow.plateau?.plateau[0]).toBe(8);
    expect(grow.plateau?.plateau.at(-1)).toBe(32);
    expect(grow.plateau === undefined ? undefined : recommendSize(grow.plateau, [])).toBe(8);
    // Sizes below 8 are shown worse, not left undecided.
    for (const s of grow.plateau?.sizes.filter((x) => x.n < 8) ?? []) {
      expect(s.onPlateau).toBe(false);
    }
  });

  it('measures the sizes near the plateau in interleaved blocks, not back to back', async () => {
    const session = new FakeSession(plan, plateauWithOutlier({ n: 0, repetition: 0 }));
    await growPool(session, pool, plan.knobs, { calibration: [3000, 2950, 3040], laterTrials: 0 });
    const order = growTrials(session.trials).map((t) => size(t.knobs));
    const repeated = [...new Set(order)].filter((n) => order.filter((m) => m === n).length >= 3);
    expect(repeated.length).toBeGreaterThanOrEqual(3);
    // Back to back, each size's repetitions would be consecutive; interleaved, other sizes run between.
    const consecutive = repeated.filter((n) => {
      const at = order.flatMap((m, i) => (m === n ? [i] : []));
      return (at.at(-1) ?? 0) - (at[0] ?? 0) === at.length - 1;
    });
    expect(consecutive).toEqual([]);
    // Two blocks over the same sizes do not run in the same order every time.
    const blocks = new Set<string>();
    let current: number[] = [];
    for (const n of order.slice(order.indexOf(repeated[0] ?? 0))) {
      if (current.includes(n)) {
        blocks.add(current.join(','));
        current = [];
      }
      current.push(n);
    }
    expect(blocks.size).toBeGreaterThan(1);
  });

  it('spends repetitions near the plateau, not at size 1', async () => {
    const session = new FakeSession(plan, plateauWithOutlier({ n: 0, repetition: 0 }));
    await growPool(session, pool, plan.knobs, { calibration: [3000, 2950, 3040], laterTrials: 0 });
    const order = growTrials(session.trials).map((t) => size(t.knobs));
    expect(order.filter((n) => n === 1)).toHaveLength(1);
    expect(order.filter((n) => n === 8).length).toBeGreaterThanOrEqual(session.repetitions);
  });
});

describe('the whole method on a planted target', () => {
  /** The plateau above, with the burst filling a pool of 8 and leaving one of 16 half used. */
  const burstFillsEight = (): Planted => {
    const closed = plateauWithOutlier({ n: 0, repetition: 0 });
    return (trial) => {
      const n = size(trial.knobs);
      if (trial.scenario.name.startsWith('burst@')) {
        const used = Math.min(n, 10);
        return { throughput: 1500, inUse: Array.from({ length: 12 }, () => used), waiting: n < 10 ? 4 : 0 };
      }
      if (trial.scenario.name.startsWith('peak@'))
        return { throughput: 1500, inUse: Array(12).fill(Math.min(n, 5)) };
      if (trial.scenario.name.startsWith('idle-gaps@')) return { throughput: 250, opened: 2, inUse: [2, 2] };
      return closed(trial);
    };
  };

  it('validates the next plateau size when the first fails its burst pool-use check, and recommends it', async () => {
    const session = new FakeSession(plan, burstFillsEight());
    const outcome = await runMethod(session);
    const recommendation = outcome.recommendations[0];
    const sizeRec = recommendation?.knobs.find((k) => k.role === 'size');
    expect(sizeRec?.value).toBe(16);
    expect(recommendation?.peakChecksPassed).toBe(true);
    const analysed = outcome.sizes?.[0];
    expect(analysed?.validations.map((v) => [v.n, v.passed])).toEqual([
      [8, false],
      [16, true],
    ]);
    expect(sizeRec?.plateau).toEqual({ low: 8, high: 32 });
    const peakStep = outcome.steps.find((s) => s.id === stepIds.peak);
    expect(peakStep?.saw.some((line) => line.startsWith('max=8: FAIL burst@'))).toBe(true);
    expect(peakStep?.saw.some((line) => line.startsWith('max=16: pass burst@'))).toBe(true);
    // The progress count never fell behind the trials run.
    const last = session.expected.at(-1) ?? 0;
    expect(last).toBeGreaterThanOrEqual(session.trials.length - 6);
  });

  it('says which size the load would need when no plateau size keeps headroom', async () => {
    const closed = plateauWithOutlier({ n: 0, repetition: 0 });
    const session = new FakeSession(plan, (trial) => {
      const n = size(trial.knobs);
      if (trial.scenario.name.startsWith('burst@')) {
        return { throughput: 1500, inUse: Array(12).fill(n), waiting: 30 };
      }
      if (trial.scenario.model === 'open') return { throughput: 300, inUse: [1, 1], opened: 1 };
      return closed(trial);
    });
    const outcome = await runMethod(session);
    const analysed = outcome.sizes?.[0];
    expect(analysed?.validations.every((v) => !v.passed)).toBe(true);
    expect(analysed?.needed).toBeGreaterThan(32);
    expect(outcome.recommendations[0]?.knobs.find((k) => k.role === 'size')?.rule).toMatch(
      /no size on the plateau held .*would need about \d+/,
    );
  });
});

describe('step 5 on planted churn', () => {
  it('picks the smallest idle timeout whose churn stays near never closing', async () => {
    const session = new FakeSession(plan, ({ knobs }) => {
      const timeout = Number(knobs.idleTimeoutMillis);
      // Timeouts shorter than the 3 s quiet periods close every connection in each of them.
      return { throughput: 300, opened: timeout > 0 && timeout < 3_000 ? 20 : 2 };
    });
    const idle = await idleTimeout(session, pool, plan.knobs);
    expect(idle.timeoutMs).toBe(4_500);
    // 9 s could not be chosen over an acceptable 4.5 s: it is not measured.
    expect(idle.candidates.map((c) => c.timeoutMs)).toEqual([1_500, 4_500]);
    expect(idle.report.saw.join('\n')).toContain('not measured: 9000 ms');
  });

  it('goes on to the longest timeout while the shorter ones churn', async () => {
    const session = new FakeSession(plan, ({ knobs }) => {
      const timeout = Number(knobs.idleTimeoutMillis);
      return { throughput: 300, opened: timeout > 0 && timeout < 6_000 ? 20 : 2 };
    });
    const idle = await idleTimeout(session, pool, plan.knobs);
    expect(idle.candidates.map((c) => c.timeoutMs)).toEqual([1_500, 4_500, 9_000]);
    expect(idle.timeoutMs).toBe(9_000);
  });
});
