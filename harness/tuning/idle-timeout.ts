import { type PointStats, pointStats } from '../analysis/point-stats.ts';
import { acceptableChurn, churnTolerance, gapMultiple } from '../analysis/thresholds.ts';
import type { KnobDefinition, PoolDefinition } from '../config/schema.ts';
import type { KnobValues } from '../results/trial.ts';
import type { MethodSession } from './session.ts';
import { type StepReport, stepIds } from './step.ts';
import { idleGapsFor } from './step-scenarios.ts';

/** One idle timeout tried, with what it cost in new connections. */
export interface IdleCandidate {
  readonly timeoutMs: number;
  readonly stats: PointStats | undefined;
  readonly trials: readonly string[];
}

/** A duration in ms expressed in a knob's unit (`s` or `ms`). */
export function inKnobUnit(
  ms: number,
  knob: (Pick<KnobDefinition, 'unit'> & Partial<Pick<KnobDefinition, 'min' | 'max'>>) | undefined,
): number {
  // Seconds round up: 250 ms must not become 0, which many systems read as "never" or "off".
  const value = knob?.unit === 's' ? Math.ceil(ms / 1000) : Math.round(ms);
  return Math.min(
    knob?.max ?? Number.POSITIVE_INFINITY,
    Math.max(knob?.min ?? Number.NEGATIVE_INFINITY, value),
  );
}

/** A knob value in ms from its unit. */
export function knobMs(value: unknown, knob: Pick<KnobDefinition, 'unit'> | undefined): number | undefined {
  if (typeof value !== 'number') return undefined;
  return knob?.unit === 's' ? value * 1000 : value;
}

/** True when a candidate's churn stays within `churnTolerance` of the never-close reference's. */
export function acceptable(reference: PointStats | undefined, candidate: IdleCandidate): boolean {
  const referenceChurn = reference?.churnPerSec;
  const churn = candidate.stats?.churnPerSec;
  return referenceChurn !== undefined && churn !== undefined && churn <= acceptableChurn(referenceChurn);
}

/**
 * The idle-timeout rule (pure): the smallest timeout whose churn stays within `churnTolerance` of the
 * never-close reference, and never below `gapMultiple` times the typical per-connection gap.
 */
export function chooseIdleTimeout(
  reference: PointStats | undefined,
  candidates: readonly IdleCandidate[],
  typicalGapMs: number,
): { timeoutMs: number | undefined; rule: string } {
  const floor = Math.ceil(gapMultiple * typicalGapMs);
  const referenceChurn = reference?.churnPerSec;
  if (referenceChurn === undefined)
    return {
      timeoutMs: undefined,
      rule: 'no churn measured: the target exposes no connections-opened counter',
    };
  const first = [...candidates]
    .sort((a, b) => a.timeoutMs - b.timeoutMs)
    .find((c) => acceptable(reference, c));
  const chosen = Math.max(first?.timeoutMs ?? Math.max(...candidates.map((c) => c.timeoutMs)), floor);
  return {
    timeoutMs: chosen,
    rule: `smallest timeout with churn within ${(churnTolerance * 100).toFixed(0)}% of never closing (${referenceChurn.toFixed(2)}/s), and at least ${gapMultiple} x the typical gap (${typicalGapMs.toFixed(0)} ms)`,
  };
}

/**
 * Step 5: set the idle timeout from the request gaps. Under traffic with quiet periods, sweep the
 * idle timeout against connection churn (connections opened per second) and latency.
 */
export async function idleTimeout(
  session: MethodSession,
  pool: PoolDefinition,
  knobs: KnobValues,
): Promise<{ timeoutMs: number | undefined; candidates: IdleCandidate[]; report: StepReport }> {
  const knobName = pool.knobs.idleTimeout;
  const base = {
    step: 5,
    id: stepIds.idle,
    title: 'Set the idle timeout from the request gaps',
    pool: pool.name,
  };
  if (knobName === undefined) {
    return {
      timeoutMs: undefined,
      candidates: [],
      report: {
        ...base,
        tried: 'nothing',
        saw: ['the pool has no idle-timeout knob'],
        decided: 'not applicable',
        trials: [],
      },
    };
  }
  const knob = session.plan.target.knobs[knobName];
  const scenario = idleGapsFor(session.plan);
  const gapMs = scenario.arrival.idleMs;
  // Churn is a count of connections opened, steady from run to run: one trial per timeout tells it.
  const repetitions = 1;
  const never = knob?.min === 0 ? 0 : (knob?.max ?? 3_600_000);
  const measure = async (timeoutMs: number): Promise<IdleCandidate> => {
    const point = await session.point({
      step: stepIds.idle,
      knobs: { ...knobs, [knobName]: timeoutMs === 0 ? never : inKnobUnit(timeoutMs, knob) },
      scenario,
      repetitions,
    });
    return { timeoutMs, stats: pointStats(point.completed), trials: point.trials.map((t) => t.id) };
  };
  const shortestMs = knobMs(knob?.min, knob) ?? 0;
  if (shortestMs > 3 * gapMs) {
    return {
      timeoutMs: undefined,
      candidates: [],
      report: {
        ...base,
        tried: 'nothing',
        saw: [
          `${knobName} cannot go below ${knob?.min}${knob?.unit ?? ''}, longer than the quiet periods (${gapMs} ms) a trial holds`,
        ],
        decided: 'not measurable within the trial length: keep the configured value',
        trials: [],
      },
    };
  }
  const reference = await measure(0);
  const candidates: IdleCandidate[] = [];
  const connections = reference.stats?.poolTotalMax ?? 1;
  const typicalGapMs = (1000 * connections) / session.plan.config.tuning.steadyRate;
  // Each candidate as the knob can hold it (its unit and range), each measured once, shortest first.
  // The rule takes the shortest acceptable one, so the search stops at the first: a longer timeout
  // could not be chosen over it. `--quick` skips 3x the gap: like 1.5x it outlasts every quiet period.
  const factors = session.plan.config.quick ? [0.5, 1.5] : [0.5, 1.5, 3];
  const timeouts = factors.map((factor) => knobMs(inKnobUnit(gapMs * factor, knob), knob) ?? 0);
  for (const timeoutMs of [...new Set(timeouts)]) {
    if (session.aborted) break;
    const candidate = await measure(timeoutMs);
    candidates.push(candidate);
    if (acceptable(reference.stats, candidate)) break;
  }
  const skipped = [...new Set(timeouts)].filter((ms) => !candidates.some((c) => c.timeoutMs === ms));
  const choice = chooseIdleTimeout(reference.stats, candidates, typicalGapMs);
  const churn = (c: IdleCandidate) =>
    `${c.timeoutMs === 0 ? 'never' : `${c.timeoutMs} ms`}: ${(c.stats?.churnPerSec ?? Number.NaN).toFixed(2)} new connections/s, p99 ${(c.stats?.p99 ?? Number.NaN).toFixed(1)} ms`;
  return {
    timeoutMs: choice.timeoutMs,
    candidates,
    report: {
      ...base,
      tried: `${knobName} at never, ${candidates.map((c) => `${c.timeoutMs} ms`).join(', ')}; ${scenario.description}`,
      saw: [
        `quiet periods of ${gapMs} ms; typical per-connection gap ${typicalGapMs.toFixed(0)} ms`,
        churn(reference),
        ...candidates.map(churn),
        ...(skipped.length === 0
          ? []
          : [
              `not measured: ${skipped.map((ms) => `${ms} ms`).join(', ')} (the rule takes the shortest acceptable timeout)`,
            ]),
      ],
      decided:
        choice.timeoutMs === undefined
          ? choice.rule
          : `${knobName} = ${inKnobUnit(choice.timeoutMs, knob)}${knob?.unit ?? ''}: ${choice.rule}`,
      trials: [...reference.trials, ...candidates.flatMap((c) => c.trials)],
    },
  };
}
