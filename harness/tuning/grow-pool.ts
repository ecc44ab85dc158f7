import { type PointStats, pointStats } from '../analysis/point-stats.ts';
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
  readonly stoppedBy: StopReason;
  readonly why: string;
  readonly report: StepReport;
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

  const measured = [...points].sort((a, b) => a.n - b.n);
  const recommended = move.kind === 'done' ? move.recommended : undefined;
  const stoppedBy: StopReason = move.kind === 'done' ? move.stoppedBy : 'no-data';
  const why = move.kind === 'done' ? move.why : session.aborted ? 'interrupted' : 'the search was cut short';
  const saw = measured.map(
    (p) =>
      `${sizeKnob}=${p.n}: ${p.stats.throughput.toFixed(0)} req/s, p99 ${p.stats.p99.toFixed(1)} ms, waiting ${(p.stats.waitingMean ?? 0).toFixed(1)}` +
      `${p.stats.targetCpuShare === undefined ? '' : `, target CPU ${(p.stats.targetCpuShare * 100).toFixed(0)}%`} (${p.stats.repetitions} runs, ${p.phase})`,
  );
  return {
    points: measured,
    recommended,
    stoppedBy,
    why,
    report: {
      step: 4,
      id: stepIds.grow,
      title: 'Grow the pool until returns diminish',
      pool: pool.name,
      tried: `${sizeKnob} from ${rules.from}, times ${rules.factor}, up to ${rules.limit}, then bisection around the knee; ${scenario.description}`,
      saw: [...saw, `growth stopped: ${why}`],
      decided:
        recommended === undefined
          ? 'no pool size could be chosen'
          : `${sizeKnob} = ${recommended}: the smallest size within ${(rules.minGain * 100).toFixed(0)}% of the plateau's throughput`,
      trials: measured.flatMap((p) => p.point.trials.map((trial) => trial.id)),
    },
  };
}
