import { readFileSync } from 'node:fs';
import path from 'node:path';
import Handlebars from 'handlebars';
import type { TopLevelSpec } from 'vega-lite';
import {
  type ComparableRun,
  type ComparableRunPoint,
  type CompareOptions,
  compareRuns,
  distributionQuantile,
  latencyDistribution,
  type PointComparison,
  type RelativeChange,
  type RunComparison,
} from '../analysis/compare.ts';
import { median } from '../analysis/statistics.ts';
import { usageError } from '../errors.ts';
import { writeAtomically } from '../results/run-dir.ts';
import { stepIds } from '../tuning/step.ts';
import { logTicks } from './charts.ts';
import { type LoadedRun, loadComparableRun } from './comparable-run.ts';
import { TEMPLATES_DIR } from './html.ts';
import type { RegressionSummary } from './summary-schema.ts';
import { renderSvg } from './vega.ts';

/** A comparison chart, rendered. */
export interface ComparisonChart {
  readonly id: string;
  readonly title: string;
  readonly caption: string;
  /** Produced by vega from our own numbers; vega escapes the text it writes. */
  readonly svg: string;
}

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
  readonly chartsNote: string;
}

/** What {@link compareRunPaths} produced. */
export interface ComparisonOutcome {
  readonly comparison: RunComparison;
  readonly baseline: LoadedRun;
  readonly current: LoadedRun;
  /** The comparison report written. */
  readonly report: string;
  /** For the current run's `summary.json` (`writeRunOutputs(dir, { regression })`). */
  readonly regression: RegressionSummary;
}

/** Options for {@link compareRunPaths}: the comparison's, plus where to write the report. */
export interface CompareRunPathsOptions extends CompareOptions {
  /** The report file; default `comparison.html` in the current run directory (or beside its summary.json). */
  readonly out?: string;
}

/**
 * Loads two runs (run directories or `summary.json` files), compares them and writes the comparison
 * report. What `pooltune compare` and `tune --baseline` call; a path that is not a run is a usage error,
 * and so is a pair of runs without a single point in common. A baseline already loaded (say, checked
 * with {@link loadComparableRun} before a tune starts) can be passed instead of its path.
 */
export async function compareRunPaths(
  baselinePath: string | LoadedRun,
  currentPath: string | LoadedRun,
  options: CompareRunPathsOptions = {},
): Promise<ComparisonOutcome> {
  const load = (run: string | LoadedRun) => (typeof run === 'string' ? loadComparableRun(run) : run);
  const baseline = await load(baselinePath);
  const current = await load(currentPath);
  const { out, ...compareOptions } = options;
  const comparison = compareRuns(baseline, current, compareOptions);
  if (comparison.points.length === 0) {
    throw usageError(
      `nothing to compare: no point of ${current.path} (${current.points.length} points) was measured in ${baseline.path} (${baseline.points.length} points)`,
      'compare runs of the same target and scenarios; points match on scenario and every knob value',
    );
  }
  const report = await writeComparisonReport(comparison, baseline, current, out ?? current.comparisonPath);
  return { comparison, baseline, current, report, regression: regressionSummary(comparison) };
}

/** The comparison as `summary.json` records it. */
export function regressionSummary(comparison: RunComparison): RegressionSummary {
  return {
    baseline: comparison.baseline.runId,
    regressed: comparison.regressed,
    compared: comparison.points.length,
    regressions: [...comparison.regressions],
  };
}

/** Renders the comparison page and writes it whole or not at all; resolves to its path. */
export async function writeComparisonReport(
  comparison: RunComparison,
  baseline: ComparableRun,
  current: ComparableRun,
  file: string,
): Promise<string> {
  const charts: ComparisonChart[] = [];
  for (const chart of comparisonChartSpecs(comparison, baseline, current)) {
    const { svg } = await renderSvg(chart.spec);
    charts.push({ id: chart.id, title: chart.title, caption: chart.caption, svg });
  }
  const html = renderComparisonHtml(buildComparisonView(comparison), charts);
  const target = path.resolve(file);
  try {
    await writeAtomically(target, html);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw usageError(`cannot write the comparison report ${target} (${code})`, 'choose another --out file');
  }
  return target;
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

/** The page's view model (pure). */
export function buildComparisonView(comparison: RunComparison): ComparisonView {
  const labels = knobLabels(comparison.points);
  const count = (verdict: PointComparison['verdict']) =>
    comparison.points.filter((point) => point.verdict === verdict).length;
  const unmatched = comparison.unmatched.baselineOnly.length + comparison.unmatched.currentOnly.length;
  const compared = comparison.points.length;
  const regressed = count('regressed');
  const { p99, throughput } = comparison.thresholds;
  const level = `${Math.round(comparison.confidence * 100)}%`;
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
    rows: comparison.points.map((point) => {
      const p99Change = formatChange(point.p99Change);
      const throughputChange = formatChange(point.throughputChange);
      return {
        key: point.key,
        step: point.step,
        scenario: point.scenario,
        knobs: labels.get(point.key) ?? '',
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
    }),
    baselineOnly: comparison.unmatched.baselineOnly,
    currentOnly: comparison.unmatched.currentOnly,
    chartsNote: '',
  };
}

// Vega-Lite exports only TopLevelSpec; the parts we build are picked out of it.
type LayeredSpec = Extract<TopLevelSpec, { layer: unknown }>;
type Layer = Extract<LayeredSpec['layer'][number], { mark: unknown }>;
type Encoding = NonNullable<Layer['encoding']>;

/** A Vega-Lite chart of the comparison, before rendering. */
export interface ComparisonChartSpec {
  readonly id: string;
  readonly title: string;
  readonly caption: string;
  readonly spec: TopLevelSpec;
}

/** One run's figures at one pool size, for the overlaid curves. */
interface CurvePoint {
  readonly size: number;
  readonly run: string;
  readonly throughput: number;
  readonly p99Ms: number | undefined;
  readonly throughputs: readonly number[];
  readonly trialP99Ms: readonly number[];
}

const COLOURS = { baseline: '#718096', current: '#c05621' } as const;

/**
 * Both runs' curves on the same charts: throughput and p99 against pool size, over the points of the
 * grow-pool step (every such point of each run, compared or not: the bisection may have chosen other
 * sizes). Empty when neither run has such points or the pool-size knob is unknown.
 */
export function comparisonChartSpecs(
  comparison: RunComparison,
  baseline: ComparableRun,
  current: ComparableRun,
): ComparisonChartSpec[] {
  const knob = comparison.poolSizeKnob ?? inferredSizeKnob([...baseline.points, ...current.points]);
  if (knob === undefined) return [];
  const names = seriesNames(comparison);
  const curve = [
    ...curvePoints(baseline, knob, names.baseline),
    ...curvePoints(current, knob, names.current),
  ];
  if (curve.length === 0) return [];
  const sizes = [...new Set(curve.map((point) => point.size))].sort((a, b) => a - b);
  const min = sizes[0] ?? 1;
  const max = sizes[sizes.length - 1] ?? 1;
  const log = min > 0 && max / min >= 4;
  const x: NonNullable<Encoding['x']> = {
    field: 'size',
    type: 'quantitative',
    title: log ? `${knob} (log2 scale)` : knob,
    scale: log
      ? { type: 'log', base: 2, domain: [min, max], padding: 14 }
      : { domain: [min, max], padding: 14 },
    axis: { values: sizes, format: '~g', grid: true },
  };
  const legend = { title: null, orient: 'bottom', direction: 'horizontal' } as const;
  const domain = [names.baseline, names.current];
  const colour: Encoding = {
    color: {
      field: 'run',
      type: 'nominal',
      scale: { domain, range: [COLOURS.baseline, COLOURS.current] },
      legend,
    },
    shape: { field: 'run', type: 'nominal', scale: { domain, range: ['square', 'circle'] }, legend },
    strokeDash: {
      field: 'run',
      type: 'nominal',
      scale: {
        domain,
        range: [
          [5, 3],
          [1, 0],
        ],
      },
      legend,
    },
  };
  const lines = (field: 'throughput' | 'p99Ms') =>
    curve
      .filter((point) => point[field] !== undefined)
      .map((point) => ({ size: point.size, run: point.run, value: point[field] }));
  const repetitions = (field: 'throughputs' | 'trialP99Ms') =>
    curve.flatMap((point) => point[field].map((value) => ({ size: point.size, run: point.run, value })));
  const layered = (yTitle: string, y: Partial<NonNullable<Encoding['y']>>, line: object[], dots: object[]) =>
    ({
      width: 520,
      height: 240,
      config: chartConfig,
      layer: [
        {
          data: { values: dots },
          mark: { type: 'point', size: 18, opacity: 0.45, filled: false },
          encoding: {
            x,
            y: { field: 'value', type: 'quantitative', title: yTitle, ...y },
            color: colour.color,
          },
        },
        {
          data: { values: line },
          mark: { type: 'line', point: { filled: true, size: 45 } },
          encoding: { x, y: { field: 'value', type: 'quantitative', title: yTitle, ...y }, ...colour },
        },
      ],
    }) as TopLevelSpec;
  const p99Values = [...lines('p99Ms'), ...repetitions('trialP99Ms')].map((point) => point.value as number);
  return [
    {
      id: 'compare-throughput',
      title: `Throughput against ${knob}`,
      caption:
        'Lines: median over repetitions; open circles: each repetition. A drop of the current line is lost capacity.',
      spec: {
        description: `Throughput of both runs against ${knob}`,
        ...(layered('throughput (req/s)', {}, lines('throughput'), repetitions('throughputs')) as object),
      } as TopLevelSpec,
    },
    {
      id: 'compare-p99',
      title: `p99 latency against ${knob}`,
      caption:
        'Lines: p99 of all repetitions’ requests merged; open circles: each repetition’s p99. Higher is worse.',
      spec: {
        description: `p99 latency of both runs against ${knob}`,
        ...(layered(
          'p99 (ms, log scale)',
          { scale: { type: 'log', nice: false, padding: 12 }, axis: { values: logTicks(p99Values) } },
          lines('p99Ms'),
          repetitions('trialP99Ms'),
        ) as object),
      } as TopLevelSpec,
    },
  ];
}

/** Legend names, told apart even when a run is compared with itself. */
function seriesNames(comparison: RunComparison): { baseline: string; current: string } {
  return {
    baseline: `baseline ${comparison.baseline.label}`,
    current: `current ${comparison.current.label}`,
  };
}

/** The run's grow-pool points (else, for older runs, every point with a numeric size) as curve points. */
function curvePoints(run: ComparableRun, knob: string, name: string): CurvePoint[] {
  const sized = run.points.filter((point) => typeof point.knobs[knob] === 'number');
  const grow = sized.filter((point) => point.step === stepIds.grow);
  const chosen =
    grow.length > 0 ? grow : new Set(sized.map((point) => point.scenario)).size === 1 ? sized : [];
  return chosen
    .map((point) => {
      const p99 = distributionQuantile(latencyDistribution(point.histogram), 0.99);
      return {
        size: point.knobs[knob] as number,
        run: name,
        throughput: median(point.throughputs) ?? 0,
        p99Ms: p99 === undefined ? undefined : p99 / 1000,
        throughputs: point.throughputs,
        trialP99Ms: point.p99Ms,
      };
    })
    .sort((a, b) => a.size - b.size);
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

// System font names only: nothing for a browser (or vega) to fetch.
const chartConfig = {
  font: 'system-ui, -apple-system, "Segoe UI", Roboto, sans-serif',
  background: 'white',
  axis: { labelFontSize: 11, titleFontSize: 12, titleFontWeight: 'normal' },
  legend: { labelFontSize: 11, labelLimit: 420 },
} as const;

interface PageContext extends ComparisonView {
  readonly charts: readonly ComparisonChart[];
}

let cached: { dir: string; template: (context: PageContext) => string } | undefined;

/**
 * The self-contained comparison page. Every value is escaped by Handlebars except the charts' SVG,
 * which vega wrote from our own numbers (and vega escapes the text it writes).
 */
export function renderComparisonHtml(
  view: ComparisonView,
  charts: readonly ComparisonChart[],
  templatesDir: string = TEMPLATES_DIR,
): string {
  if (cached?.dir !== templatesDir) cached = { dir: templatesDir, template: compileTemplate(templatesDir) };
  return cached.template({
    ...view,
    charts,
    chartsNote:
      charts.length === 0
        ? 'No curves: neither run has grow-pool points with a known pool-size knob.'
        : view.chartsNote,
  });
}

function compileTemplate(dir: string): (context: PageContext) => string {
  // A private instance, as the run report's: its partials cannot leak into other users of Handlebars.
  const hbs = Handlebars.create();
  const cssFile = path.join(dir, 'report.css');
  const css = readFileSync(cssFile, 'utf8');
  // Inlined verbatim as a partial; `{{` would make the CSS a template.
  if (css.includes('{{')) throw new Error(`${cssFile} must not contain "{{"`);
  hbs.registerPartial('styles', css);
  // strict: a misspelt field throws instead of rendering as nothing; only the built-in helpers exist.
  return hbs.compile<PageContext>(readFileSync(path.join(dir, 'compare.hbs'), 'utf8'), {
    strict: true,
    knownHelpersOnly: true,
    preventIndent: true,
  });
}
