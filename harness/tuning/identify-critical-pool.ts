import { pointStats } from '../analysis/point-stats.ts';
import type { PoolDefinition } from '../config/schema.ts';
import type { KnobValues } from '../results/trial.ts';
import type { MethodSession } from './session.ts';
import { type StepReport, stepIds } from './step.ts';
import { steadyFor } from './step-scenarios.ts';

/** A pool with its measured sensitivity: traffic share x the p99 rise when it is squeezed to its minimum. */
export interface RankedPool {
  readonly pool: PoolDefinition;
  readonly share: number;
  readonly p99RiseMs: number | undefined;
  readonly score: number;
}

/** Orders pools by score, highest first (pure). */
export function rankPools(ranked: readonly RankedPool[]): RankedPool[] {
  return [...ranked].sort((a, b) => b.score - a.score);
}

/**
 * Step 1: identify the most critical pool. With one pool there is nothing to rank; a config order
 * overrides the measurement; otherwise a short probe squeezes each pool to its minimum size and ranks
 * pools by traffic share x the change in p99.
 */
export async function identifyCriticalPool(
  session: MethodSession,
  knobs: KnobValues,
): Promise<{ order: PoolDefinition[]; report: StepReport }> {
  const { pools } = session.plan;
  const base = { step: 1, id: stepIds.identify, title: 'Identify the critical pool' };
  const override = session.plan.config.tuning.poolOrder;
  if (override !== undefined) {
    const order = override
      .map((name) => pools.find((pool) => pool.name === name))
      .filter((pool): pool is PoolDefinition => pool !== undefined);
    const rest = pools.filter((pool) => !order.includes(pool));
    return {
      order: [...order, ...rest],
      report: {
        ...base,
        tried: 'nothing: the config gives the order',
        saw: [`tuning.poolOrder: ${override.join(', ')}`],
        decided: `order ${[...order, ...rest].map((p) => p.name).join(', ')}`,
        trials: [],
      },
    };
  }
  if (pools.length <= 1) {
    return {
      order: [...pools],
      report: {
        ...base,
        tried: 'nothing: the target has one pool',
        saw: pools.map((p) => `pool ${p.name} of service ${p.service} (${p.library})`),
        decided: pools[0] === undefined ? 'no pool to tune' : `tune ${pools[0].name}`,
        trials: [],
      },
    };
  }
  const scenario = steadyFor(session.plan);
  const probe = await session.point({ step: stepIds.identify, knobs, scenario, repetitions: 1 });
  const reference = pointStats(probe.completed);
  const trials = probe.trials.map((t) => t.id);
  const ranked: RankedPool[] = [];
  for (const pool of pools) {
    const squeezed = await session.point({
      step: stepIds.identify,
      knobs: { ...knobs, [pool.knobs.size]: session.plan.target.knobs[pool.knobs.size]?.min ?? 1 },
      scenario,
      repetitions: 1,
    });
    trials.push(...squeezed.trials.map((t) => t.id));
    const stats = pointStats(squeezed.completed);
    const rise = stats === undefined || reference === undefined ? undefined : stats.p99 - reference.p99;
    const share = pool.trafficShare ?? 1 / pools.length;
    ranked.push({ pool, share, p99RiseMs: rise, score: share * (rise ?? Number.POSITIVE_INFINITY) });
  }
  const order = rankPools(ranked);
  return {
    order: order.map((r) => r.pool),
    report: {
      ...base,
      tried: `each pool squeezed to its minimum size under ${scenario.description}`,
      saw: order.map(
        (r) =>
          `${r.pool.name}: share ${(r.share * 100).toFixed(0)}%, p99 +${r.p99RiseMs?.toFixed(1) ?? '?'} ms when squeezed`,
      ),
      decided: `order ${order.map((r) => r.pool.name).join(', ')}`,
      trials,
    },
  };
}
