import { type PointStats, pointStats } from '../analysis/point-stats.ts';
import { utilisationAlert } from '../analysis/thresholds.ts';
import type { PoolDefinition } from '../config/schema.ts';
import type { KnobValues, TrialResult } from '../results/trial.ts';
import { poolKnobText, referenceRepetitions } from './baseline.ts';
import type { PeakCheck } from './outcome.ts';
import type { MethodSession } from './session.ts';
import { type StepReport, stepIds } from './step.ts';
import { burstFor, peakFor } from './step-scenarios.ts';

/** SLO (p99, error rate) and headroom checks of one scenario at peak. Pure. */
export function peakChecks(
  scenario: string,
  stats: PointStats | undefined,
  slo: { readonly p99Ms: number; readonly errorRate: number },
): PeakCheck[] {
  if (stats === undefined)
    return [
      {
        name: `${scenario}: measured`,
        pass: false,
        detail: 'no repetition completed',
        scenario,
        metric: 'measured',
        unit: '',
      },
    ];
  const checks: PeakCheck[] = [
    {
      name: `${scenario}: p99 <= ${slo.p99Ms} ms`,
      pass: stats.p99 <= slo.p99Ms,
      detail: `p99 ${stats.p99.toFixed(1)} ms`,
      scenario,
      metric: 'p99',
      threshold: slo.p99Ms,
      observed: stats.p99,
      unit: 'ms',
    },
    {
      name: `${scenario}: error rate <= ${(slo.errorRate * 100).toFixed(2)}%`,
      pass: stats.errorRate <= slo.errorRate,
      detail: `error rate ${(stats.errorRate * 100).toFixed(3)}%`,
      scenario,
      metric: 'errorRate',
      threshold: slo.errorRate,
      observed: stats.errorRate,
      unit: 'ratio',
    },
  ];
  const sustained = stats.utilisationP90 ?? stats.utilisationMax;
  if (sustained !== undefined) {
    const highest =
      stats.utilisationMax === undefined
        ? ''
        : `, highest sample ${(stats.utilisationMax * 100).toFixed(0)}%`;
    checks.push({
      name: `${scenario}: pool use < ${utilisationAlert * 100}% of max`,
      pass: sustained < utilisationAlert,
      detail: `pool use ${(sustained * 100).toFixed(0)}% of max (90th percentile of the samples${highest})`,
      scenario,
      metric: 'poolUse',
      threshold: utilisationAlert,
      observed: sustained,
      unit: 'ratio',
    });
  }
  return checks;
}

/** What step 6 measured at one candidate size. */
export interface PeakOutcome {
  /** The pool size validated, when the pool has a numeric size. */
  readonly size: number | undefined;
  readonly peak: PointStats | undefined;
  readonly burst: PointStats | undefined;
  readonly checks: readonly PeakCheck[];
  /** The trials at the peak rate (not the bursts): what the expected figures come from. */
  readonly peakTrials: readonly TrialResult[];
  /** Every trial of the validation, peak then bursts. */
  readonly trials: readonly string[];
}

/**
 * True when a failed check is one a larger pool would fix: pool use over the alert line, or the SLO
 * missed while the pool was that full (requests queued for a connection). Pure.
 */
export function largerPoolWouldHelp(outcome: Pick<PeakOutcome, 'checks'>): boolean {
  const full = outcome.checks.some((check) => check.metric === 'poolUse' && !check.pass);
  const poolBusy = outcome.checks.some(
    (check) => check.metric === 'poolUse' && (check.observed ?? 0) >= utilisationAlert,
  );
  const slo = outcome.checks.some(
    (check) => (check.metric === 'p99' || check.metric === 'errorRate') && !check.pass,
  );
  return full || (slo && poolBusy);
}

/**
 * The size the peak and burst loads would need for pool use to stay under the alert line, from the
 * connections they wanted (in use + waiting, 90th percentile). Undefined without pool figures. Pure.
 */
export function neededSize(outcome: Pick<PeakOutcome, 'peak' | 'burst'>): number | undefined {
  const wanted = [outcome.peak?.demandP90, outcome.burst?.demandP90].filter(
    (value): value is number => value !== undefined,
  );
  return wanted.length === 0 ? undefined : Math.ceil(Math.max(...wanted) / utilisationAlert);
}

/**
 * The next size to validate after `failed` did not hold: the smallest candidate above it that reaches
 * toward what the load needed (at most twice the failed size, since a full pool overstates its need).
 * Undefined when no candidate is larger. Pure.
 */
export function nextCandidate(
  candidates: readonly number[],
  failed: number,
  needed: number | undefined,
): number | undefined {
  const larger = candidates.filter((n) => n > failed);
  const aim = Math.min(needed ?? 0, 2 * failed);
  return larger.find((n) => n >= aim) ?? larger.at(-1);
}

/**
 * Step 6 at one candidate: the open model at the configured peak rate, and bursts above it, with the
 * SLO and headroom checks (pool use under 80% of its maximum).
 */
export async function validateAtPeak(
  session: MethodSession,
  pool: PoolDefinition,
  knobs: KnobValues,
): Promise<PeakOutcome> {
  const { plan } = session;
  const size = knobs[pool.knobs.size];
  const poolSize = typeof size === 'number' ? size : undefined;
  const peakRun = peakFor(plan);
  const burstRun = burstFor(plan);
  // Two repetitions each, as for the baseline: the checks read p99 and pool use, not a throughput
  // difference, and a candidate that fails goes on to the next one anyway.
  const repetitions = referenceRepetitions(session);
  const peakPoint = await session.point({ step: stepIds.peak, knobs, scenario: peakRun, repetitions });
  const burstPoint = await session.point({ step: stepIds.peak, knobs, scenario: burstRun, repetitions });
  const peak = pointStats(peakPoint.completed, poolSize);
  const burst = pointStats(burstPoint.completed, poolSize);
  const ids = (trials: readonly TrialResult[]) => trials.map((trial) => trial.id);
  const checks = [
    ...peakChecks(peakRun.name, peak, plan.config.tuning.slo).map((c) => ({
      ...c,
      trials: ids(peakPoint.trials),
    })),
    ...peakChecks(burstRun.name, burst, plan.config.tuning.slo).map((c) => ({
      ...c,
      trials: ids(burstPoint.trials),
    })),
  ];
  return {
    size: poolSize,
    peak,
    burst,
    checks,
    peakTrials: peakPoint.trials,
    trials: [...ids(peakPoint.trials), ...ids(burstPoint.trials)],
  };
}

/** Step 6's report over every candidate validated, in order (pure). */
export function peakReport(
  pool: PoolDefinition,
  knobs: KnobValues,
  scenarios: { readonly peak: string; readonly burst: string },
  validations: readonly PeakOutcome[],
  conclusion: string,
): StepReport {
  const last = validations.at(-1);
  const failed = (last?.checks ?? []).filter((check) => !check.pass);
  const several = validations.length > 1;
  return {
    step: 6,
    id: stepIds.peak,
    title: 'Test under peak load',
    pool: pool.name,
    tried: `${poolKnobText(pool, knobs)}; ${scenarios.peak}; ${scenarios.burst}`,
    saw: validations.flatMap((validation) =>
      validation.checks.map(
        (check) =>
          `${several ? `${pool.knobs.size}=${validation.size}: ` : ''}${check.pass ? 'pass' : 'FAIL'} ${check.name}: ${check.detail}`,
      ),
    ),
    decided:
      failed.length === 0
        ? `the recommended settings hold at peak${several ? ` (${conclusion})` : ''}`
        : `${failed.length} check(s) failed at peak: ${failed.map((c) => c.name).join('; ')}${conclusion === '' ? '' : `; ${conclusion}`}`,
    trials: validations.flatMap((validation) => validation.trials),
  };
}
