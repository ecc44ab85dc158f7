import type { MethodOutcome } from '../tuning/method.ts';

/** One recommended knob as the report shows it. */
export interface KnobRow {
  readonly knob: string;
  readonly value: string;
  readonly interval: string;
  readonly rule: string;
  readonly evidence: string;
}

/** One pool's recommendation as the report shows it. */
export interface RecommendationView {
  readonly pool: string;
  readonly library: string;
  readonly rows: readonly KnobRow[];
  readonly expected: string;
  readonly peakVerdict: string;
  readonly peakOk: boolean;
  /** Fleet budget, SLO and headroom at peak, keep-alive findings: one line each. */
  readonly checks: readonly string[];
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
  readonly trials: string;
  /** The step's trials, each linked to its row in the trial table. */
  readonly trialIds: readonly string[];
}

/** The method's part of the report: what to ship, then the seven steps' evidence. */
export interface MethodView {
  readonly recommendations: readonly RecommendationView[];
  readonly steps: readonly StepView[];
}

/** Trial ids as a compact list: `t003–t018` for a run of consecutive ids, else comma-separated. */
export function trialList(ids: readonly string[]): string {
  if (ids.length === 0) return '—';
  const numbers = ids.map((id) => Number(id.slice(1)));
  const consecutive = numbers.every((n, i) => i === 0 || n === (numbers[i - 1] ?? 0) + 1);
  return consecutive && ids.length > 2 ? `${ids[0]}–${ids.at(-1)}` : ids.join(', ');
}

/** ` (95% CI 12.1–14.0)`, or nothing without an interval. */
function range(
  interval: { readonly low: number; readonly high: number } | undefined,
  digits: number,
): string {
  return interval === undefined
    ? ''
    : ` (95% CI ${interval.low.toFixed(digits)}–${interval.high.toFixed(digits)})`;
}

/** The report view of a run's analysis; null for runs without one (`pooltune run`). Pure. */
export function buildMethodView(analysis: MethodOutcome | undefined): MethodView | null {
  if (analysis === undefined) return null;
  return {
    recommendations: analysis.recommendations.map((rec) => ({
      pool: rec.pool,
      library: rec.library,
      rows: rec.knobs.map((knob) => ({
        knob: knob.knob,
        value: `${knob.value}${knob.unit === '' ? '' : ` ${knob.unit}`}`,
        interval: knob.interval === undefined ? '—' : `${knob.interval.low}–${knob.interval.high}`,
        rule: knob.rule,
        evidence: trialList(knob.evidence),
      })),
      expected:
        rec.expectedAtPeak === undefined
          ? 'not measured'
          : `${rec.expectedAtPeak.throughput.toFixed(0)} req/s${range(rec.expectedAtPeak.throughputInterval, 0)} at p99 ${rec.expectedAtPeak.p99Ms.toFixed(1)} ms${range(rec.expectedAtPeak.p99Interval, 1)}, error rate ${(rec.expectedAtPeak.errorRate * 100).toFixed(2)}%`,
      peakOk: rec.peakChecksPassed === true,
      peakVerdict: rec.peakChecksPassed === true ? 'holds at peak' : 'fails a check at peak (see step 6)',
      checks: rec.checks ?? [],
      snippets: rec.snippets.map((snippet) => ({ label: snippet.label, code: snippet.code })),
    })),
    steps: analysis.steps.map((step) => ({
      number: step.step,
      title: step.title,
      pool: step.pool ?? '',
      tried: step.tried,
      saw: step.saw,
      decided: step.decided,
      trials: trialList(step.trials),
      trialIds: step.trials,
    })),
  };
}
