import { type PointStats, pointStats } from '../analysis/point-stats.ts';
import { utilisationAlert } from '../analysis/thresholds.ts';
import type { PoolDefinition } from '../config/schema.ts';
import type { KnobValues, TrialResult } from '../results/trial.ts';
import { poolKnobText } from './baseline.ts';
import type { PeakCheck } from './outcome.ts';
import type { Session } from './session.ts';
import { type StepReport, stepIds } from './step.ts';
import { burstScenario, peakScenario } from './step-scenarios.ts';

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
  if (stats.utilisationMax !== undefined) {
    checks.push({
      name: `${scenario}: pool use < ${utilisationAlert * 100}% of max`,
      pass: stats.utilisationMax < utilisationAlert,
      detail: `pool use peaked at ${(stats.utilisationMax * 100).toFixed(0)}% of max`,
      scenario,
      metric: 'poolUse',
      threshold: utilisationAlert,
      observed: stats.utilisationMax,
      unit: 'ratio',
    });
  }
  return checks;
}

/** What step 6 measured at peak. */
export interface PeakOutcome {
  readonly peak: PointStats | undefined;
  readonly burst: PointStats | undefined;
  readonly checks: readonly PeakCheck[];
  /** The trials at the peak rate (not the bursts): what the expected figures come from. */
  readonly peakTrials: readonly TrialResult[];
  readonly report: StepReport;
}

/**
 * Step 6: test under peak load with the recommended settings: the open model at the configured peak
 * rate, and bursts above it. Checks the SLO and that the pool stays under 80% of its maximum.
 */
export async function peakLoad(
  session: Session,
  pool: PoolDefinition,
  knobs: KnobValues,
): Promise<PeakOutcome> {
  const { plan } = session;
  const size = knobs[pool.knobs.size];
  const poolSize = typeof size === 'number' ? size : undefined;
  const peakRun = peakScenario(plan);
  const burstRun = burstScenario(plan);
  const peakPoint = await session.point({ step: stepIds.peak, knobs, scenario: peakRun });
  const burstPoint = await session.point({ step: stepIds.peak, knobs, scenario: burstRun });
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
  const failed = checks.filter((check) => !check.pass);
  return {
    peak,
    burst,
    checks,
    peakTrials: peakPoint.trials,
    report: {
      step: 6,
      id: stepIds.peak,
      title: 'Test under peak load',
      pool: pool.name,
      tried: `${poolKnobText(pool, knobs)}; ${peakRun.description}; ${burstRun.description}`,
      saw: checks.map((check) => `${check.pass ? 'pass' : 'FAIL'} ${check.name}: ${check.detail}`),
      decided:
        failed.length === 0
          ? 'the recommended settings hold at peak'
          : `${failed.length} check(s) failed at peak: ${failed.map((c) => c.name).join('; ')}`,
      trials: [...peakPoint.trials, ...burstPoint.trials].map((trial) => trial.id),
    },
  };
}
