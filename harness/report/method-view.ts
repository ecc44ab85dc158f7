import type { TrialResult } from '../results/trial.ts';
import type { MethodOutcome } from '../tuning/outcome.ts';
import { type StepReport, stepIds } from '../tuning/step.ts';
import type { ChartData } from './chart-data.ts';
import { growNativeTable, type NativeTable, peakNativeTable } from './native-view.ts';

/** One pool's ready-to-paste configuration (the settings themselves are in the summary's diff). */
export interface RecommendationView {
  readonly pool: string;
  readonly library: string;
  readonly snippets: readonly { readonly label: string; readonly code: string }[];
}

/** One step of the method as the report shows it. */
export interface StepView {
  readonly number: number;
  readonly title: string;
  readonly pool: string;
  readonly tried: string;
  readonly saw: readonly string[];
  readonly decided: string;
  /** The step's trials, each linked to its row in the trial table. */
  readonly trialIds: readonly string[];
  /** The target's native pool figures over the step's trials (grow and peak steps), when it has any. */
  readonly native: NativeTable | null;
  /** Grow step of a database pool: the measured knee against the guide's "cores × 2". */
  readonly coresRule: string | null;
}

/** What the report adds to a step's evidence from the trials and charts themselves. */
export type StepAdditions = Pick<StepView, 'native' | 'coresRule'>;

const NO_ADDITIONS: StepAdditions = { native: null, coresRule: null };

/** The method's part of the report: the seven steps' evidence, then config to paste. */
export interface MethodView {
  readonly recommendations: readonly RecommendationView[];
  readonly steps: readonly StepView[];
}

/** The report view of a run's analysis; null for runs without one (`pooltune run`). Pure. */
export function buildMethodView(
  analysis: MethodOutcome | undefined,
  additions: (step: StepReport) => StepAdditions = () => NO_ADDITIONS,
): MethodView | null {
  if (analysis === undefined) return null;
  return {
    recommendations: analysis.recommendations.map((rec) => ({
      pool: rec.pool,
      library: rec.library,
      snippets: rec.snippets.map((snippet) => ({ label: snippet.label, code: snippet.code })),
    })),
    steps: analysis.steps.map((step) => ({
      number: step.step,
      title: step.title,
      pool: step.pool ?? '',
      tried: step.tried,
      saw: step.saw,
      decided: step.decided,
      trialIds: step.trials,
      ...additions(step),
    })),
  };
}

/**
 * The additions to each step: native pool figures by size (grow step) and at peak (peak step), and the
 * grow step's knee against "cores × 2" for a database pool. Pure.
 */
export function stepAdditions(
  charts: ChartData,
  trials: readonly TrialResult[],
): (step: StepReport) => StepAdditions {
  const byId = new Map(trials.map((trial) => [trial.id, trial]));
  return (step) => {
    const pool = step.id === stepIds.grow ? charts.poolSize.find((p) => p.pool === step.pool) : undefined;
    return {
      native: pool === undefined ? peakNativeTable(step, byId) : growNativeTable(pool, byId),
      coresRule: pool?.coresRule?.text ?? null,
    };
  };
}
