import {
  type CapacityRules,
  capacityOutcome,
  capacityResult,
  capacitySentence,
  defaultCapacityRules,
  GENERATOR_LIMITED_HINT,
  generatorLimited,
  judgeProbe,
  labelText,
  nextCapacityMove,
  rateText,
} from '../analysis/capacity-search.ts';
import { capacitySettings } from '../config/plan.ts';
import type { KnobValues, TrialResult } from '../results/trial.ts';
import type { CapacityOutcome, CapacityProbe, CapacityResult } from './outcome.ts';
import type { MethodSession } from './session.ts';
import { type StepReport, stepIds } from './step.ts';
import { capacityFor } from './step-scenarios.ts';

// Step 8: the highest open-model arrival rate a setting sustains under the SLO. The decisions are pure
// (harness/analysis/capacity-search.ts); this is the part that runs the probes.

/**
 * The rules of a run's capacity search: from the steady rate up to `tuning.capacity.maxRate`, or with
 * longer trials only from `hint`, a capacity found at similar settings.
 */
export function capacityRules(plan: MethodSession['plan'], hint?: number): CapacityRules {
  return {
    ...defaultCapacityRules,
    start: plan.config.tuning.steadyRate,
    maxRate: capacitySettings(plan.config).maxRate,
    slo: plan.config.tuning.slo,
    ...(hint === undefined ? {} : { hint }),
  };
}

/** About how many trials one setting's search takes, and a hinted one: for the progress count only. */
export const expectedCapacityTrials = 12;
export const expectedHintedTrials = 4;

/** Runs the capacity search at `knobs` until it stops; every probe is a trial of step 8. */
export async function findCapacity(
  session: MethodSession,
  knobs: KnobValues,
  label: CapacityResult['label'],
  noiseCv: number | null,
  laterTrials = 0,
  hint?: number,
): Promise<CapacityResult> {
  const rules = capacityRules(session.plan, hint);
  const expected = hint === undefined ? expectedCapacityTrials : expectedHintedTrials;
  const probes: CapacityProbe[] = [];
  for (;;) {
    const move = nextCapacityMove(probes, rules);
    if (move.kind === 'done') return capacityResult(label, knobs, probes, move, noiseCv);
    if (session.aborted) {
      return capacityResult(label, knobs, probes, { stoppedBy: 'aborted', why: 'interrupted' }, noiseCv);
    }
    session.expect(Math.max(1, expected - probes.length) + laterTrials);
    const probe = await runProbe(session, knobs, move, rules);
    if (probe === undefined) {
      return capacityResult(label, knobs, probes, { stoppedBy: 'aborted', why: 'interrupted' }, noiseCv);
    }
    probes.push(probe);
    session.log(
      `capacity (${label} settings): ${rateText(move.rate)}${move.validation ? ' held longer' : ''}: ${probe.verdict} (${probe.why})`,
    );
  }
}

/**
 * One probe: a trial at the move's rate, judged. A probe the generator limited is run once more (one
 * bad moment of the machine should not end the search); one that failed is not, a failure being what
 * the search looks for. Undefined when interrupted.
 */
async function runProbe(
  session: MethodSession,
  knobs: KnobValues,
  move: { readonly rate: number; readonly validation: boolean },
  rules: CapacityRules,
): Promise<CapacityProbe | undefined> {
  const trials: TrialResult[] = [];
  for (let attempt = 1; attempt <= 2; attempt++) {
    const point = await session.point({
      step: stepIds.capacity,
      knobs,
      scenario: capacityFor(session.plan, move.rate, move.validation),
      repetitions: 1,
      rerunInvalid: false,
    });
    trials.push(...point.trials);
    const judged = trials.at(-1);
    if (judged === undefined || judged.status === 'aborted') return undefined;
    const probe = judgeProbe(
      judged,
      move.rate,
      move.validation,
      rules.slo,
      trials.map((t) => t.id),
    );
    if (probe.verdict !== 'invalid' || attempt === 2 || session.aborted) return probe;
  }
  return undefined;
}

/** Step 8's evidence (pure). */
export function capacityReport(outcome: CapacityOutcome, rules: CapacityRules): StepReport {
  return {
    step: 8,
    id: stepIds.capacity,
    title: 'Find the capacity under the SLO',
    tried: `open-model probes from ${rateText(rules.start)}, ×${rules.factor} until one fails, then bisection until the bracket is within ${rules.resolution * 100}%, then a longer trial at the answer; at ${outcome.results.map((r) => labelText[r.label]).join(' and ')}${outcome.results.length > 1 ? `; the second with longer trials only, from the first one's capacity (±${4 * rules.resolution * 100}%, twice as far each step, then bisection)` : ''}`,
    saw: outcome.results.flatMap((result) =>
      result.probes.map(
        (p) =>
          `${result.label}: ${rateText(p.rate)}${p.validation ? ' (held longer)' : ''}: ${p.verdict}: ${p.why} (${p.trial})`,
      ),
    ),
    decided: `${capacitySentence(outcome)}${generatorLimited(outcome) ? `. ${GENERATOR_LIMITED_HINT}` : ''}`,
    trials: outcome.results.flatMap((r) => r.probes.flatMap((p) => p.trials)),
  };
}

/**
 * Step 8 in the method: the capacity at the recommended settings and, when they differ, at the
 * starting ones. The recommended ones go first: the service already runs with them.
 */
export async function capacityStep(
  session: MethodSession,
  recommended: KnobValues,
  starting: KnobValues,
  noiseCv: number | null,
): Promise<{ outcome: CapacityOutcome; report: StepReport }> {
  const rules = capacityRules(session.plan);
  const same = JSON.stringify(sorted(recommended)) === JSON.stringify(sorted(starting));
  const first = await findCapacity(
    session,
    recommended,
    'recommended',
    noiseCv,
    same ? 0 : expectedHintedTrials,
  );
  const results = [first];
  // The starting settings differ in a knob or two: their capacity is near, so the search starts there.
  const hint = first.stoppedBy === 'converged' && first.capacity !== null ? first.capacity : undefined;
  if (!same && !session.aborted) {
    results.push(await findCapacity(session, starting, 'starting', noiseCv, 0, hint));
  }
  const outcome = capacityOutcome(rules, noiseCv, results);
  return { outcome, report: capacityReport(outcome, rules) };
}

function sorted(knobs: KnobValues): [string, unknown][] {
  return Object.entries(knobs).sort(([a], [b]) => a.localeCompare(b));
}
