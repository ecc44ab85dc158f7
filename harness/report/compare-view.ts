import {
  type ComparableRun,
  type ComparableRunPoint,
  distributionQuantile,
  latencyDistribution,
  type PointComparison,
  type RelativeChange,
  type RunComparison,
} from '../analysis/compare.ts';
import { median } from '../analysis/statistics.ts';
import { stepIds } from '../tuning/step.ts';

/** One row of the comparison table, every value formatted for the page. */
export interface ComparisonRowView {
  readonly key: string;
  readonly step: string;
  readonly scenario: string;
  /** The knobs that tell this point from the others, e.g. `max=8`. */
  readonly knobs: string;
  readonly baselineP99: string;
  readonly currentP99: string;
  readonly p99Change: string;
  readonly p99Interval: string;
  readonly mwuP: string;
  readonly effect: string;
  readonly effectSize: string;
  readonly baselineThroughput: string;
  readonly currentThroughput: string;
  readonly throughputChange: string;
  readonly throughputInterval: string;
  readonly verdict: PointComparison['verdict'];
  readonly verdictClass: 'fail' | 'pass' | 'not-checked';
  readonly reasons: string;
}

/** One run's figures at one pool size, for the overlaid curves. */
export interface CurvePoint {
  /** The pool size. */
  readonly n: number;
  /** The run's legend name (one of {@link ComparisonCurves.series}). */
  readonly series: string;
  /** Median over repetitions. */
  readonly throughput: number;
  /** p99 of all repetitions' requests merged. */
  readonly p99Ms: number | undefined;
  readonly throughputs: readonly number[];
  readonly trialP99Ms: readonly number[];
}

/** Both runs' grow-pool curves: what the comparison's charts draw. */
export interface ComparisonCurves {
  /** The pool-size knob, the x axis. */
  readonly knob: string;
  /** Legend names, baseline first, told apart even when a run is compared with itself. */
  readonly series: { readonly baseline: string; readonly current: string };
  /** The sizes either run measured, ascending. */
  readonly ticks: readonly number[];
  /** log2 when the sizes are positive and span a factor of 4 or more. */
  readonly scale: 'log2' | 'linear';
  readonly points: readonly CurvePoint[];
}

/** Everything the comparison page shows, formatted (pure data: the template only places it). */
export interface ComparisonView {
  readonly title: string;
  readonly baseline: { readonly runId: string; readonly label: string };
  readonly current: { readonly runId: string; readonly label: string };
  readonly regressed: boolean;
  readonly verdictClass: 'fail' | 'pass';
  readonly verdictLabel: string;
  readonly headline: string;
  readonly counts: string;
  readonly thresholds: string;
  readonly rule: string;
  readonly rows: readonly ComparisonRowView[];
  readonly baselineOnly: readonly string[];
  readonly currentOnly: readonly string[];
  /** null when neither run has grow-pool points with a known pool-size knob. */
  readonly curves: ComparisonCurves | null;
  /** Why there are no charts, or empty. */
  readonly chartsNote: string;
}

const pct = (value: number, digits = 1) =>
  `${value > 0 ? '+' : value < 0 ? '−' : '±'}${Math.abs(value * 100).toFixed(digits)}%`;

/** A relative change with its interval, e.g. `+50.0% [+41.2%, +58.9%]`. */
export function formatChange(change: RelativeChange | undefined): { change: string; interval: string } {
  if (change === undefined) return { change: '–', interval: '' };
  const interval =
    change.low === undefined || change.high === undefined ? '' : `[${pct(change.low)}, ${pct(change.high)}]`;
  return { change: pct(change.estimate), interval };
}

/** A p-value for people: three decimals, or `< 0.001`. */
export function formatP(p: number): string {
  return p < 0.001 ? '< 0.001' : p.toFixed(3);
}

/** Cliff's delta in words (Romano et al., 2006: 0.147, 0.33, 0.474). */
export function effectMagnitude(delta: number): string {
  const size = Math.abs(delta);
  if (size < 0.147) return 'negligible';
  if (size < 0.33) return 'small';
  if (size < 0.474) return 'medium';
  return 'large';
}

/** Milliseconds to three significant digits. */
const ms = (value: number | undefined) => (value === undefined ? '–' : `${Number(value.toPrecision(3))}`);
const rate = (value: number) => `${Math.round(value)}`;

/**
 * A short label per point: the knobs that set it apart, i.e. those that vary within its step (the
 * grow-pool step's pool size) or differ from their most common value over all points (all of them when
 * none does); the full key stays in the JSON and the page's tooltips.
 */
export function knobLabels(
  points: readonly Pick<PointComparison, 'key' | 'step' | 'knobs'>[],
): Map<string, string> {
  const tallies = new Map<string, Map<string, number>>();
  const stepValues = new Map<string, Map<string, Set<string>>>();
  for (const point of points) {
    const values = stepValues.get(point.step) ?? new Map<string, Set<string>>();
    stepValues.set(point.step, values);
    for (const [name, value] of Object.entries(point.knobs)) {
      const tally = tallies.get(name) ?? new Map<string, number>();
      tallies.set(name, tally);
      tally.set(String(value), (tally.get(String(value)) ?? 0) + 1);
      values.set(name, (values.get(name) ?? new Set<string>()).add(String(value)));
    }
  }
  const mode = (name: string) =>
    [...(tallies.get(name) ?? new Map<string, number>())].reduce<[string, number] | undefined>(
      (best, entry) => (best === undefined || entry[1] > best[1] ? entry : best),
      undefined,
    )?.[0];
  const labels = new Map<string, string>();
  for (const point of points) {
    const varying = stepValues.get(point.step);
    const all = Object.keys(point.knobs).sort();
    const apart = all.filter(
      (name) => String(point.knobs[name]) !== mode(name) || (varying?.get(name)?.size ?? 0) > 1,
    );
    // A point like every other (a single point, say) is shown with all its knobs.
    const names = apart.length === 0 ? all : apart;
    labels.set(point.key, names.map((name) => `${name}=${String(point.knobs[name])}`).join(' '));
  }
  return labels;
}

/**
 * The comparison page's view model (pure): the verdict, a row per compared point, and both runs'
 * curves from every grow-pool point of each run (compared or not: the bisection may have chosen other
 * sizes).
 */
export function buildComparisonView(
  comparison: RunComparison,
  baseline: ComparableRun,
  current: ComparableRun,
): ComparisonView {
  const labels = knobLabels(comparison.points);
  const count = (verdict: PointComparison['verdict']) =>
    comparison.points.filter((point) => point.verdict === verdict).length;
  const unmatched = comparison.unmatched.baselineOnly.length + comparison.unmatched.currentOnly.length;
  const compared = comparison.points.length;
  const regressed = count('regressed');
  const { p99, throughput } = comparison.thresholds;
  const level = `${Math.round(comparison.confidence * 100)}%`;
  const curves = comparisonCurves(comparison, baseline, current);
  return {
    title: `Comparison: ${comparison.current.label} against ${comparison.baseline.label}`,
    baseline: comparison.baseline,
    current: comparison.current,
    regressed: comparison.regressed,
    verdictClass: comparison.regressed ? 'fail' : 'pass',
    verdictLabel: comparison.regressed ? 'regression' : 'no regression',
    headline: comparison.regressed
      ? `${regressed} of ${compared} points are worse than the baseline beyond the thresholds.`
      : `None of the ${compared} points is worse than the baseline beyond the thresholds.`,
    counts: `${compared} points compared: ${regressed} regressed, ${count('improved')} improved, ${count('unchanged')} unchanged; ${unmatched} measured in only one run (not compared).`,
    thresholds: `p99 ${pct(p99, 0)}, throughput ${pct(-throughput, 0)}`,
    rule:
      `A point regresses when its p99 (all repetitions' requests merged) rose by more than ${pct(p99, 0).slice(1)} ` +
      `and the ${level} bootstrap interval of the rise lies above 0, or when its median throughput fell by ` +
      `more than ${pct(throughput, 0).slice(1)} and the ${level} bootstrap interval over repetitions lies ` +
      'below 0 (with a single repetition: every current repetition below every baseline one). The ' +
      'Mann–Whitney p-value and Cliff’s delta (positive: the current run is slower) describe the whole ' +
      'latency distribution; they are shown, not used in the verdict.',
    rows: comparison.points.map((point) => rowView(point, labels.get(point.key) ?? '')),
    baselineOnly: comparison.unmatched.baselineOnly,
    currentOnly: comparison.unmatched.currentOnly,
    curves,
    chartsNote:
      curves === null ? 'No curves: neither run has grow-pool points with a known pool-size knob.' : '',
  };
}

function rowView(point: PointComparison, knobs: string): ComparisonRowView {
  const p99Change = formatChange(point.p99Change);
  const throughputChange = formatChange(point.throughputChange);
  return {
    key: point.key,
    step: point.step,
    scenario: point.scenario,
    knobs,
    baselineP99: ms(point.baseline.p99Ms),
    currentP99: ms(point.current.p99Ms),
    p99Change: p99Change.change,
    p99Interval: p99Change.interval,
    mwuP: point.latencyTest === undefined ? '–' : formatP(point.latencyTest.p),
    effect: point.latencyTest === undefined ? '–' : point.latencyTest.effect.toFixed(2),
    effectSize: point.latencyTest === undefined ? '' : effectMagnitude(point.latencyTest.effect),
    baselineThroughput: rate(point.baseline.throughput),
    currentThroughput: rate(point.current.throughput),
    throughputChange: throughputChange.change,
    throughputInterval:
      point.throughputChange?.method === 'dominance'
        ? '(one repetition: no interval)'
        : throughputChange.interval,
    verdict: point.verdict,
    verdictClass:
      point.verdict === 'regressed' ? 'fail' : point.verdict === 'improved' ? 'pass' : 'not-checked',
    reasons: point.reasons.join('; '),
  };
}

/** Both runs' curves against pool size; null when neither has such points or the pool-size knob is unknown. */
function comparisonCurves(
  comparison: RunComparison,
  baseline: ComparableRun,
  current: ComparableRun,
): ComparisonCurves | null {
  const knob = comparison.poolSizeKnob ?? inferredSizeKnob([...baseline.points, ...current.points]);
  if (knob === undefined) return null;
  const series = {
    baseline: `baseline ${comparison.baseline.label}`,
    current: `current ${comparison.current.label}`,
  };
  const points = [
    ...curvePoints(baseline, knob, series.baseline),
    ...curvePoints(current, knob, series.current),
  ];
  if (points.length === 0) return null;
  const ticks = [...new Set(points.map((point) => point.n))].sort((a, b) => a - b);
  const min = ticks[0] ?? 1;
  const max = ticks[ticks.length - 1] ?? 1;
  return { knob, series, ticks, scale: min > 0 && max / min >= 4 ? 'log2' : 'linear', points };
}

/** The run's grow-pool points (else, for older runs, every point with a numeric size) as curve points. */
function curvePoints(run: ComparableRun, knob: string, series: string): CurvePoint[] {
  const sized = run.points.filter((point) => typeof point.knobs[knob] === 'number');
  const grow = sized.filter((point) => point.step === stepIds.grow);
  const chosen =
    grow.length > 0 ? grow : new Set(sized.map((point) => point.scenario)).size === 1 ? sized : [];
  return chosen
    .map((point) => {
      const p99 = distributionQuantile(latencyDistribution(point.histogram), 0.99);
      return {
        n: point.knobs[knob] as number,
        series,
        throughput: median(point.throughputs) ?? 0,
        p99Ms: p99 === undefined ? undefined : p99 / 1000,
        throughputs: point.throughputs,
        trialP99Ms: point.p99Ms,
      };
    })
    .sort((a, b) => a.n - b.n);
}

/** The one knob whose value varies among the grow-pool points, when exactly one does. */
function inferredSizeKnob(points: readonly ComparableRunPoint[]): string | undefined {
  const grow = points.filter((point) => point.step === stepIds.grow);
  const varying = new Set<string>();
  for (const point of grow) {
    for (const [name, value] of Object.entries(point.knobs)) {
      if (typeof value === 'number' && grow[0]?.knobs[name] !== value) varying.add(name);
    }
  }
  return varying.size === 1 ? [...varying][0] : undefined;
}
