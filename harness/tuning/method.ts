import { seededRandom } from '../../scenarios/schedule.ts';
import { bootstrapMedian } from '../analysis/bootstrap.ts';
import { type FleetBudget, type FleetBudgetInput, fleetBudget } from '../analysis/fleet-budget.ts';
import { diagnoseKeepAlive, safeKeepAliveMs } from '../analysis/keep-alive.ts';
import type { PlateauAnalysis } from '../analysis/plateau.ts';
import { type PointStats, pointStats } from '../analysis/point-stats.ts';
import { recommendationUncertainty, recommendSize } from '../analysis/pool-size.ts';
import { type PoolSettings, snippetsFor } from '../analysis/snippets.ts';
import { utilisationAlert } from '../analysis/thresholds.ts';
import {
  capIdleTimeout,
  connectTimeout,
  maxLifetime,
  readTimeout,
  type TimeoutChoice,
} from '../analysis/timeouts.ts';
import { capacitySettings, databaseMaxConnections } from '../config/plan.ts';
import type { KnobDefinition, PoolDefinition } from '../config/schema.ts';
import { isMeasured, type KnobValues, type TrialResult } from '../results/trial.ts';
import { baseline, referenceRepetitions } from './baseline.ts';
import { calibrate, calibrationTrials } from './calibrate.ts';
import { capacityStep, expectedCapacityTrials, expectedHintedTrials } from './capacity.ts';
import {
  expectedGrowTrials,
  growPool,
  growReport,
  repetitionRules,
  type SizeChoice,
  sizeAnalysis,
} from './grow-pool.ts';
import { identifyCriticalPool } from './identify-critical-pool.ts';
import { idleTimeout, inKnobUnit, knobMs } from './idle-timeout.ts';
import type {
  KnobRecommendation,
  KnobRole,
  MethodOutcome,
  PoolRecommendation,
  SizeAnalysis,
} from './outcome.ts';
import {
  largerPoolWouldHelp,
  neededSize,
  nextCandidate,
  type PeakOutcome,
  peakReport,
  validateAtPeak,
} from './peak-load.ts';
import type { MethodSession } from './session.ts';
import { type StepReport, stepIds } from './step.ts';
import { burstFor, peakFor } from './step-scenarios.ts';
import { watchImpact } from './watch-impact.ts';

/** Candidates step 6 validates at most before it settles (each costs a peak and a burst point). */
export const MAX_VALIDATIONS = 3;

/**
 * Runs the seven-step method: calibrate the machine's noise (0), identify the critical pool (1), then
 * for each pool in that order (7): baseline (2), grow the pool (4), idle timeout (5), peak load (6,
 * which may send the choice back to step 4's next candidate), and finally watch the impact (3) of the
 * settings chosen against the baseline. Last, unless `tuning.capacity` is off, the capacity search (8)
 * at the recommended and the starting settings.
 */
export async function runMethod(session: MethodSession): Promise<MethodOutcome> {
  const { plan } = session;
  let knobs: KnobValues = { ...plan.knobs };
  const capacityTrials = capacitySettings(plan.config).enabled
    ? expectedCapacityTrials + expectedHintedTrials
    : 0;
  session.expect(
    calibrationTrials(plan.config.quick) +
      plan.pools.length * expectedTrialsPerPool(session) +
      capacityTrials,
  );
  const calibration = await calibrate(session, knobs);
  const identified = await identifyCriticalPool(session, knobs);
  const steps: StepReport[] = [calibration.report, identified.report];
  const recommendations: PoolRecommendation[] = [];
  const sizes: SizeAnalysis[] = [];
  for (const [index, pool] of identified.order.entries()) {
    if (session.aborted) break;
    const later = (identified.order.length - index - 1) * expectedTrialsPerPool(session) + capacityTrials;
    session.expect(expectedTrialsPerPool(session) + later);
    const result = await tunePool(session, pool, knobs, calibration.noise.throughputs, later);
    steps.push(...result.steps);
    recommendations.push(result.recommendation);
    if (result.sizes !== undefined) sizes.push(result.sizes);
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
  // Step 8: what the settings chosen sustain under the SLO, against what the starting ones did.
  const capacity =
    capacityTrials > 0 && !session.aborted
      ? await capacityStep(session, knobs, plan.knobs, calibration.noise.cv)
      : undefined;
  if (capacity !== undefined) steps.push(capacity.report);
  return {
    steps: steps.sort((a, b) => a.step - b.step),
    recommendations,
    noise: calibration.noise,
    sizes,
    ...(capacity === undefined ? {} : { capacity: capacity.outcome }),
  };
}

/**
 * About how many trials one pool takes: the baseline and impact points, step 4's search, three idle
 * timeouts, the timeout probe, and a peak and a burst point for one and a half candidates on average.
 * The search is adaptive, so this is for the progress count and ETA only.
 */
export function expectedTrialsPerPool(session: Pick<MethodSession, 'repetitions' | 'plan'>): number {
  const reference = 2 * referenceRepetitions(session);
  const validation = Math.ceil(1.5 * reference);
  // Step 5: never closing, then candidates up to the first acceptable one (usually the second).
  const idle = 3;
  return reference + expectedGrowTrials(repetitionRules(session)) + idle + 1 + validation;
}

/** Which size to settle on after step 6's validations (pure); see {@link recommendSize}. */
export function settleSize(
  plateau: PlateauAnalysis | undefined,
  validations: readonly PeakOutcome[],
  margin: number,
  calibration: readonly number[],
  seed: number,
  repetitions: number,
): SizeChoice {
  const last = validations.at(-1);
  const recommended = last?.size ?? (plateau === undefined ? undefined : recommendSize(plateau, []));
  // After a failure, every size below the one settled on was ruled out at peak, validated or skipped
  // on the load's measured demand: resampling asks only whether the settled size stays on the plateau.
  const anyFailed = validations.some((v) => largerPoolWouldHelp(v) && v.size !== recommended);
  const failed = anyFailed && recommended !== undefined ? [recommended - 1] : [];
  const held = last?.checks.every((check) => check.pass);
  const stillFull = last !== undefined && largerPoolWouldHelp(last);
  const needed = stillFull && last !== undefined ? neededSize(last) : undefined;
  const uncertainty =
    plateau === undefined || recommended === undefined
      ? undefined
      : recommendationUncertainty(
          plateau,
          { margin, calibration, repetitions },
          failed,
          recommended,
          seededRandom(seed),
        );
  const validated = new Set(validations.map((v) => v.size));
  const untried = (plateau?.plateau ?? []).filter((n) => n > (last?.size ?? 0) && !validated.has(n));
  const tried = validations
    .map(
      (v) =>
        `${v.size}: ${v.checks.every((c) => c.pass) ? 'held' : largerPoolWouldHelp(v) ? 'pool too full' : 'failed, not for want of connections'}`,
    )
    .join(', then ');
  const base = `the smallest size on the throughput plateau (the best, or shown equivalent to it within ±${((plateau?.margin ?? margin) * 100).toFixed(0)}% by TOST with a mean within ${(margin * 100).toFixed(0)}% of the best's) whose pool use at the peak rate and in bursts stays under ${utilisationAlert * 100}% of max`;
  const rule =
    validations.length === 0
      ? `${base}; not validated at peak`
      : held
        ? `${base}; validated at peak: ${tried}`
        : stillFull && untried.length > 0
          ? `${base}; validated at peak: ${tried}; stopped after ${validations.length} sizes, with ${untried.join(', ')} on the plateau not validated${needed === undefined ? '' : ` (the load would need about ${needed})`}`
          : stillFull
            ? `${base}; no size on the plateau held (${tried})${needed === undefined ? '' : `: the load would need about ${needed}`}`
            : `${base}; validated at peak: ${tried} (a larger pool would not fix what failed)`;
  return {
    recommended,
    validations: validations.map((v) => ({
      n: v.size ?? 0,
      passed: v.checks.every((c) => c.pass),
      needed: neededSize(v) ?? null,
    })),
    uncertainty,
    needed,
    rule,
  };
}

async function tunePool(
  session: MethodSession,
  pool: PoolDefinition,
  current: KnobValues,
  calibration: readonly number[],
  laterTrials: number,
): Promise<{
  steps: StepReport[];
  recommendation: PoolRecommendation;
  knobs: KnobValues;
  sizes?: SizeAnalysis;
}> {
  const { plan } = session;
  const { tuning } = plan.config;
  const knobDef = (name: string | undefined) => (name === undefined ? undefined : plan.target.knobs[name]);
  const recs: KnobRecommendation[] = [];
  const checks: string[] = [];
  let budgetFigures: (FleetBudget & FleetBudgetInput) | undefined;
  const firstTrial = session.trials.length;
  const afterGrow =
    expectedTrialsPerPool(session) -
    2 * referenceRepetitions(session) -
    expectedGrowTrials(repetitionRules(session));

  const base = await baseline(session, pool, current);
  const grow = await growPool(session, pool, current, { calibration, laterTrials: afterGrow + laterTrials });
  const sizeKnob = pool.knobs.size;
  const candidates = grow.plateau?.plateau ?? [];
  const first = grow.plateau === undefined ? undefined : recommendSize(grow.plateau, []);
  let knobs: KnobValues = first === undefined ? { ...current } : { ...current, [sizeKnob]: first };

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

  // Timeouts come from a probe at the peak rate with the first candidate and the idle timeout (acquire
  // wait p99, response p99.9); step 6 then validates the complete settings at peak and in bursts, moving
  // to the next candidate on the plateau while the pool runs too full.
  session.expect(afterGrow - 4 + laterTrials);
  const probe = await session.point({
    step: stepIds.peak,
    knobs,
    scenario: peakFor(plan),
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
  const validations: PeakOutcome[] = [];
  let candidate = first;
  do {
    const tried = candidate === undefined ? knobs : { ...knobs, [sizeKnob]: candidate };
    const validation = await validateAtPeak(session, pool, tried);
    validations.push(validation);
    if (!largerPoolWouldHelp(validation) || candidate === undefined) break;
    candidate = nextCandidate(candidates, candidate, neededSize(validation));
    if (candidate !== undefined)
      session.log(
        `pool ${pool.name}: ${sizeKnob}=${validation.size} ran too full at peak; validating ${sizeKnob}=${candidate}`,
      );
  } while (candidate !== undefined && validations.length < MAX_VALIDATIONS && !session.aborted);
  const choice = settleSize(
    grow.plateau,
    validations,
    tuning.minGain,
    calibration,
    plan.config.seed,
    grow.rules.repetitions.base,
  );
  const sizes = sizeAnalysis(pool, grow, choice);
  const growStep = growReport(pool, grow, sizes, tuning.concurrency);
  if (choice.recommended !== undefined) {
    knobs = { ...knobs, [sizeKnob]: choice.recommended };
    const plateauRange =
      sizes.plateau.length === 0
        ? undefined
        : { low: sizes.plateau[0] as number, high: sizes.plateau.at(-1) as number };
    recs.unshift({
      role: 'size',
      knob: sizeKnob,
      value: choice.recommended,
      unit: '',
      ...(choice.uncertainty === undefined
        ? {}
        : { interval: { low: choice.uncertainty.low, high: choice.uncertainty.high } }),
      ...(plateauRange === undefined ? {} : { plateau: plateauRange }),
      rule: choice.rule,
      evidence: [...growStep.trials, ...validations.flatMap((v) => v.trials)],
    });
    const maxConnections = databaseMaxConnections(plan.target);
    if (maxConnections !== undefined) {
      const input = {
        instances: tuning.instances,
        poolMax: choice.recommended,
        reserve: plan.config.reserveConnections,
        maxConnections,
      };
      const budget = fleetBudget(input);
      budgetFigures = { ...input, ...budget };
      checks.push(
        `fleet budget: ${tuning.instances} instance(s) x ${choice.recommended} = ${budget.needed}, plus reserve ${plan.config.reserveConnections}, of max_connections ${maxConnections}: ${budget.fits ? `fits (headroom ${budget.headroom})` : `does NOT fit: at most ${budget.maxPoolPerInstance} per instance`}`,
      );
    }
  }
  const final = validations.at(-1);
  const peakStep = peakReport(
    pool,
    knobs,
    { peak: peakFor(plan).description, burst: burstFor(plan).description },
    validations,
    validations.length > 1 ? choice.rule.slice(choice.rule.lastIndexOf(';') + 2) : '',
  );
  const peakWithProbe: StepReport = {
    ...peakStep,
    saw: [
      `probe at the peak rate (sets the timeouts) at ${sizeKnob}=${String(knobs[sizeKnob])}: acquire wait p99 ${probeStats?.acquireWaitP99Ms?.toFixed(1) ?? '?'} ms, p99.9 ${probeStats?.p999.toFixed(1) ?? '?'} ms`,
      ...peakStep.saw,
    ],
    trials: [...probeTrials, ...peakStep.trials],
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
  const finalChecks = final?.checks ?? [];
  const peak: PointStats | undefined = final?.peak;
  return {
    steps: [base.report, impact.report, growStep, idle.report, peakWithProbe],
    knobs,
    ...(grow.plateau === undefined ? {} : { sizes }),
    recommendation: {
      pool: pool.name,
      library: pool.library,
      knobs: recs,
      ...(peak === undefined || final === undefined
        ? {}
        : { expectedAtPeak: expectedAtPeak(peak, final.peakTrials, plan.config.seed) }),
      peakChecksPassed: finalChecks.every((check) => check.pass),
      peakChecks: finalChecks,
      ...(budgetFigures === undefined ? {} : { fleetBudget: budgetFigures }),
      keepAlive,
      checks: [
        ...checks,
        ...finalChecks.map((check) => `${check.pass ? 'pass' : 'FAIL'} ${check.name}: ${check.detail}`),
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
