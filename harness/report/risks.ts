import { maskUrl } from '../results/mask.ts';
import type { RunEvidence } from './run-evidence.ts';
import type { Risk } from './summary-schema.ts';

/** Fleet headroom below this share of the connections the apps may use is a warning. */
export const fleetHeadroomWarnShare = 0.1;

/**
 * What could go wrong with the recommended settings in production, from what the run measured: the
 * fleet's connection budget, pool use at peak, keep-alive mismatches, and trials that did not measure
 * the target. Only problems are listed; an empty list means none was found. Pure.
 */
export function buildRisks(run: RunEvidence): Risk[] {
  const risks: Risk[] = [];
  for (const rec of run.analysis?.recommendations ?? []) {
    const budget = rec.fleetBudget;
    if (budget !== undefined) {
      const sum = `${budget.instances} instance(s) × pool ${budget.poolMax} + reserve ${budget.reserve} = ${budget.needed + budget.reserve} of max_connections ${budget.maxConnections}`;
      if (!budget.fits) {
        risks.push({
          id: `${rec.pool}/fleet-budget`,
          severity: 'fail',
          message: `${rec.pool}: the fleet does not fit the database: ${sum}. At most ${budget.maxPoolPerInstance} per instance, or raise max_connections, or put a pooler (pgBouncer) in front.`,
          trials: [],
        });
      } else if (budget.headroom < fleetHeadroomWarnShare * budget.available) {
        risks.push({
          id: `${rec.pool}/fleet-budget`,
          severity: 'warn',
          message: `${rec.pool}: the fleet fits with little headroom (${budget.headroom} connections): ${sum}. A rolling deploy's surge or one more replica takes it over.`,
          trials: [],
        });
      }
    }
    for (const check of rec.peakChecks ?? []) {
      if (check.metric === 'poolUse' && !check.pass) {
        risks.push({
          id: `${rec.pool}/${check.scenario}/pool-use`,
          severity: 'warn',
          message: `${rec.pool}: ${check.detail} under ${check.scenario}: above 80% a small rise in load makes requests queue for connections.`,
          trials: [...(check.trials ?? [])],
        });
      }
    }
    for (const finding of rec.keepAlive ?? []) {
      risks.push({
        id: `${rec.pool}/keep-alive`,
        severity: 'warn',
        message: `${rec.pool}: ${finding}`,
        trials: [],
      });
    }
  }
  const invalid = run.trials.filter((trial) => trial.status === 'invalid');
  if (invalid.length > 0) {
    const reasons = [...new Set(invalid.map((trial) => trial.reason))];
    risks.push({
      id: 'invalid-points',
      severity: 'warn',
      message: `${invalid.length} trial(s) measured the load generator, not the target, and were left out of the fits: ${reasons.join('; ')}`,
      trials: invalid.map((trial) => trial.id),
    });
  }
  const errored = run.trials.filter((trial) => trial.status === 'errored');
  if (errored.length > 0) {
    risks.push({
      id: 'errored-trials',
      severity: 'warn',
      message: `${errored.length} trial(s) failed and carry no figures: ${[...new Set(errored.map((t) => maskUrl(t.error)))].join('; ')}`,
      trials: errored.map((trial) => trial.id),
    });
  }
  return risks;
}
