import { seededRandom } from '../../scenarios/schedule.ts';
import { plateauInterval } from '../analysis/plateau.ts';
import { type PointStats, pointStats } from '../analysis/point-stats.ts';
import { type PoolSettings, type Snippet, snippetsFor } from '../analysis/snippets.ts';
import {
  capIdleTimeout,
  connectTimeout,
  maxLifetime,
  readTimeout,
  type TimeoutChoice,
} from '../analysis/timeouts.ts';
import type { PoolDefinition } from '../config/schema.ts';
import type { KnobValues } from '../results/trial.ts';
import { baseline } from './baseline.ts';
import { growPool } from './grow-pool.ts';
import { identifyCriticalPool } from './identify-critical-pool.ts';
import { idleTimeout, inKnobUnit, knobMs } from './idle-timeout.ts';
import { peakLoad } from './peak-load.ts';
import type { Session } from './session.ts';
import { type StepReport, stepIds } from './step.ts';
import { peakScenario } from './step-scenarios.ts';
import { watchImpact } from './watch-impact.ts';

/** The role a knob plays for a pool. */
export type KnobRole = keyof PoolDefinition['knobs'];

/** One knob's recommended value, with the rule that chose it and the trials behind it. */
export interface KnobRecommendation {
  readonly role: KnobRole;
  readonly knob: string;
  readonly value: number;
  readonly unit: string;
  /** 95% bootstrap interval over repetitions, where the rule allows one. */
  readonly interval?: { readonly low: number; readonly high: number };
  readonly rule: string;
  readonly evidence: readonly string[];
}

/** What to ship for one pool. */
export interface PoolRecommendation {
  readonly pool: string;
  readonly library: string;
  readonly knobs: readonly KnobRecommendation[];
  /** Median figures at the peak rate with the recommended settings. */
  readonly expectedAtPeak?: {
    readonly p99Ms: number;
    readonly throughput: number;
    readonly errorRate: number;
  };
  readonly peakChecksPassed?: boolean;
  readonly snippets: readonly Snippet[];
}

/** The method's outcome: every step's evidence and a recommendation per pool. */
export interface MethodOutcome {
  readonly steps: readonly StepReport[];
  readonly recommendations: readonly PoolRecommendation[];
}

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

  const base = await baseline(session, pool, current);
  const grow = await growPool(session, pool, current);
  let knobs: KnobValues = { ...current };
  if (grow.recommended !== undefined) {
    knobs = { ...knobs, [pool.knobs.size]: grow.recommended };
    const interval = plateauInterval(
      grow.points.map((p) => ({ n: p.n, throughputs: p.point.completed.map((t) => t.client.throughput) })),
      tuning.minGain,
      seededRandom(plan.config.seed),
    );
    recs.push({
      role: 'size',
      knob: pool.knobs.size,
      value: grow.recommended,
      unit: '',
      ...(interval === undefined ? {} : { interval }),
      rule: `smallest size within ${(tuning.minGain * 100).toFixed(0)}% of the plateau's throughput (median of the sizes from half the best up) (${grow.why})`,
      evidence: grow.report.trials,
    });
  }

  const idle = await idleTimeout(session, pool, knobs);
  const idleKnob = pool.knobs.idleTimeout;
  if (idle.timeoutMs !== undefined && idleKnob !== undefined) {
    const capped = capIdleTimeout(idle.timeoutMs, tuning.infraIdleCutoffsMs);
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
  const firstPeak = {
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

  const settings = poolSettings(recs);
  const service = plan.target.services[pool.service];
  const env = service?.kind === 'process' ? service.env : {};
  const numeric = Object.fromEntries(
    Object.entries(knobs).filter((e): e is [string, number] => typeof e[1] === 'number'),
  );
  const peak: PointStats | undefined = firstPeak.peak;
  return {
    steps: [base.report, impact.report, grow.report, idle.report, firstPeak.report],
    knobs,
    recommendation: {
      pool: pool.name,
      library: pool.library,
      knobs: recs,
      ...(peak === undefined
        ? {}
        : { expectedAtPeak: { p99Ms: peak.p99, throughput: peak.throughput, errorRate: peak.errorRate } }),
      peakChecksPassed: firstPeak.checks.every((check) => check.pass),
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
