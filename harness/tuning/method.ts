import { seededRandom } from '../../scenarios/schedule.ts';
import { bootstrapMedian } from '../analysis/bootstrap.ts';
import { type FleetBudget, type FleetBudgetInput, fleetBudget } from '../analysis/fleet-budget.ts';
import { diagnoseKeepAlive, safeKeepAliveMs } from '../analysis/keep-alive.ts';
import { type PointStats, pointStats } from '../analysis/point-stats.ts';
import { type PoolSettings, snippetsFor } from '../analysis/snippets.ts';
import {
  capIdleTimeout,
  connectTimeout,
  maxLifetime,
  readTimeout,
  type TimeoutChoice,
} from '../analysis/timeouts.ts';
import { databaseMaxConnections } from '../config/plan.ts';
import type { KnobDefinition, PoolDefinition } from '../config/schema.ts';
import { isMeasured, type KnobValues, type TrialResult } from '../results/trial.ts';
import { baseline } from './baseline.ts';
import { growPool } from './grow-pool.ts';
import { identifyCriticalPool } from './identify-critical-pool.ts';
import { idleTimeout, inKnobUnit, knobMs } from './idle-timeout.ts';
import type { KnobRecommendation, KnobRole, MethodOutcome, PoolRecommendation } from './outcome.ts';
import { peakLoad } from './peak-load.ts';
import type { Session } from './session.ts';
import { type StepReport, stepIds } from './step.ts';
import { peakScenario } from './step-scenarios.ts';
import { watchImpact } from './watch-impact.ts';

/**
 * Runs the seven-step method: identify the critical pool (1), then for each pool in that order (7):
 * baseline (2), grow the pool (4), idle timeout (5), peak load (6), and finally watch the impact (3)
 * of the settings chosen against the baseline.
 */
export async function runMethod(session: Session): Promise<MethodOutcome> {
  const { plan } = session;
  let knobs: KnobValues = { ...plan.knobs };
  const identified = await identifyCriticalPool(session, knobs);
  const steps: StepReport[] = [identified.report];
  const recommendations: PoolRecommendation[] = [];
  for (const [index, pool] of identified.order.entries()) {
    if (session.aborted) break;
    session.expect((identified.order.length - index) * expectedTrialsPerPool(session));
    const result = await tunePool(session, pool, knobs);
    steps.push(...result.steps);
    recommendations.push(result.recommendation);
    knobs = result.knobs;
  }
  steps.push({
    step: 7,
    id: stepIds.repeat,
    title: 'Repeat for each pool',
    tried: `the steps above for ${identified.order.length} pool(s), in the order of step 1`,
    saw: recommendations.map(
      (r) => `${r.pool}: ${r.knobs.map((k) => `${k.knob}=${k.value}${k.unit}`).join(', ')}`,
    ),
    decided: session.aborted
      ? 'interrupted before every pool was tuned'
      : 'every pool tuned; later pools were tuned with the earlier ones already at their recommended settings',
    trials: [],
  });
  return { steps: steps.sort((a, b) => a.step - b.step), recommendations };
}

/**
 * About how many trials one pool takes: baseline, ~9 sizes, peak and burst, impact (each repeated),
 * four idle timeouts and one peak probe. The search is adaptive, so this is for the progress ETA only.
 */
export function expectedTrialsPerPool(session: Pick<Session, 'repetitions' | 'plan'>): number {
  const idleRepetitions = session.plan.config.quick ? 1 : Math.min(2, session.repetitions);
  return session.repetitions * 13 + 4 * idleRepetitions + 1;
}

async function tunePool(
  session: Session,
  pool: PoolDefinition,
  current: KnobValues,
): Promise<{ steps: StepReport[]; recommendation: PoolRecommendation; knobs: KnobValues }> {
  const { plan } = session;
  const { tuning } = plan.config;
  const knobDef = (name: string | undefined) => (name === undefined ? undefined : plan.target.knobs[name]);
  const recs: KnobRecommendation[] = [];
  const checks: string[] = [];
  let budgetFigures: (FleetBudget & FleetBudgetInput) | undefined;
  const firstTrial = session.trials.length;

  const base = await baseline(session, pool, current);
  const grow = await growPool(session, pool, current);
  let knobs: KnobValues = { ...current };
  if (grow.recommended !== undefined) {
    knobs = { ...knobs, [pool.knobs.size]: grow.recommended };
    recs.push({
      role: 'size',
      knob: pool.knobs.size,
      value: grow.recommended,
      unit: '',
      ...(grow.interval === undefined ? {} : { interval: grow.interval }),
      rule: grow.rule,
      evidence: grow.report.trials,
    });
    const maxConnections = databaseMaxConnections(plan.target);
    if (maxConnections !== undefined) {
      const input = {
        instances: tuning.instances,
        poolMax: grow.recommended,
        reserve: plan.config.reserveConnections,
        maxConnections,
      };
      const budget = fleetBudget(input);
      budgetFigures = { ...input, ...budget };
      checks.push(
        `fleet budget: ${tuning.instances} instance(s) x ${grow.recommended} + reserve ${plan.config.reserveConnections} = ${budget.needed} of max_connections ${maxConnections}: ${budget.fits ? `fits (headroom ${budget.headroom})` : `does NOT fit: at most ${budget.maxPoolPerInstance} per instance`}`,
      );
    }
  }

  const idle = await idleTimeout(session, pool, knobs);
  const idleKnob = pool.knobs.idleTimeout;
  if (idle.timeoutMs !== undefined && idleKnob !== undefined) {
    const serverMs = knobMs(knobs[pool.knobs.serverIdleTimeout ?? ''], knobDef(pool.knobs.serverIdleTimeout));
    const capped =
      serverMs !== undefined && serverMs > 0 && idle.timeoutMs > safeKeepAliveMs(serverMs)
        ? {
            ms: safeKeepAliveMs(serverMs),
            rule: `kept below the server's own idle timeout (${serverMs} ms), or reused connections race its close`,
          }
        : capIdleTimeout(idle.timeoutMs, tuning.infraIdleCutoffsMs);
    const ms = capped?.ms ?? idle.timeoutMs;
    knobs = { ...knobs, [idleKnob]: inKnobUnit(ms, knobDef(idleKnob)) };
    recs.push(
      timeoutRec(
        'idleTimeout',
        idleKnob,
        ms,
        capped?.rule ?? idle.report.decided,
        idle.report.trials,
        knobDef(idleKnob)?.unit,
      ),
    );
  }

  // Timeouts come from a probe at the peak rate with the size and idle timeout chosen so far (acquire
  // wait p99, response p99.9); step 6 then validates the complete settings at peak and in bursts.
  const probe = await session.point({
    step: stepIds.peak,
    knobs,
    scenario: peakScenario(plan),
    repetitions: 1,
  });
  const probeStats = pointStats(probe.completed);
  const probeTrials = probe.trials.map((trial) => trial.id);
  const timeouts: [KnobRole, string | undefined, TimeoutChoice][] = [
    ['connectTimeout', pool.knobs.connectTimeout, connectTimeout(probeStats?.acquireWaitP99Ms)],
    ['readTimeout', pool.knobs.readTimeout, readTimeout(tuning.slo.p99Ms, probeStats?.p999)],
    ['maxLifetime', pool.knobs.maxLifetime, maxLifetime(tuning.infraIdleCutoffsMs)],
  ];
  for (const [role, knob, choice] of timeouts) {
    if (knob === undefined) continue;
    knobs = { ...knobs, [knob]: inKnobUnit(choice.ms, knobDef(knob)) };
    recs.push(timeoutRec(role, knob, choice.ms, choice.rule, probeTrials, knobDef(knob)?.unit));
  }
  const validated = await peakLoad(session, pool, knobs);
  const peakStep = {
    ...validated,
    report: {
      ...validated.report,
      saw: [
        `probe at the peak rate (sets the timeouts): acquire wait p99 ${probeStats?.acquireWaitP99Ms?.toFixed(1) ?? '?'} ms, p99.9 ${probeStats?.p999.toFixed(1) ?? '?'} ms`,
        ...validated.report.saw,
      ],
      trials: [...probeTrials, ...validated.report.trials],
    },
  };
  const impact = await watchImpact(session, pool, base.stats, knobs);
  const keepAlive = keepAliveFindings(session.trials.slice(firstTrial), pool, (name) => knobDef(name));
  checks.push(...keepAlive);

  const settings = poolSettings(recs);
  const service = plan.target.services[pool.service];
  const env = service?.kind === 'process' ? service.env : {};
  const numeric = Object.fromEntries(
    Object.entries(knobs).filter((e): e is [string, number] => typeof e[1] === 'number'),
  );
  const peak: PointStats | undefined = validated.peak;
  return {
    steps: [base.report, impact.report, grow.report, idle.report, peakStep.report],
    knobs,
    recommendation: {
      pool: pool.name,
      library: pool.library,
      knobs: recs,
      ...(peak === undefined
        ? {}
        : { expectedAtPeak: expectedAtPeak(peak, validated.peakTrials, plan.config.seed) }),
      peakChecksPassed: peakStep.checks.every((check) => check.pass),
      peakChecks: peakStep.checks,
      ...(budgetFigures === undefined ? {} : { fleetBudget: budgetFigures }),
      keepAlive,
      checks: [
        ...checks,
        ...peakStep.checks.map((check) => `${check.pass ? 'pass' : 'FAIL'} ${check.name}: ${check.detail}`),
      ],
      snippets: snippetsFor(pool.library, settings, env, numeric),
    },
  };

  function timeoutRec(
    role: KnobRole,
    knob: string,
    ms: number,
    rule: string,
    evidence: readonly string[],
    unit: string | undefined,
  ): KnobRecommendation {
    const def = knobDef(knob);
    return { role, knob, value: inKnobUnit(ms, def), unit: unit ?? '', rule, evidence };
  }
}

/**
 * Connection resets seen on this pool's trials, explained: grouped by the client and server idle
 * timeouts the trials ran with, so a keep-alive mismatch is named with its fix.
 */
function keepAliveFindings(
  trials: readonly TrialResult[],
  pool: PoolDefinition,
  knobDef: (name: string | undefined) => KnobDefinition | undefined,
): string[] {
  const groups = new Map<
    string,
    { client: number | undefined; server: number | undefined; errors: Record<string, number> }
  >();
  for (const trial of trials) {
    if (!isMeasured(trial)) continue;
    const client = knobMs(trial.knobs[pool.knobs.idleTimeout ?? ''], knobDef(pool.knobs.idleTimeout));
    const server = knobMs(
      trial.knobs[pool.knobs.serverIdleTimeout ?? ''],
      knobDef(pool.knobs.serverIdleTimeout),
    );
    const key = `${client}/${server}`;
    const group = groups.get(key) ?? { client, server, errors: {} };
    for (const [kind, count] of Object.entries({
      ...trial.client.errors,
      ...(trial.server.pool?.errors ?? {}),
    })) {
      group.errors[kind] = (group.errors[kind] ?? 0) + count;
    }
    groups.set(key, group);
  }
  const messages = [...groups.values()]
    .map((group) =>
      diagnoseKeepAlive({
        errorsByKind: group.errors,
        clientKeepAliveMs: group.client,
        upstreamKeepAliveMs: group.server,
      }),
    )
    .filter((finding) => finding !== undefined)
    .map((finding) => `${finding.id}: ${finding.message}`);
  return [...new Set(messages)];
}

/** The peak figures with bootstrap intervals of the median over the repetitions. */
function expectedAtPeak(
  peak: PointStats,
  trials: readonly TrialResult[],
  seed: number,
): NonNullable<PoolRecommendation['expectedAtPeak']> {
  const measured = trials.filter(isMeasured).filter((trial) => trial.status === 'completed');
  const interval = (values: number[]) => {
    const found = bootstrapMedian(values, { random: seededRandom(seed) });
    return found === undefined || values.length < 2 ? undefined : { low: found.low, high: found.high };
  };
  const p99Interval = interval(measured.map((trial) => trial.client.latency.p99));
  const throughputInterval = interval(measured.map((trial) => trial.client.throughput));
  return {
    p99Ms: peak.p99,
    throughput: peak.throughput,
    errorRate: peak.errorRate,
    ...(p99Interval === undefined ? {} : { p99Interval }),
    ...(throughputInterval === undefined ? {} : { throughputInterval }),
  };
}

/** The recommended values in milliseconds by role, for the snippets. */
function poolSettings(recs: readonly KnobRecommendation[]): PoolSettings {
  const ms = (role: KnobRole) => {
    const rec = recs.find((r) => r.role === role);
    return rec === undefined ? undefined : role === 'size' ? rec.value : knobMs(rec.value, rec);
  };
  const settings: { -readonly [K in keyof PoolSettings]: number } = {};
  const set = (key: keyof PoolSettings, value: number | undefined) => {
    if (value !== undefined) settings[key] = value;
  };
  set('size', ms('size'));
  set('idleTimeoutMs', ms('idleTimeout'));
  set('connectTimeoutMs', ms('connectTimeout'));
  set('maxLifetimeMs', ms('maxLifetime'));
  set('readTimeoutMs', ms('readTimeout'));
  return settings;
}
