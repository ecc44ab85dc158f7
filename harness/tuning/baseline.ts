import { type PointStats, pointStats } from '../analysis/point-stats.ts';
import type { PoolDefinition } from '../config/schema.ts';
import type { KnobValues } from '../results/trial.ts';
import type { MethodSession, Point } from './session.ts';
import { type StepReport, stepIds } from './step.ts';
import { steadyFor } from './step-scenarios.ts';

/** What step 2 measured: the reference every later step is compared with. */
export interface BaselineOutcome {
  readonly knobs: KnobValues;
  readonly point: Point;
  readonly stats: PointStats | undefined;
  readonly report: StepReport;
}

/** `max=10, idleTimeoutMillis=10000, ...` for the knobs a pool uses. */
export function poolKnobText(pool: PoolDefinition, knobs: KnobValues): string {
  return Object.values(pool.knobs)
    .filter((name): name is string => name !== undefined)
    .map((name) => `${name}=${String(knobs[name])}`)
    .join(', ');
}

/**
 * Repetitions of the steady-rate reference points (steps 2 and 3): two, since an open model at a modest
 * rate varies little, and step 4 needs the time more.
 */
export function referenceRepetitions(session: Pick<MethodSession, 'repetitions'>): number {
  return Math.min(2, session.repetitions);
}

/**
 * Step 2: pooling with conservative defaults. The knobs are the target's current settings where the
 * config gives them, else the library's defaults (node-postgres: max 10, idle 10 s, and a 5 s connect
 * timeout instead of its wait-forever default); measured at the configured steady rate.
 */
export async function baseline(
  session: MethodSession,
  pool: PoolDefinition,
  knobs: KnobValues,
): Promise<BaselineOutcome> {
  const scenario = steadyFor(session.plan);
  const point = await session.point({
    step: stepIds.baseline,
    knobs,
    scenario,
    repetitions: referenceRepetitions(session),
  });
  const size = knobs[pool.knobs.size];
  const stats = pointStats(point.completed, typeof size === 'number' ? size : undefined);
  return {
    knobs,
    point,
    stats,
    report: {
      step: 2,
      id: stepIds.baseline,
      title: 'Baseline with conservative defaults',
      pool: pool.name,
      tried: `${poolKnobText(pool, knobs)}; ${scenario.description}`,
      saw:
        stats === undefined
          ? ['no repetition completed: see the trials for the errors']
          : [
              `${stats.throughput.toFixed(0)} req/s, p50 ${stats.p50.toFixed(1)} ms, p99 ${stats.p99.toFixed(1)} ms, p99.9 ${stats.p999.toFixed(1)} ms`,
              `error rate ${(stats.errorRate * 100).toFixed(2)}%${
                Object.keys(stats.errors).length === 0
                  ? ''
                  : ` (${Object.entries(stats.errors)
                      .map(([k, v]) => `${k} ${v}`)
                      .join(', ')})`
              }`,
              stats.utilisationMax === undefined || stats.waitingMean === undefined
                ? 'pool use not measured: the target exposes no pool gauges'
                : `pool in use at most ${(stats.utilisationMax * 100).toFixed(0)}% of ${String(size)}, waiting ${stats.waitingMean.toFixed(2)} on average`,
            ],
      decided: 'the reference for every later comparison',
      trials: point.trials.map((trial) => trial.id),
    },
  };
}
