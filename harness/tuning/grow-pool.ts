import { kneedle, marginalGainKnee } from '../analysis/knee.ts';
import { littlesLawCheck } from '../analysis/littles-law.ts';
import { analysePlateau, type PlateauAnalysis } from '../analysis/plateau.ts';
import { type PointStats, pointStats } from '../analysis/point-stats.ts';
import type { RecommendationUncertainty } from '../analysis/pool-size.ts';
import { fitRepeated, uslBand } from '../analysis/usl-band.ts';
import type { PoolDefinition } from '../config/schema.ts';
import { isMeasured, type KnobValues, type MeasuredTrial, type TrialResult } from '../results/trial.ts';
import type { SizeAnalysis, UslBand } from './outcome.ts';
import {
  defaultSearchRules,
  type GrowMove,
  type GrowRequest,
  type GrowSample,
  nextGrowMove,
  type RepetitionRules,
  type SearchRules,
  type StopReason,
} from './search.ts';
import type { MethodSession } from './session.ts';
import { type StepReport, stepIds } from './step.ts';
import { saturateFor } from './step-scenarios.ts';

/** What step 4 measured and found, before step 6's headroom checks pick among the plateau's sizes. */
export interface GrowOutcome {
  readonly knob: string;
  /** Every size measured, with its medians and completed repetitions. */
  readonly samples: readonly GrowSample[];
  /** The equivalence analysis of the plateau; undefined when nothing completed. */
  readonly plateau: PlateauAnalysis | undefined;
  /** Step 4's trials in the order they ran. */
  readonly trials: readonly TrialResult[];
  /** Blocks of trials the search ran, and how many trials followed a size change. */
  readonly blocks: number;
  readonly restarts: number;
  readonly fit: UslBand | null;
  readonly kneedle: number | null;
  readonly marginalKnee: number | null;
  readonly stoppedBy: StopReason;
  readonly why: string;
  readonly rules: SearchRules & { readonly repetitions: RepetitionRules };
}

/** Step 4's repetition rules from the plan: the base, the cap, the precision aimed at and the budget. */
export function repetitionRules(session: Pick<MethodSession, 'plan' | 'repetitions'>): RepetitionRules {
  const { config } = session.plan;
  const base = Math.max(2, session.repetitions);
  const quick = config.quick;
  return {
    base,
    max: Math.max(base, quick ? base + 1 : config.tuning.maxRepetitions),
    targetHalfWidth: config.tuning.targetHalfWidth,
    maxTrials: quick ? Math.min(config.tuning.maxGrowTrials, 14) : config.tuning.maxGrowTrials,
    seed: config.seed,
  };
}

/** About how many trials step 4 takes: six sizes explored, two refined, five repeated, four for precision. */
export function expectedGrowTrials(rules: RepetitionRules): number {
  return Math.min(rules.maxTrials, 8 + 5 * (rules.base - 1) + 4);
}

/** Step 4's samples from its trials (pure): medians and completed repetitions per size. */
export function growSamples(
  trials: readonly TrialResult[],
  sizeKnob: string,
  phases: ReadonlyMap<number, GrowRequest['phase']>,
): GrowSample[] {
  const bySize = new Map<number, TrialResult[]>();
  const at = new Map<string, number>();
  for (const [i, trial] of trials.entries()) {
    const n = trial.knobs[sizeKnob];
    if (typeof n === 'number') bySize.set(n, [...(bySize.get(n) ?? []), trial]);
    at.set(trial.id, i);
  }
  return [...bySize]
    .sort(([a], [b]) => a - b)
    .map(([n, group]) => {
      const completed = group.filter(
        (trial): trial is MeasuredTrial => isMeasured(trial) && trial.status === 'completed',
      );
      return {
        n,
        phase: phases.get(n) ?? 'refine',
        stats: pointStats(completed, n),
        runs: completed.map((trial) => ({
          id: trial.id,
          throughput: trial.client.throughput,
          at: at.get(trial.id) ?? 0,
        })),
        attempts: group.length,
      };
    });
}

/** Trials that ran at a different size of the pool than the one before them (its service restarted). */
export function sizeChanges(trials: readonly TrialResult[], sizeKnob: string): number {
  return trials.filter((trial, i) => i > 0 && trials[i - 1]?.knobs[sizeKnob] !== trial.knobs[sizeKnob])
    .length;
}

/**
 * Step 4: grow the pool until returns diminish, then repeat the sizes near the plateau in interleaved
 * blocks until the plateau is decided (see {@link nextGrowMove}). The session feeds the pure search
 * its measurements; the search says what to measure next, and when it is done.
 */
export async function growPool(
  session: MethodSession,
  pool: PoolDefinition,
  knobs: KnobValues,
  options: { readonly calibration: readonly number[]; readonly laterTrials: number },
): Promise<GrowOutcome> {
  const { plan } = session;
  const scenario = saturateFor(plan);
  const sizeKnob = pool.knobs.size;
  const rules = {
    from: plan.config.sweep.from,
    factor: plan.config.sweep.factor,
    limit: plan.sweep?.knob === sizeKnob ? plan.sweep.limit : (plan.target.knobs[sizeKnob]?.max ?? 256),
    minGain: plan.config.tuning.minGain,
    clients: plan.config.tuning.concurrency,
    ...defaultSearchRules,
    repetitions: repetitionRules(session),
  };
  const expected = expectedGrowTrials(rules.repetitions);
  const trials: TrialResult[] = [];
  const phases = new Map<number, GrowRequest['phase']>();
  let blocks = 0;
  let move: GrowMove = nextGrowMove([], options.calibration, rules, 0);
  while (move.kind === 'block' && !session.aborted) {
    blocks += 1;
    session.expect(Math.max(expected - trials.length, move.requests.length) + options.laterTrials);
    const counts = new Map<number, number>();
    for (const trial of trials) {
      const n = trial.knobs[sizeKnob];
      if (typeof n === 'number') counts.set(n, (counts.get(n) ?? 0) + 1);
    }
    const requests = move.requests.map((request) => {
      if (!phases.has(request.n)) phases.set(request.n, request.phase);
      const repetition = (counts.get(request.n) ?? 0) + 1;
      counts.set(request.n, repetition);
      return { step: stepIds.grow, knobs: { ...knobs, [sizeKnob]: request.n }, scenario, repetition };
    });
    trials.push(...(await session.block(requests)));
    move = nextGrowMove(growSamples(trials, sizeKnob, phases), options.calibration, rules, trials.length);
  }
  const samples = growSamples(trials, sizeKnob, phases);
  const measured = samples.filter((s) => s.runs.length > 0);
  const plateau = analysePlateau(measured, {
    margin: rules.minGain,
    repetitions: rules.repetitions.base,
    calibration: options.calibration,
  });
  const kept = (plateau?.sizes ?? []).map((size) => ({
    n: size.n,
    throughputs: size.runs.filter((run) => !run.outlier).map((run) => run.throughput),
  }));
  const fitted = fitRepeated(kept);
  const band = fitted === undefined ? undefined : uslBand(kept, fitted);
  const sizes = measured.map((s) => s.n);
  const low = Math.min(...sizes);
  const high = Math.max(...sizes);
  const knee =
    fitted === undefined || !(low >= 1 && high > low)
      ? undefined
      : kneedle(
          Array.from({ length: high - low + 1 }, (_, i) => ({ x: low + i, y: fitted.predict(low + i) })),
          { logX: true },
        );
  const marginal =
    measured.length === 0 || low <= 0
      ? undefined
      : marginalGainKnee(
          measured.map((s) => ({ x: s.n, y: s.stats?.throughput ?? 0 })),
          rules.minGain,
        );
  return {
    knob: sizeKnob,
    samples,
    plateau,
    trials,
    blocks,
    restarts: sizeChanges(trials, sizeKnob),
    fit:
      fitted === undefined || band === undefined
        ? null
        : {
            quality: fitted.quality,
            reason: fitted.quality === 'poor' ? fitted.reason : null,
            rSquared: fitted.rSquared,
            lambda: fitted.lambda,
            sigma: fitted.sigma,
            kappa: fitted.kappa,
            peakN: fitted.peakN,
            curve: band.curve,
            resamples: band.resamples,
          },
    kneedle: knee?.x ?? null,
    marginalKnee: marginal?.x ?? null,
    stoppedBy: move.kind === 'done' ? move.stoppedBy : 'no-data',
    why: move.kind === 'done' ? move.why : 'interrupted',
    rules,
  };
}

/** What step 6 made of step 4's candidates, for the record and the report. */
export interface SizeChoice {
  readonly recommended: number | undefined;
  readonly validations: SizeAnalysis['validations'];
  readonly uncertainty: RecommendationUncertainty | undefined;
  /** When no validated size held: what the load would need. */
  readonly needed: number | undefined;
  /** The rule that chose, in a sentence. */
  readonly rule: string;
}

/** Step 4's analysis as `analysis.json` records it (pure). */
export function sizeAnalysis(pool: PoolDefinition, grow: GrowOutcome, choice: SizeChoice): SizeAnalysis {
  const phaseOf = new Map(grow.samples.map((s) => [s.n, s.phase]));
  return {
    pool: pool.name,
    knob: grow.knob,
    sizes: (grow.plateau?.sizes ?? []).map((size) => ({ ...size, phase: phaseOf.get(size.n) ?? 'refine' })),
    best: grow.plateau?.best ?? null,
    reference: grow.plateau?.reference ?? [],
    plateau: grow.plateau?.plateau ?? [],
    undecided: grow.plateau?.undecided ?? [],
    margin: grow.plateau?.margin ?? grow.rules.minGain,
    requestedMargin: grow.rules.minGain,
    resolvable: grow.plateau?.resolvable ?? null,
    noise: grow.plateau === undefined || !Number.isFinite(grow.plateau.noise.cv) ? null : grow.plateau.noise,
    drift: grow.plateau?.drift ?? null,
    fit: grow.fit,
    kneedle: grow.kneedle,
    marginalKnee: grow.marginalKnee,
    validations: choice.validations,
    recommended: choice.recommended ?? null,
    uncertainty: choice.uncertainty ?? null,
    needed: choice.needed ?? null,
    order: {
      blocks: grow.blocks,
      trials: grow.trials.length,
      restarts: grow.restarts,
      description: orderText(grow),
    },
    stoppedBy: grow.stoppedBy,
    why: grow.why,
  };
}

function orderText(grow: GrowOutcome): string {
  return `sizes explored one trial each in growing order, then repeated in ${grow.blocks} blocks in all, each block one trial per size in a seeded random order (seed ${grow.rules.repetitions.seed}), so drift and background load spread over every size; ${grow.restarts} of ${grow.trials.length} trials followed a change of ${grow.knob} and so a restart of its service (each restart adds a longer warm-up)`;
}

const percent = (share: number, digits = 1) => `${(share * 100).toFixed(digits)}%`;

/** The plateau in a sentence: `anything from 12 to 32 gives the same throughput within ±5%`. */
export function plateauText(
  analysis: Pick<SizeAnalysis, 'plateau' | 'margin' | 'best' | 'undecided' | 'reference'>,
): string {
  const pooled = analysis.reference.filter((n) => n !== analysis.best);
  const against = `TOST against the best, ${analysis.best}${pooled.length === 0 ? '' : `, pooled with ${pooled.join(', ')}`}`;
  const { plateau } = analysis;
  const first = plateau[0];
  const last = plateau.at(-1);
  if (first === undefined || last === undefined) return 'no plateau could be found';
  const undecided =
    analysis.undecided.length === 0
      ? ''
      : `; ${analysis.undecided.join(', ')} undecided at the repetition cap`;
  if (first === last) {
    return `only ${first} (the best) is on the plateau: no other size was shown to give the same throughput within ±${percent(analysis.margin, 0)} (${against})${undecided}`;
  }
  return `anything from ${first} to ${last} gives the same throughput within ±${percent(analysis.margin, 0)} (measured sizes ${plateau.join(', ')}; ${against})${undecided}`;
}

/** Step 4's report (pure): every size with its spread and verdict, the fit, the knees, and the choice. */
export function growReport(
  pool: PoolDefinition,
  grow: GrowOutcome,
  analysis: SizeAnalysis,
  concurrency: number,
): StepReport {
  const { knob } = grow;
  const statsOf = new Map(grow.samples.map((s) => [s.n, s.stats]));
  const saw = analysis.sizes.map((size) => sizeLine(knob, size, statsOf.get(size.n)));
  const outliers = analysis.sizes.flatMap((size) =>
    size.runs
      .filter((run) => run.outlier)
      .map((run) => `${run.id} (${knob}=${size.n}, ${run.throughput.toFixed(0)} req/s)`),
  );
  if (outliers.length > 0) {
    saw.push(
      `outliers (MAD rule, robust z > 3.5; re-run once, left out of the figures): ${outliers.join(', ')}`,
    );
  }
  saw.push(
    `noise: pooled run-to-run CV ${analysis.noise === null ? 'unknown' : `${percent(analysis.noise.cv)} (${analysis.noise.df} degrees of freedom)`}`,
    `order: ${analysis.order.description}`,
    `growth stopped: ${grow.why}`,
    ...fitLines(analysis, grow.rules.minGain),
  );
  const recommended = analysis.recommended;
  const at = grow.samples.find((s) => s.n === recommended);
  const first = grow.trials.find(
    (trial): trial is MeasuredTrial =>
      trial.status === 'completed' && trial.knobs[knob] === recommended && isMeasured(trial),
  );
  if (at !== undefined && first !== undefined) {
    const check = littlesLawCheck({
      throughput: first.client.requests / (first.client.durationMs / 1000),
      meanLatencyMs: first.client.latency.mean,
      concurrency,
    });
    if (check !== undefined)
      saw.push(
        `Little's law at ${at.n}: ${check.verdict}, L = λW = ${check.expectedInFlight.toFixed(1)} against ${concurrency} clients. ${check.note}`,
      );
  }
  const uncertainty = analysis.uncertainty;
  return {
    step: 4,
    id: stepIds.grow,
    title: 'Grow the pool until returns diminish',
    pool: pool.name,
    tried: `${knob} from ${grow.rules.from}, times ${grow.rules.factor}, up to ${upTo(grow.rules)}, then bisection around the knee; sizes near the plateau repeated ${grow.rules.repetitions.base}–${grow.rules.repetitions.max} times in interleaved blocks; ${saturateText(grow)}`,
    saw,
    decided:
      recommended === null
        ? `no pool size could be chosen: ${plateauText(analysis)}`
        : `${knob} = ${recommended}${uncertainty === null ? '' : ` (${uncertainty.low}–${uncertainty.high}; another size in ${percent(uncertainty.otherShare, 0)} of ${uncertainty.resamples} resamples)`}; ${plateauText(analysis)}`,
    trials: grow.trials.map((trial) => trial.id),
  };
}

function upTo(rules: GrowOutcome['rules']): string {
  return rules.clients !== undefined && rules.clients < rules.limit
    ? `${rules.clients} (the concurrent clients; the limit is ${rules.limit})`
    : `${rules.limit}`;
}

function saturateText(grow: GrowOutcome): string {
  const scenario = grow.trials[0]?.scenario;
  return scenario === undefined ? 'closed model' : `closed model (${scenario})`;
}

function sizeLine(knob: string, size: SizeAnalysis['sizes'][number], stats: PointStats | undefined): string {
  const kept = size.runs.filter((run) => !run.outlier).length;
  const spread = size.cv === null ? 'one run' : `CV ${percent(size.cv)}, ±${percent(size.halfWidth ?? 0)}`;
  const verdict = size.best
    ? 'the best'
    : size.equivalence === null
      ? 'not tested'
      : `${size.equivalence.verdict} (${size.equivalence.low.toFixed(2)}–${size.equivalence.high.toFixed(2)} of the best)${size.equivalence.verdict === 'equivalent' && !size.onPlateau ? `, but its mean is ${size.equivalence.ratio.toFixed(2)} of the best's: off the plateau` : ''}`;
  const waiting = stats?.waitingMean === undefined ? '' : `, waiting ${stats.waitingMean.toFixed(1)}`;
  const cpu = stats?.targetCpuShare === undefined ? '' : `, target CPU ${percent(stats.targetCpuShare, 0)}`;
  return `${knob}=${size.n}: ${size.mean.toFixed(0)} req/s (${kept} runs, ${spread}), p99 ${stats?.p99.toFixed(1) ?? '?'} ms${waiting}${cpu}: ${verdict}`;
}

function fitLines(analysis: SizeAnalysis, minGain: number): string[] {
  const fit = analysis.fit;
  const lines: string[] = [];
  if (fit === null) lines.push('USL fit: too few sizes');
  else {
    const peak =
      fit.peakN === Number.POSITIVE_INFINITY || fit.peakN === null
        ? 'no peak (no coherency cost)'
        : `peak N* = ${fit.peakN.toFixed(1)}`;
    lines.push(
      `USL fit: λ ${fit.lambda.toFixed(1)} req/s per connection, σ ${fit.sigma.toFixed(4)}, κ ${fit.kappa.toFixed(5)}, ${peak}, R² ${fit.rSquared.toFixed(3)}` +
        (fit.quality === 'poor'
          ? ` (poor fit: ${fit.reason}; shown, not used)`
          : ' (shown; the plateau test decides)'),
    );
    lines.push(
      `knee by Kneedle on the fitted curve (log x): ${analysis.kneedle ?? 'none (no concave bend)'}`,
    );
  }
  lines.push(
    `knee by marginal gain (< ${(minGain * 100).toFixed(0)}% per doubling from then on): ${analysis.marginalKnee ?? 'none: still gaining'}`,
  );
  return lines;
}
