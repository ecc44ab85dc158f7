import { type PointStats, pointStats } from '../analysis/point-stats.ts';
import type { PoolDefinition } from '../config/schema.ts';
import type { KnobValues } from '../results/trial.ts';
import { poolKnobText, referenceRepetitions } from './baseline.ts';
import type { MethodSession } from './session.ts';
import { type StepReport, stepIds } from './step.ts';
import { steadyFor } from './step-scenarios.ts';

/** One figure compared with the baseline. */
export interface Change {
  readonly figure: string;
  readonly baseline: number;
  readonly candidate: number;
  /** candidate / baseline − 1; undefined when the baseline is 0. */
  readonly relative: number | undefined;
}

/** Error rate (by kind) and latency percentiles of a candidate against the baseline. Pure. */
export function compareWithBaseline(baseline: PointStats, candidate: PointStats): Change[] {
  const change = (figure: string, a: number, b: number): Change => ({
    figure,
    baseline: a,
    candidate: b,
    relative: a === 0 ? undefined : b / a - 1,
  });
  const kinds = new Set([...Object.keys(baseline.errors), ...Object.keys(candidate.errors)]);
  return [
    change('p50 ms', baseline.p50, candidate.p50),
    change('p99 ms', baseline.p99, candidate.p99),
    change('p99.9 ms', baseline.p999, candidate.p999),
    change('error rate', baseline.errorRate, candidate.errorRate),
    ...[...kinds].map((kind) =>
      change(`errors ${kind}`, baseline.errors[kind] ?? 0, candidate.errors[kind] ?? 0),
    ),
  ];
}

/** `p99 ms 12.0 -> 8.0 (-33%)` */
export function describeChange(change: Change): string {
  const digits = change.figure === 'error rate' ? 4 : 1;
  const relative =
    change.relative === undefined
      ? ''
      : ` (${change.relative >= 0 ? '+' : ''}${(change.relative * 100).toFixed(0)}%)`;
  return `${change.figure} ${change.baseline.toFixed(digits)} -> ${change.candidate.toFixed(digits)}${relative}`;
}

/**
 * Step 3: watch the impact. The candidate settings run the baseline's own scenario (the steady rate),
 * so the comparison is like for like: error rate by kind and latency percentiles against step 2.
 */
export async function watchImpact(
  session: MethodSession,
  pool: PoolDefinition,
  baseline: PointStats | undefined,
  candidate: KnobValues,
): Promise<{ stats: PointStats | undefined; changes: Change[]; report: StepReport }> {
  const scenario = steadyFor(session.plan);
  const point = await session.point({
    step: stepIds.impact,
    knobs: candidate,
    scenario,
    repetitions: referenceRepetitions(session),
  });
  const stats = pointStats(point.completed);
  const changes = baseline === undefined || stats === undefined ? [] : compareWithBaseline(baseline, stats);
  const worse = changes.filter((c) => c.figure.startsWith('error') && c.candidate > c.baseline);
  return {
    stats,
    changes,
    report: {
      step: 3,
      id: stepIds.impact,
      title: 'Watch the impact on errors and latency',
      pool: pool.name,
      tried: `the recommended settings (${poolKnobText(pool, candidate)}) at the baseline's steady rate`,
      saw:
        changes.length === 0 ? ['no comparison: a side has no completed trial'] : changes.map(describeChange),
      decided:
        changes.length === 0
          ? 'not compared'
          : worse.length === 0
            ? 'no new errors against the baseline'
            : `more errors than the baseline: ${worse.map((c) => c.figure).join(', ')}`,
      trials: point.trials.map((trial) => trial.id),
    },
  };
}
