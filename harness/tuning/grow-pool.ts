import { seededRandom } from '../../scenarios/schedule.ts';
import { kneedle, marginalGainKnee } from '../analysis/knee.ts';
import { littlesLawCheck } from '../analysis/littles-law.ts';
import { type PointStats, pointStats } from '../analysis/point-stats.ts';
import { chooseSize, sizeInterval } from '../analysis/pool-size.ts';
import type { UslFit } from '../analysis/usl.ts';
import type { PoolDefinition } from '../config/schema.ts';
import type { KnobValues } from '../results/trial.ts';
import { defaultSearchRules, nextMove, type SearchRules, type SizePoint, type StopReason } from './search.ts';
import type { Point, Session } from './session.ts';
import { type StepReport, stepIds } from './step.ts';
import { saturateScenario } from './step-scenarios.ts';

/** A measured pool size with its repetitions, as step 4 leaves it for the analysis. */
export interface GrowPoint {
  readonly n: number;
  readonly phase: 'geometric' | 'refine';
  readonly point: Point;
  readonly stats: PointStats;
}

/** What step 4 found: every size it measured and the size it settled on. */
export interface GrowOutcome {
  readonly points: readonly GrowPoint[];
  readonly recommended: number | undefined;
  /** How the size was chosen (fitted curve or measured plateau). */
  readonly rule: string;
  /** 95% bootstrap interval of the choice over the repetitions. */
  readonly interval: { readonly low: number; readonly high: number } | undefined;
  /** The USL fit's parameters, for the report's curve. */
  readonly usl?: {
    readonly lambda: number;
    readonly sigma: number;
    readonly kappa: number;
    readonly rSquared: number;
    readonly quality: string;
  };
  readonly stoppedBy: StopReason;
  readonly why: string;
  readonly report: StepReport;
}

/**
 * The analysis shown with step 4: the USL fit (or why it is poor), the knee by Kneedle on the fitted
 * curve and by the marginal-gain rule, and Little's law at the recommended size. Pure.
 */
export function analysisLines(
  points: readonly GrowPoint[],
  fit: UslFit | undefined,
  minGain: number,
  concurrency: number,
  recommended: number | undefined,
): string[] {
  const lines: string[] = [];
  if (fit === undefined) lines.push('USL fit: too few sizes');
  else {
    const peak =
      fit.peakN === Number.POSITIVE_INFINITY
        ? 'no peak (no coherency cost)'
        : `peak N* = ${fit.peakN.toFixed(1)}${fit.peakExtrapolated ? ' (beyond the sizes measured)' : ''}`;
    lines.push(
      `USL fit: λ ${fit.lambda.toFixed(1)} req/s per connection, σ ${fit.sigma.toFixed(4)}, κ ${fit.kappa.toFixed(5)}, ${peak}, R² ${fit.rSquared.toFixed(3)}` +
        (fit.quality === 'poor' ? ` — poor fit: ${fit.reason}` : ''),
    );
    const sizes = points.map((p) => p.n);
    const curve = Array.from({ length: Math.max(...sizes) - Math.min(...sizes) + 1 }, (_, i) => {
      const x = Math.min(...sizes) + i;
      return { x, y: fit.predict(x) };
    });
    const knee = kneedle(curve, { logX: true });
    lines.push(
      `knee by Kneedle on the fitted curve (log x): ${knee === undefined ? 'none (no concave bend)' : knee.x}`,
    );
  }
  const marginal = marginalGainKnee(
    points.map((p) => ({ x: p.n, y: p.stats.throughput })),
    minGain,
  );
  lines.push(
    `knee by marginal gain (< ${(minGain * 100).toFixed(0)}% per doubling from then on): ${marginal.x ?? 'none: still gaining'}`,
  );
  const at = points.find((p) => p.n === recommended);
  const trial = at?.point.completed[0];
  if (at !== undefined && trial !== undefined) {
    const check = littlesLawCheck({
      throughput: trial.client.requests / (trial.client.durationMs / 1000),
      meanLatencyMs: trial.client.latency.mean,
      concurrency,
    });
    if (check !== undefined)
      lines.push(
        `Little's law at ${at.n}: ${check.verdict}, L = λW = ${check.expectedInFlight.toFixed(1)} against ${concurrency} clients. ${check.note}`,
      );
  }
  return lines;
}

/** Bounds the search whatever the rules say: geometric from 1 to 256 is 9 points, plus refinement. */
const maxPoints = 14;

/**
 * Step 4: grow the pool step by step until returns diminish or a limit is hit. Geometric growth
 * first, then bisection around the knee; each size is measured `repetitions` times under the closed
 * model at the configured concurrency.
 */
export async function growPool(
  session: Session,
  pool: PoolDefinition,
  knobs: KnobValues,
): Promise<GrowOutcome> {
  const { plan } = session;
  const scenario = saturateScenario(plan);
  const sizeKnob = pool.knobs.size;
  const rules: SearchRules = {
    from: plan.config.sweep.from,
    factor: plan.config.sweep.factor,
    limit: plan.sweep?.knob === sizeKnob ? plan.sweep.limit : (plan.target.knobs[sizeKnob]?.max ?? 256),
    minGain: plan.config.tuning.minGain,
    ...defaultSearchRules,
  };
  const points: GrowPoint[] = [];
  const sizes = (phase: GrowPoint['phase']): SizePoint[] =>
    points.filter((p) => p.phase === phase).sort((a, b) => a.n - b.n);

  let move = nextMove([], [], rules);
  while (move.kind === 'measure' && points.length < maxPoints && !session.aborted) {
    const point = await session.point({
      step: stepIds.grow,
      knobs: { ...knobs, [sizeKnob]: move.n },
      scenario,
    });
    const stats = pointStats(point.completed, move.n);
    if (stats === undefined) {
      session.log(`pool ${pool.name}: no completed trial at ${sizeKnob}=${move.n}; the search stops here`);
      break;
    }
    points.push({ n: move.n, phase: move.phase, point, stats });
    move = nextMove(sizes('geometric'), sizes('refine'), rules);
  }

  const repeatedOf = (list: readonly GrowPoint[]) =>
    list.map((p) => ({ n: p.n, throughputs: p.point.completed.map((t) => t.client.throughput) }));
  // The fitted curve may settle between measured sizes: measure that size too, so the recommendation
  // has trials of its own as evidence.
  const fitted = chooseSize(repeatedOf(points), rules.minGain);
  if (fitted !== undefined && !points.some((p) => p.n === fitted.n) && !session.aborted) {
    const point = await session.point({
      step: stepIds.grow,
      knobs: { ...knobs, [sizeKnob]: fitted.n },
      scenario,
    });
    const stats = pointStats(point.completed, fitted.n);
    if (stats !== undefined) points.push({ n: fitted.n, phase: 'refine', point, stats });
  }
  const measured = [...points].sort((a, b) => a.n - b.n);
  const repeated = repeatedOf(measured);
  const choice = chooseSize(repeated, rules.minGain);
  const recommended = choice?.n ?? (move.kind === 'done' ? move.recommended : undefined);
  const interval =
    choice === undefined ? undefined : sizeInterval(repeated, rules.minGain, seededRandom(plan.config.seed));
  const evidence = analysisLines(
    measured,
    choice?.fit,
    rules.minGain,
    plan.config.tuning.concurrency,
    recommended,
  );
  const stoppedBy: StopReason = move.kind === 'done' ? move.stoppedBy : 'no-data';
  const why = move.kind === 'done' ? move.why : session.aborted ? 'interrupted' : 'the search was cut short';
  const saw = measured.map(
    (p) =>
      `${sizeKnob}=${p.n}: ${p.stats.throughput.toFixed(0)} req/s, p99 ${p.stats.p99.toFixed(1)} ms, waiting ${p.stats.waitingMean === undefined ? 'not measured' : p.stats.waitingMean.toFixed(1)}` +
      `${p.stats.targetCpuShare === undefined ? '' : `, target CPU ${(p.stats.targetCpuShare * 100).toFixed(0)}%`} (${p.stats.repetitions} runs, ${p.phase})`,
  );
  return {
    points: measured,
    recommended,
    stoppedBy,
    why,
    rule: choice?.rule ?? why,
    interval,
    ...(choice?.fit === undefined
      ? {}
      : {
          usl: {
            lambda: choice.fit.lambda,
            sigma: choice.fit.sigma,
            kappa: choice.fit.kappa,
            rSquared: choice.fit.rSquared,
            quality: choice.fit.quality,
          },
        }),
    report: {
      step: 4,
      id: stepIds.grow,
      title: 'Grow the pool until returns diminish',
      pool: pool.name,
      tried: `${sizeKnob} from ${rules.from}, times ${rules.factor}, up to ${rules.limit}, then bisection around the knee; ${scenario.description}`,
      saw: [...saw, `growth stopped: ${why}`, ...evidence],
      decided:
        recommended === undefined
          ? 'no pool size could be chosen'
          : `${sizeKnob} = ${recommended}${interval === undefined ? '' : ` (95% CI ${interval.low}–${interval.high})`}: ${choice?.rule ?? why}`,
      trials: measured.flatMap((p) => p.point.trials.map((trial) => trial.id)),
    },
  };
}
