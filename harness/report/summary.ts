import { median } from 'simple-statistics';
import { type Random, seededRandom } from '../../scenarios/schedule.ts';
import { capacitySentence, generatorLimited } from '../analysis/capacity-search.ts';
import { coresRule } from '../analysis/cores-rule.ts';
import { pointStats } from '../analysis/point-stats.ts';
import { quantile } from '../analysis/statistics.ts';
import { ExitCode } from '../errors.ts';
import type { MeasuredTrial } from '../results/trial.ts';
import type { CapacityOutcome, SizeAnalysis } from '../tuning/outcome.ts';
import { stepIds } from '../tuning/step.ts';
import { buildChecklist, worse } from './checklist.ts';
import { databaseCores } from './database-cores.ts';
import { peakNative } from './native-view.ts';
import { buildRisks } from './risks.ts';
import { completedTrials, type RunEvidence, stepTrials } from './run-evidence.ts';
import {
  type CapacitySummary,
  type CheckStatus,
  type ComparablePoint,
  type Recommendation,
  type RegressionSummary,
  type RunSummary,
  type SloCheck,
  SUMMARY_SCHEMA_VERSION,
} from './summary-schema.ts';

/** Where the JSON Schema of `summary.json` is published, relative to the package: its `$schema`. */
export const SUMMARY_SCHEMA_ID = 'https://pooltune.dev/schema/summary.schema.json';

/** SLO used for runs recorded before the manifest carried one: the config defaults. */
const DEFAULT_SLO = { p99Ms: 250, errorRate: 0.01 } as const;

/**
 * The run's `summary.json`: recommendation, verdicts and key figures (pure). `points` are the run's
 * comparable points; `regression` the comparison with a baseline, when one was given.
 */
export function buildRunSummary(
  run: RunEvidence,
  points: readonly ComparablePoint[],
  regression?: RegressionSummary,
): RunSummary {
  const { manifest, trials } = run;
  const slo = manifest.slo ?? DEFAULT_SLO;
  const sloChecks = run.analysis === undefined ? pointSloChecks(run, slo) : peakSloChecks(run);
  const sloStatus = overall(sloChecks.map((check) => check.status));
  const checklist = buildChecklist(run);
  const risks = buildRisks(run);
  let verdict: CheckStatus = sloStatus === 'not-checked' ? 'pass' : sloStatus;
  for (const entry of checklist) verdict = worse(verdict, entry.status);
  for (const risk of risks) verdict = worse(verdict, risk.severity);
  if (regression?.regressed === true) verdict = 'fail';
  const count = (status: string) => trials.filter((trial) => trial.status === status).length;
  return {
    $schema: SUMMARY_SCHEMA_ID,
    schemaVersion: SUMMARY_SCHEMA_VERSION,
    runId: manifest.runId,
    createdAt: manifest.createdAt,
    command: manifest.command,
    pooltuneVersion: manifest.environment.pooltune,
    target: {
      name: manifest.target.name,
      entry: manifest.target.entry,
      services: [...manifest.target.services],
    },
    scenario: manifest.scenario,
    driver: manifest.driver,
    runtime: manifest.runtime,
    verdict,
    exitCode: exitCodeFor(sloStatus, regression),
    slo: { p99Ms: slo.p99Ms, errorRate: slo.errorRate, status: sloStatus, checks: sloChecks },
    recommendations: recommendations(run),
    checklist,
    risks,
    trials: {
      total: trials.length,
      completed: count('completed'),
      invalid: count('invalid'),
      errored: count('errored'),
      aborted: count('aborted'),
    },
    points: [...points],
    ...(run.analysis?.capacity === undefined ? {} : { capacity: capacitySummary(run.analysis.capacity) }),
    ...(regression === undefined ? {} : { regression }),
  };
}

/** The exit code a run's verdicts map to: SLO failures (3) before regressions (4). */
export function exitCodeFor(sloStatus: CheckStatus, regression: RegressionSummary | undefined): number {
  if (sloStatus === 'fail') return ExitCode.sloFailed;
  if (regression?.regressed === true) return ExitCode.regression;
  return ExitCode.ok;
}

function overall(statuses: readonly CheckStatus[]): CheckStatus {
  if (statuses.length === 0) return 'not-checked';
  return statuses.reduce<CheckStatus>((acc, status) => worse(acc, status), 'pass');
}

/** Step 6's checks of each pool. Pool use above 80% is headroom, not the SLO: it warns. */
function peakSloChecks(run: RunEvidence): SloCheck[] {
  return (run.analysis?.recommendations ?? []).flatMap((rec) =>
    (rec.peakChecks ?? []).map((check) => ({
      id: `${rec.pool}/${check.scenario}/${check.metric}`,
      pool: rec.pool,
      scenario: check.scenario,
      metric: check.metric,
      name: check.name,
      ...(check.threshold === undefined ? {} : { threshold: check.threshold }),
      ...(check.observed === undefined ? {} : { observed: check.observed }),
      unit: check.unit,
      status: check.pass ? 'pass' : check.metric === 'poolUse' ? 'warn' : 'fail',
      detail: check.detail,
      trials: [...(check.trials ?? [])],
    })),
  );
}

/** A single-point run (`pooltune run`) is checked against the SLO point by point. */
function pointSloChecks(run: RunEvidence, slo: { p99Ms: number; errorRate: number }): SloCheck[] {
  const groups = new Map<string, MeasuredTrial[]>();
  for (const trial of completedTrials(run.trials)) {
    const key = `${trial.scenario}|${JSON.stringify(trial.knobs)}`;
    groups.set(key, [...(groups.get(key) ?? []), trial]);
  }
  const checks: SloCheck[] = [];
  for (const group of groups.values()) {
    const stats = pointStats(group);
    const first = group[0];
    if (stats === undefined || first === undefined) continue;
    const trials = group.map((t) => t.id);
    const scenario = first.scenario;
    const base = { pool: '', scenario, trials };
    checks.push(
      {
        ...base,
        id: `${scenario}/${trials[0]}/p99`,
        metric: 'p99',
        name: `${scenario}: p99 <= ${slo.p99Ms} ms`,
        threshold: slo.p99Ms,
        observed: stats.p99,
        unit: 'ms',
        status: stats.p99 <= slo.p99Ms ? 'pass' : 'fail',
        detail: `p99 ${stats.p99.toFixed(1)} ms`,
      },
      {
        ...base,
        id: `${scenario}/${trials[0]}/errorRate`,
        metric: 'errorRate',
        name: `${scenario}: error rate <= ${(slo.errorRate * 100).toFixed(2)}%`,
        threshold: slo.errorRate,
        observed: stats.errorRate,
        unit: 'ratio',
        status: stats.errorRate <= slo.errorRate ? 'pass' : 'fail',
        detail: `error rate ${(stats.errorRate * 100).toFixed(3)}%`,
      },
    );
  }
  return checks;
}

function recommendations(run: RunEvidence): Recommendation[] {
  const fixed = run.manifest.fixedKnobs;
  return (run.analysis?.recommendations ?? []).map((rec) => {
    const expected = rec.expectedAtPeak;
    const gains = steadyGains(run, rec.pool);
    const native = peakNative(stepTrials(run, stepIds.peak, rec.pool));
    const cores = databaseCores(run.manifest, rec.pool);
    const knee = rec.knobs.find((knob) => knob.role === 'size')?.value;
    return {
      pool: rec.pool,
      library: rec.library,
      settings: rec.knobs.map((knob) => {
        const current = fixed[knob.knob];
        return {
          knob: knob.knob,
          role: knob.role,
          ...(current === undefined ? {} : { current }),
          recommended: knob.value,
          unit: knob.unit,
          changed: current !== knob.value,
          ...(knob.interval === undefined ? {} : { interval: knob.interval }),
          ...(knob.plateau === undefined ? {} : { plateau: knob.plateau }),
          rule: knob.rule,
          evidence: [...knob.evidence],
        };
      }),
      ...(expected === undefined
        ? {}
        : {
            expectedAtPeak: {
              throughput: { value: expected.throughput, ...expected.throughputInterval },
              p99Ms: { value: expected.p99Ms, ...expected.p99Interval },
              errorRate: expected.errorRate,
            },
          }),
      ...(gains.length === 0 ? {} : { gains }),
      ...(native === undefined ? {} : { nativeAtPeak: native.figures }),
      ...(cores === undefined || knee === undefined
        ? {}
        : { coresRule: coresRule(cores.cores, knee, cores.source) }),
      ...sizingOf(run.analysis?.sizes?.find((size) => size.pool === rec.pool)),
    };
  });
}

/** The pool size's plateau, noise and headroom validations, as `summary.json` carries them. */
function sizingOf(size: SizeAnalysis | undefined): Pick<Recommendation, 'sizing'> {
  if (size === undefined) return {};
  return {
    sizing: {
      plateau: [...size.plateau],
      undecided: [...size.undecided],
      best: size.best,
      margin: size.margin,
      noiseCv: size.noise?.cv ?? null,
      resolvable: size.resolvable,
      drift: size.drift?.largest ?? null,
      otherChoiceShare: size.uncertainty?.otherShare ?? null,
      outliers: size.sizes.flatMap((s) => s.runs.filter((run) => run.outlier).map((run) => run.id)),
      validations: size.validations.map((v) => ({ n: v.n, passed: v.passed })),
      needed: size.needed,
      restarts: size.order.restarts,
      order: size.order.description,
    },
  };
}

/** Step 8's capacities as `summary.json` carries them. */
function capacitySummary(outcome: CapacityOutcome): CapacitySummary {
  return {
    text: capacitySentence(outcome),
    slo: { ...outcome.slo },
    minSustained: outcome.minSustained,
    resolution: outcome.resolution,
    generatorLimited: generatorLimited(outcome),
    results: outcome.results.map((result) => ({
      label: result.label,
      knobs: { ...result.knobs },
      capacity: result.capacity,
      validated: result.validated,
      bracket: { ...result.bracket },
      interval: result.interval === null ? null : { ...result.interval },
      stoppedBy: result.stoppedBy,
      why: result.why,
      probes: result.probes.map((p) => ({
        rate: p.rate,
        validation: p.validation,
        verdict: p.verdict,
        limit: p.limit,
        achieved: p.achieved,
        p99Ms: p.p99Ms,
        errorRate: p.errorRate,
        trial: p.trial,
      })),
    })),
  };
}

type GainMetric = NonNullable<Recommendation['gains']>[number]['metric'];

const gainMetrics: readonly [GainMetric, (trial: MeasuredTrial) => number][] = [
  ['throughput', (t) => t.client.throughput],
  ['p50Ms', (t) => t.client.latency.p50],
  ['p99Ms', (t) => t.client.latency.p99],
  ['p999Ms', (t) => t.client.latency.p999],
];

/**
 * Recommended against starting settings at the steady rate: step 3's trials against step 2's, as the
 * relative change of the medians, with a 95% bootstrap interval over the repetitions of both.
 */
export function steadyGains(run: RunEvidence, pool: string): NonNullable<Recommendation['gains']> {
  const before = completedTrials(stepTrials(run, stepIds.baseline, pool));
  const after = completedTrials(stepTrials(run, stepIds.impact, pool));
  if (before.length === 0 || after.length === 0) return [];
  const random = seededRandom(20_261_124);
  const gains: NonNullable<Recommendation['gains']> = gainMetrics.map(([metric, read]) => {
    const a = before.map(read);
    const b = after.map(read);
    const beforeMedian = median(a);
    const afterMedian = median(b);
    return {
      metric,
      before: beforeMedian,
      after: afterMedian,
      change: { value: relative(beforeMedian, afterMedian), ...changeInterval(a, b, random) },
    };
  });
  const rate = (trials: readonly MeasuredTrial[]) => pointStats(trials)?.errorRate ?? 0;
  gains.push({
    metric: 'errorRate',
    before: rate(before),
    after: rate(after),
    change: { value: rate(after) - rate(before) },
  });
  return gains;
}

function relative(before: number, after: number): number {
  return before === 0 ? 0 : after / before - 1;
}

/** Percentile-bootstrap interval of the relative change of medians; none without two repetitions each. */
function changeInterval(
  before: readonly number[],
  after: readonly number[],
  random: Random,
  iterations = 1000,
): { low: number; high: number } | Record<string, never> {
  if (before.length < 2 || after.length < 2) return {};
  const draw = (values: readonly number[]) =>
    median(values.map(() => values[Math.floor(random() * values.length)] ?? 0));
  const changes: number[] = [];
  for (let i = 0; i < iterations; i++) changes.push(relative(draw(before), draw(after)));
  const low = quantile(changes, 0.025);
  const high = quantile(changes, 0.975);
  return low === undefined || high === undefined ? {} : { low, high };
}
