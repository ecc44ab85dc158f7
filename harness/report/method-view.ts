import type { MethodOutcome } from '../tuning/method.ts';

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
}

/** The method's part of the report: the seven steps' evidence, then config to paste. */
export interface MethodView {
  readonly recommendations: readonly RecommendationView[];
  readonly steps: readonly StepView[];
}

/** The report view of a run's analysis; null for runs without one (`pooltune run`). Pure. */
export function buildMethodView(analysis: MethodOutcome | undefined): MethodView | null {
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
    })),
  };
}
