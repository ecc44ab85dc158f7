import type { TopLevelSpec } from 'vega-lite';
import {
  ALL_ERRORS,
  type CapacityChartData,
  CHART_TITLES,
  type IdleChurnData,
  type LatencyLoadData,
  type PoolSizeData,
  type PoolUseSample,
  type SocketSample,
  type TimeSeriesData,
} from './chart-data.ts';
import { renderSvg } from './vega.ts';
import type { ReportView } from './view-model.ts';

/** A chart's Vega-Lite spec with what the page says about it. */
export interface ChartSpec {
  /** Stable id, used for the figure's HTML id, e.g. `throughput`, `pool-use`, `latency-pg`. */
  readonly id: string;
  readonly title: string;
  /** One sentence: what to look for. */
  readonly caption: string;
  /** What the chart shows, in words, for screen readers. */
  readonly description: string;
  readonly spec: TopLevelSpec;
}

/** A chart rendered to an SVG string, ready to inline in the page. */
export interface RenderedChart {
  readonly id: string;
  readonly title: string;
  readonly caption: string;
  readonly description: string;
  /** Produced by vega from our own data; vega escapes the text it writes. */
  readonly svg: string;
  /** What Vega-Lite or vega warned about while compiling or rendering (empty when all is well). */
  readonly warnings: readonly string[];
}

/** The label of trials drawn apart from the lines. */
export const EXCLUDED_LABEL = 'invalid (excluded)';
/** Legend label of repetitions the analysis flagged as outliers. */
export const OUTLIER_LABEL = 'outlier (re-run)';
/** Legend label of the plateau's range. */
export const PLATEAU_LABEL = 'plateau';

// Vega-Lite exports only TopLevelSpec; the parts we build are picked out of it.
type LayeredSpec = Extract<TopLevelSpec, { layer: unknown }>;
/** One layer of a chart: a mark with its data and encoding. */
export type Layer = Extract<LayeredSpec['layer'][number], { mark: unknown }>;
/** A layer's encoding channels. */
export type Encoding = NonNullable<Layer['encoding']>;
/** An x channel. */
export type XEncoding = NonNullable<Encoding['x']>;
/** A y channel. */
export type YEncoding = NonNullable<Encoding['y']>;
type ColourEncoding = NonNullable<Encoding['color']>;

const WIDTH = 520;
const HEIGHT = 240;
const COLOURS = {
  throughput: '#2b6cb0',
  repetition: '#90a4c0',
  fit: '#1a365d',
  band: '#90cdf4',
  p50: '#2f855a',
  p95: '#b7791f',
  p99: '#c53030',
  excluded: '#8a8a8a',
  outlier: '#d62728',
  plateau: '#2ca02c',
  rule: '#4a5568',
  warn: '#c05621',
  active: '#2b6cb0',
  idle: '#718096',
  waiting: '#c53030',
  established: '#2b6cb0',
  timeWait: '#b7791f',
  closeWait: '#c53030',
  warmup: '#edf2f7',
} as const;
const KIND_COLOURS = ['#c53030', '#dd6b20', '#805ad5', '#3182ce', '#38a169', '#718096'];

/** Chart specs (Vega-Lite) for a report, in the order the page shows them. */
export function chartSpecs(view: ReportView): ChartSpec[] {
  const data = view.charts;
  const specs: ChartSpec[] = [];
  for (const pool of data.poolSize) {
    specs.push(throughputChart(pool), latencyChart(pool));
    const errors = errorsChart(pool);
    if (errors !== undefined) specs.push(errors);
  }
  for (const idle of data.idleChurn) specs.push(idleChurnChart(idle));
  if (data.latencyLoad !== null) specs.push(latencyLoadChart(data.latencyLoad));
  if (data.poolUse !== null) specs.push(poolUseChart(data.poolUse));
  if (data.sockets !== null) specs.push(socketsChart(data.sockets));
  if (data.capacity !== null) specs.push(...capacityCharts(data.capacity));
  return specs;
}

/**
 * Renders the report's charts to SVG in Node (no browser, no JavaScript in the page). Nothing is loaded:
 * the data is inline, text is measured by estimate (no canvas, no fonts) and the loader refuses every URL.
 */
export async function renderCharts(view: ReportView): Promise<RenderedChart[]> {
  return renderChartSpecs(chartSpecs(view));
}

/** Renders chart specs to SVG in order, as {@link renderCharts} does (the comparison page's too). */
export async function renderChartSpecs(specs: readonly ChartSpec[]): Promise<RenderedChart[]> {
  const charts: RenderedChart[] = [];
  for (const { spec, ...about } of specs) {
    charts.push({ ...about, ...(await renderSvg(spec)) });
  }
  return charts;
}

/** An x axis over pool sizes (field `n`): log2 or linear, a tick and a grid line at each size measured. */
export function sizeAxis(name: string, scale: 'log2' | 'linear', ticks: readonly number[]): XEncoding {
  const min = ticks[0] ?? 0;
  const max = ticks[ticks.length - 1] ?? 1;
  return {
    field: 'n',
    type: 'quantitative',
    // The knob's name is only ever a title: as a field name its dots and brackets would mean paths.
    title: scale === 'log2' ? `${name}, log2 scale` : name,
    // Padding (in pixels) keeps the first and last points off the axes.
    scale:
      scale === 'log2'
        ? { type: 'log', base: 2, domain: [min, max], padding: 14 }
        : { domain: [min, max], padding: 14 },
    axis: { values: [...ticks], format: '~g', grid: true },
  };
}

function poolSizeAxis(pool: PoolSizeData): XEncoding {
  return sizeAxis(pool.pool === null ? pool.knob : `pool size (${pool.knob})`, pool.scale, pool.ticks);
}

/** The one legend all series channels share, at the bottom; full opacity even where marks are faint. */
export const SERIES_LEGEND = {
  title: null,
  orient: 'bottom',
  direction: 'horizontal',
  symbolOpacity: 1,
} as const;

/** Colour by series (field `series`), sharing one legend at the bottom. */
export function seriesColour(domain: readonly string[], range: readonly string[]): ColourEncoding {
  return {
    field: 'series',
    type: 'nominal',
    scale: { domain: [...domain], range: [...range] },
    legend: SERIES_LEGEND,
  };
}

/** Crosses for the excluded trials and circles for the rest, so the legend shows which is which. */
function excludedShape(domain: readonly string[]): Pick<Encoding, 'shape'> {
  if (!domain.includes(EXCLUDED_LABEL)) return {};
  return {
    shape: {
      field: 'series',
      type: 'nominal',
      scale: { domain: [...domain], range: domain.map((s) => (s === EXCLUDED_LABEL ? 'cross' : 'circle')) },
      legend: SERIES_LEGEND,
    },
  };
}

/** A vertical rule with a label at the top, e.g. the recommended size. */
function verticalMarks(
  x: XEncoding,
  marks: readonly { value: number; label: string; dashed: boolean; align: 'left' | 'right'; line: number }[],
): Layer[] {
  if (marks.length === 0) return [];
  const values = marks.map((m) => ({
    n: m.value,
    label: m.label,
    dashed: m.dashed,
    align: m.align,
    line: m.line,
  }));
  return [
    {
      data: { values },
      mark: { type: 'rule', color: COLOURS.rule, strokeWidth: 1.5 },
      encoding: {
        x,
        strokeDash: {
          field: 'dashed',
          type: 'nominal',
          scale: {
            domain: [false, true],
            range: [
              [1, 0],
              [5, 3],
            ],
          },
          legend: null,
        },
      },
    },
    ...marks.map(
      (m): Layer => ({
        data: { values: [{ n: m.value, label: m.label }] },
        mark: {
          type: 'text',
          align: m.align,
          baseline: 'top',
          dx: m.align === 'left' ? 4 : -4,
          dy: 2 + 14 * m.line,
          fontSize: 11,
          color: COLOURS.rule,
        },
        encoding: { x, y: { value: 0 }, text: { field: 'label', type: 'nominal' } },
      }),
    ),
  ];
}

/** A horizontal reference line with a label at one end, e.g. the SLO. */
function horizontalMark(
  field: string,
  value: number,
  label: string,
  colour: string,
  dash: number[],
  y: YEncoding,
  end: 'left' | 'right' = 'right',
): Layer[] {
  return [
    {
      data: { values: [{ [field]: value, label }] },
      mark: { type: 'rule', color: colour, strokeDash: dash, strokeWidth: 1.5 },
      encoding: { y },
    },
    {
      data: { values: [{ [field]: value, label }] },
      mark: { type: 'text', align: end, baseline: 'bottom', dy: -3, fontSize: 11, color: colour },
      encoding: {
        y,
        x: { value: end === 'right' ? WIDTH - 4 : 4 },
        text: { field: 'label', type: 'nominal' },
      },
    },
  ];
}

/** Rules at the recommended size and the Kneedle knee, labelled; one rule when they agree. */
function kneeMarks(pool: PoolSizeData, x: XEncoding, withKneedle: boolean) {
  const { recommended, kneedle } = pool;
  if (recommended === null) {
    return withKneedle && kneedle !== null
      ? verticalMarks(x, [
          { value: kneedle, label: `Kneedle knee ${kneedle}`, dashed: true, align: 'left', line: 0 },
        ])
      : [];
  }
  if (!withKneedle || kneedle === null || kneedle === recommended) {
    const label =
      withKneedle && kneedle === recommended
        ? `recommended ${recommended} (= Kneedle knee)`
        : `recommended ${recommended}`;
    return verticalMarks(x, [{ value: recommended, label, dashed: false, align: 'left', line: 0 }]);
  }
  // Two close rules: each label goes away from the other.
  const right = recommended > kneedle;
  return verticalMarks(x, [
    {
      value: recommended,
      label: `recommended ${recommended}`,
      dashed: false,
      align: right ? 'left' : 'right',
      line: 0,
    },
    {
      value: kneedle,
      label: `Kneedle knee ${kneedle}`,
      dashed: true,
      align: right ? 'right' : 'left',
      line: 1,
    },
  ]);
}

/** The label of the rule at the guide's starting point for a database pool. */
export const CORES_RULE_LABEL = 'cores × 2';

/**
 * A dashed rule at cores × 2, the guide's starting point for a database pool, when it falls within the
 * sizes measured (outside them it would stretch the axis; the steps' evidence still states it). Its label
 * goes on the line below the knee marks', towards the wider side of the chart.
 */
function coresMark(pool: PoolSizeData, x: XEncoding): Layer[] {
  const rule = pool.coresRule?.rule;
  const low = pool.ticks[0];
  const high = pool.ticks.at(-1);
  if (rule === undefined || low === undefined || high === undefined || rule < low || rule > high) return [];
  const at = (v: number) => (pool.scale === 'log2' ? Math.log2(v) : v);
  const upper = at(rule) > (at(low) + at(high)) / 2;
  const line = pool.kneedle !== null && pool.kneedle !== pool.recommended ? 2 : 1;
  const label = `${CORES_RULE_LABEL} = ${Number(rule.toFixed(2))}`;
  return verticalMarks(x, [{ value: rule, label, dashed: true, align: upper ? 'right' : 'left', line }]);
}

function throughputChart(pool: PoolSizeData): ChartSpec {
  const x = poolSizeAxis(pool);
  const y: YEncoding = { field: 'throughput', type: 'quantitative', title: 'throughput (req/s)' };
  const { usl } = pool;
  const hasExcluded = pool.excluded.length > 0;
  const hasOutliers = pool.outliers.length > 0;
  const tune = pool.pool !== null;
  const series = [
    ...(tune ? ['repetition', 'median'] : ['completed']),
    ...(usl === null ? [] : ['USL fit', '95% band']),
    ...(pool.plateau === null ? [] : [PLATEAU_LABEL]),
    ...(hasOutliers ? [OUTLIER_LABEL] : []),
    ...(hasExcluded ? [EXCLUDED_LABEL] : []),
  ];
  const palette: Record<string, string> = {
    repetition: COLOURS.repetition,
    median: COLOURS.throughput,
    completed: COLOURS.throughput,
    'USL fit': COLOURS.fit,
    '95% band': COLOURS.band,
    [PLATEAU_LABEL]: COLOURS.plateau,
    [OUTLIER_LABEL]: COLOURS.outlier,
    [EXCLUDED_LABEL]: COLOURS.excluded,
  };
  const color = seriesColour(
    series,
    series.map((s) => palette[s] ?? COLOURS.rule),
  );
  const shape = excludedShape(series);
  const layer: Layer[] = [];
  if (pool.plateau !== null) {
    // The plateau as the analysis decided it: the sizes shown equivalent to the best.
    layer.push({
      data: { values: [{ n: pool.plateau.low, n2: pool.plateau.high, series: PLATEAU_LABEL }] },
      mark: { type: 'rect', opacity: 0.18 },
      encoding: { x, x2: { field: 'n2' }, color },
    });
  }
  if (usl !== null) {
    const curve = usl.curve.map((p) => ({ ...p, series: '95% band' }));
    layer.push({
      data: { values: curve },
      mark: { type: 'area', opacity: 0.35 },
      encoding: {
        x,
        y: { field: 'low', type: 'quantitative', title: 'throughput (req/s)' },
        y2: { field: 'high' },
        color,
      },
    });
    layer.push({
      data: { values: usl.curve.map((p) => ({ n: p.n, throughput: p.fit, series: 'USL fit' })) },
      mark: { type: 'line', strokeWidth: 2 },
      encoding: { x, y, color },
    });
  }
  if (tune) {
    layer.push({
      data: {
        values: pool.repetitions.map((r) => ({ n: r.n, throughput: r.throughput, series: 'repetition' })),
      },
      mark: { type: 'point', size: 22, strokeWidth: 1 },
      encoding: { x, y, color, ...shape },
    });
  }
  layer.push({
    data: {
      values: pool.sizes.map((s) => ({
        n: s.n,
        throughput: s.throughput,
        series: tune ? 'median' : 'completed',
      })),
    },
    // Without a fit, the medians are joined; with one, the fitted curve is the line.
    mark:
      usl === null
        ? { type: 'line', point: { filled: true, size: 50 } }
        : { type: 'point', filled: true, size: 50 },
    encoding: { x, y, color, ...shape },
  });
  if (hasOutliers) {
    layer.push({
      data: {
        values: pool.outliers.map((r) => ({ n: r.n, throughput: r.throughput, series: OUTLIER_LABEL })),
      },
      mark: { type: 'point', size: 70, strokeWidth: 2 },
      encoding: { x, y, color, ...shape },
    });
  }
  if (hasExcluded) {
    layer.push({
      data: {
        values: pool.excluded.map((p) => ({ n: p.n, throughput: p.throughput, series: EXCLUDED_LABEL })),
      },
      mark: { type: 'point', filled: true, size: 90 },
      encoding: { x, y, color, ...shape },
    });
  }
  layer.push(...kneeMarks(pool, x, true), ...coresMark(pool, x));

  const caption = !tune
    ? `Look for where throughput stops rising as ${pool.knob} grows; crosses are invalid trials, left out of the line.`
    : usl === null
      ? `Look for where throughput stops rising as the pool grows; too few sizes were measured for a USL fit${pool.recommended === null ? '' : `, and the rule marks the recommended size ${pool.recommended}`}.`
      : `Look for the knee where the fitted curve flattens${pool.recommended === null ? '' : ` (marked at the recommended size, ${pool.recommended})`}: past it more connections add little throughput, and the shaded band is the fit's 95% range over ${usl.resamples} bootstrap refits${usl.quality === 'poor' ? ` (a poor fit: ${usl.reason})` : ''}.`;
  // One sentence in all: the additions join the caption before its full stop.
  const plateauCaption =
    pool.plateau === null
      ? ''
      : `; the light box spans the plateau the equivalence test found (${pool.plateau.low}–${pool.plateau.high}), and the recommendation is the smallest size in it whose pool keeps headroom at peak`;
  const outlierCaption = hasOutliers ? `; red marks are outliers, re-run once and left out of the means` : '';
  const through = pool.sizes.map((s) => s.throughput);
  return {
    id: pool.ids.throughput,
    title: pool.titles.throughput,
    caption: `${caption.replace(/\.$/, '')}${plateauCaption}${outlierCaption}.`,
    description:
      `Chart of throughput in requests per second against ${pool.pool === null ? pool.knob : `pool size ${pool.knob} for pool ${pool.pool}`}` +
      (through.length === 0
        ? '; no completed trial'
        : `, from ${fmt(Math.min(...through))} to ${fmt(Math.max(...through))} req/s over ${pool.sizes.length} sizes`) +
      (usl === null ? '' : `; USL fit with R² ${usl.rSquared.toFixed(3)} and its 95% bootstrap band`) +
      (pool.plateau === null ? '' : `; plateau ${pool.plateau.low}–${pool.plateau.high}`) +
      (pool.recommended === null ? '' : `; recommended size ${pool.recommended}`) +
      (pool.kneedle === null || pool.pool === null ? '' : `; Kneedle knee ${pool.kneedle}`) +
      (pool.coresRule === null ? '' : `; ${pool.coresRule.text}`) +
      '.',
    spec: layered(`Throughput against ${pool.knob}`, layer),
  };
}

function latencyChart(pool: PoolSizeData): ChartSpec {
  const x = poolSizeAxis(pool);
  const withP95 = pool.sizes.some((s) => s.p95Ms !== null);
  const percentiles = withP95 ? (['p50', 'p95', 'p99'] as const) : (['p50', 'p99'] as const);
  const values = pool.sizes.flatMap((s) =>
    percentiles.flatMap((p) => {
      const ms = p === 'p50' ? s.p50Ms : p === 'p95' ? s.p95Ms : s.p99Ms;
      return ms === null ? [] : [{ n: s.n, ms, series: p }];
    }),
  );
  const hasExcluded = pool.excluded.length > 0;
  const series = [...percentiles, ...(hasExcluded ? [EXCLUDED_LABEL] : [])];
  const color = seriesColour(
    series,
    series.map((s) => (s === EXCLUDED_LABEL ? COLOURS.excluded : COLOURS[s as 'p50' | 'p95' | 'p99'])),
  );
  const excludedValues = pool.excluded.flatMap((p) => [
    { n: p.n, ms: p.p50Ms, series: EXCLUDED_LABEL },
    { n: p.n, ms: p.p99Ms, series: EXCLUDED_LABEL },
  ]);
  const y: YEncoding = {
    field: 'ms',
    type: 'quantitative',
    title: 'latency (ms, log scale)',
    scale: { type: 'log' },
    axis: { values: logTicks([...values, ...excludedValues].map((v) => v.ms)) },
  };
  const shape = excludedShape(series);
  const layer: Layer[] = [
    {
      data: { values },
      mark: { type: 'line', point: { filled: true, size: 40 } },
      encoding: { x, y, color, ...shape },
    },
  ];
  if (hasExcluded) {
    layer.push({
      data: { values: excludedValues },
      mark: { type: 'point', filled: true, size: 90 },
      encoding: { x, y, color, ...shape },
    });
  }
  layer.push(...kneeMarks(pool, x, false));
  const p99s = pool.sizes.map((s) => s.p99Ms);
  return {
    id: pool.ids.latency,
    title: pool.titles.latency,
    caption:
      pool.pool === null
        ? `Look for where p99 stops falling as ${pool.knob} grows, and for a p99 that climbs again at the largest values.`
        : 'Look for where p99 stops falling as the pool grows: a p99 that climbs again at large pools means the database, not the pool, has become the queue.',
    description:
      `Chart of latency percentiles ${percentiles.join(', ')} in milliseconds (log scale) against ${pool.pool === null ? pool.knob : `pool size ${pool.knob} for pool ${pool.pool}`}` +
      (p99s.length === 0
        ? '; no completed trial'
        : `; p99 from ${fmt(Math.min(...p99s))} to ${fmt(Math.max(...p99s))} ms`) +
      '.',
    spec: layered(`Latency against ${pool.knob}`, layer),
  };
}

function errorsChart(pool: PoolSizeData): ChartSpec | undefined {
  if (pool.errors === null || pool.sizes.length === 0) return undefined;
  const x = poolSizeAxis(pool);
  const kinds = [...new Set(pool.errors.map((p) => p.kind))];
  const others = kinds.filter((k) => k !== ALL_ERRORS);
  const colour = seriesColour(kinds, [
    COLOURS.rule,
    ...others.map((_, i) => KIND_COLOURS[i % KIND_COLOURS.length] ?? COLOURS.rule),
  ]);
  const highest = Math.max(0, ...pool.errors.map((p) => p.rate));
  const y: YEncoding = {
    field: 'rate',
    type: 'quantitative',
    title: 'error rate (share of attempts)',
    // An all-zero chart still needs a scale: show 0–1% so the flat line reads as "none".
    scale: highest === 0 ? { domain: [0, 0.01] } : { domainMin: 0 },
    axis: { format: '.1~%' },
  };
  const values = pool.errors.map((p) => ({ n: p.n, rate: p.rate, series: p.kind }));
  const layer: Layer[] = [
    {
      data: { values },
      mark: { type: 'line', point: { filled: true, size: 36 } },
      encoding: { x, y, color: colour },
    },
    ...kneeMarks(pool, x, false),
  ];
  return {
    id: pool.ids.errors,
    title: pool.titles.errors,
    caption:
      highest === 0
        ? 'No request failed at any size: a line rising off zero would show which kind of error a pool size causes.'
        : 'Look for error kinds that appear at small pools (requests timing out waiting for a connection) or at large ones (the database refusing connections).',
    description:
      `Chart of the error rate as a share of attempts, in total and by kind (${others.length === 0 ? 'no errors seen' : others.join(', ')}), against pool size ${pool.knob}${pool.pool === null ? '' : ` for pool ${pool.pool}`}; ` +
      `highest ${(highest * 100).toFixed(2)}%.`,
    spec: layered(`Error rate by kind against ${pool.knob}`, layer),
  };
}

function idleChurnChart(idle: IdleChurnData): ChartSpec {
  const unit = idle.unit === '' ? '' : ` ${idle.unit}`;
  const timeouts = [
    ...new Set([
      ...idle.points.map((p) => p.timeout),
      ...(idle.recommended === null ? [] : [idle.recommended]),
    ]),
  ].sort((a, b) => a - b);
  const x: XEncoding = {
    field: 'timeout',
    type: 'quantitative',
    title: `idle timeout (${idle.knob}${unit}), log scale`,
    scale: { type: 'log', domain: [timeouts[0] ?? 1, timeouts[timeouts.length - 1] ?? 1], padding: 14 },
    axis: { values: timeouts, format: '~g', grid: true },
  };
  const y: YEncoding = { field: 'churn', type: 'quantitative', title: 'connections opened per second' };
  const series = ['repetition', 'median'];
  const color = seriesColour(series, [COLOURS.repetition, COLOURS.throughput]);
  const layer: Layer[] = [
    {
      data: {
        values: idle.repetitions.map((r) => ({
          timeout: r.timeout,
          churn: r.churnPerSec,
          series: 'repetition',
        })),
      },
      mark: { type: 'point', size: 22 },
      encoding: { x, y, color },
    },
    {
      data: {
        values: idle.points.map((p) => ({ timeout: p.timeout, churn: p.churnPerSec, series: 'median' })),
      },
      mark: { type: 'line', point: { filled: true, size: 50 } },
      encoding: { x, y, color },
    },
  ];
  if (idle.never !== null) {
    layer.push(
      ...horizontalMark(
        'churn',
        idle.never,
        `never closing: ${fmt(idle.never)}/s`,
        COLOURS.rule,
        [5, 3],
        y,
        'left',
      ),
    );
  }
  if (idle.acceptable !== null) {
    layer.push(
      ...horizontalMark(
        'churn',
        idle.acceptable,
        `acceptable: up to ${fmt(idle.acceptable)}/s`,
        COLOURS.warn,
        [2, 2],
        y,
        'left',
      ),
    );
  }
  if (idle.recommended !== null) {
    layer.push(
      {
        data: { values: [{ timeout: idle.recommended }] },
        mark: { type: 'rule', color: COLOURS.rule, strokeWidth: 1.5 },
        encoding: { x },
      },
      {
        data: { values: [{ timeout: idle.recommended, label: `recommended ${idle.recommended}${unit}` }] },
        mark: {
          type: 'text',
          align: 'left',
          baseline: 'top',
          dx: 4,
          dy: 2,
          fontSize: 11,
          color: COLOURS.rule,
        },
        encoding: { x, y: { value: 0 }, text: { field: 'label', type: 'nominal' } },
      },
    );
  }
  return {
    id: idle.id,
    title: idle.title,
    caption:
      'Look for the shortest timeout whose churn stays under the acceptable line: a shorter timeout closes connections that the next burst of traffic has to open again.',
    description:
      `Chart of connections opened per second against the idle timeout ${idle.knob} for pool ${idle.pool}, at ${idle.points.map((p) => `${p.timeout}${unit}: ${fmt(p.churnPerSec)}/s`).join(', ')}` +
      (idle.never === null ? '' : `; never closing: ${fmt(idle.never)}/s`) +
      (idle.recommended === null ? '' : `; recommended ${idle.recommended}${unit}`) +
      '.',
    spec: layered(`Idle timeout against connection churn for pool ${idle.pool}`, layer),
  };
}

function latencyLoadChart(load: LatencyLoadData): ChartSpec {
  const withP95 = load.points.some((p) => p.p95Ms !== null);
  const percentiles = withP95 ? (['p50', 'p95', 'p99'] as const) : (['p50', 'p99'] as const);
  const values = load.points.flatMap((p) =>
    percentiles.flatMap((q) => {
      const ms = q === 'p50' ? p.p50Ms : q === 'p95' ? p.p95Ms : p.p99Ms;
      return ms === null ? [] : [{ rate: p.offeredRate, ms, series: q }];
    }),
  );
  const x: XEncoding = {
    field: 'rate',
    type: 'quantitative',
    title: 'offered load (req/s)',
    scale: { zero: true, nice: true },
    axis: { grid: true },
  };
  const all = [...values.map((v) => v.ms), ...(load.sloP99Ms === null ? [] : [load.sloP99Ms])];
  const y: YEncoding = {
    field: 'ms',
    type: 'quantitative',
    title: 'latency (ms, log scale)',
    scale: { type: 'log' },
    axis: { values: logTicks(all) },
  };
  const color = seriesColour(
    percentiles,
    percentiles.map((p) => COLOURS[p]),
  );
  const layer: Layer[] = [
    {
      data: { values },
      mark: { type: 'line', point: { filled: true, size: 40 } },
      encoding: { x, y, color },
    },
    {
      data: { values: load.points.map((p) => ({ rate: p.offeredRate, ms: p.p99Ms, label: p.scenario })) },
      mark: { type: 'text', baseline: 'bottom', dy: -8, fontSize: 10, color: COLOURS.rule },
      encoding: { x, y, text: { field: 'label', type: 'nominal' } },
    },
  ];
  if (load.sloP99Ms !== null) {
    layer.push(
      ...horizontalMark('ms', load.sloP99Ms, `SLO p99 ${fmt(load.sloP99Ms)} ms`, COLOURS.warn, [5, 3], y),
    );
  }
  return {
    id: load.id,
    title: CHART_TITLES['latency-load'],
    caption: `Look for where latency turns upward as the offered load grows (each scenario sits at its mean offered rate)${load.sloP99Ms === null ? '' : ': the settings hold while p99 stays under the SLO line'}.`,
    description:
      `Chart of latency percentiles ${percentiles.join(', ')} in milliseconds (log scale) against the offered load in requests per second, at the recommended settings: ` +
      load.points
        .map((p) => `${p.scenario} at ${fmt(p.offeredRate)} req/s, p99 ${fmt(p.p99Ms)} ms`)
        .join('; ') +
      (load.sloP99Ms === null ? '' : `; SLO p99 ${fmt(load.sloP99Ms)} ms`) +
      '.',
    spec: layered('Latency against offered load', layer),
  };
}

/**
 * The capacity search's two charts: p99 and completed/offered against the offered rate, one series per
 * setting, each probe labelled with its step in the search (so the bracket's narrowing can be read), the
 * SLO and 97% lines, and a rule at each setting's answer.
 */
function capacityCharts(data: CapacityChartData): ChartSpec[] {
  const settings = [...new Set(data.points.map((p) => p.settings))];
  const color = seriesColour(
    settings,
    settings.map((_, i) => KIND_COLOURS[i * 3] ?? COLOURS.rule),
  );
  const x: XEncoding = {
    field: 'rate',
    type: 'quantitative',
    title: 'offered arrival rate (req/s)',
    scale: { zero: true, nice: true },
    axis: { grid: true },
  };
  const shape = {
    field: 'verdict',
    type: 'nominal' as const,
    title: 'probe',
    scale: { domain: ['pass', 'fail', 'invalid'], range: ['circle', 'cross', 'triangle-up'] },
  };
  const rows = (value: (p: CapacityChartData['points'][number]) => number | null) =>
    data.points.flatMap((p) => {
      const v = value(p);
      return v === null
        ? []
        : [{ ...p, series: p.settings, value: v, label: `${p.step}${p.validation ? ' (long)' : ''}` }];
    });
  const answers: Layer[] = data.capacities.map((c) => ({
    data: { values: [{ rate: c.rate, series: c.settings }] },
    mark: { type: 'rule', strokeDash: [2, 2], strokeWidth: 1.5 },
    encoding: { x, color },
  }));
  const chart = (
    id: 'capacity-p99' | 'capacity-achieved',
    y: YEncoding,
    values: ReturnType<typeof rows>,
    line: Layer[],
    caption: string,
    describe: (v: ReturnType<typeof rows>[number]) => string,
  ): ChartSpec => ({
    id,
    title: CHART_TITLES[id],
    caption,
    description: `Chart of the capacity search's probes against the offered rate: ${values.map((v) => `${v.settings} step ${v.label} at ${fmt(v.rate)} req/s ${describe(v)} (${v.verdict})`).join('; ')}; answers ${data.capacities.map((c) => `${c.settings} ${fmt(c.rate)} req/s`).join(', ') || 'none'}.`,
    spec: layered(CHART_TITLES[id], [
      {
        data: { values },
        mark: { type: 'point', filled: true, size: 60 },
        encoding: { x, y, color, shape },
      },
      {
        data: { values },
        mark: { type: 'text', baseline: 'bottom', dy: -7, fontSize: 9, color: COLOURS.rule },
        encoding: { x, y, text: { field: 'label', type: 'nominal' } },
      },
      ...line,
      ...answers,
    ]),
  });
  const p99 = rows((p) => p.p99Ms);
  const p99Y: YEncoding = {
    field: 'value',
    type: 'quantitative',
    title: 'p99 (ms, log scale)',
    scale: { type: 'log' },
    axis: { values: logTicks([...p99.map((v) => v.value), data.sloP99Ms]) },
  };
  const sustained = rows((p) => p.sustained);
  const sustainedY: YEncoding = {
    field: 'value',
    type: 'quantitative',
    title: 'completed / offered',
    scale: { zero: false },
    axis: { format: '%' },
  };
  return [
    chart(
      'capacity-p99',
      p99Y,
      p99,
      horizontalMark('value', data.sloP99Ms, `SLO p99 ${fmt(data.sloP99Ms)} ms`, COLOURS.warn, [5, 3], p99Y),
      'Each probe is numbered by its step: the search doubles the rate until p99 crosses the SLO line, then bisects; the dashed rule marks the capacity found.',
      (v) => `p99 ${fmt(v.value)} ms`,
    ),
    chart(
      'capacity-achieved',
      sustainedY,
      sustained,
      horizontalMark(
        'value',
        data.minSustained,
        `${data.minSustained * 100}% completed`,
        COLOURS.warn,
        [5, 3],
        sustainedY,
      ),
      'Below the line the target no longer kept up with the arrivals; a triangle is a probe the load generator limited, which never counts as the capacity.',
      (v) => `${fmt(v.value * 100)}% completed`,
    ),
  ];
}

/** Time axis in seconds from the start of measurement; the warm-up (negative times) is shaded. */
function timeLayers<S extends { readonly t: number }>(
  series: TimeSeriesData<S>,
  fields: readonly { key: keyof S & string; label: string; colour: string }[],
  yTitle: string,
): { layer: Layer[]; x: XEncoding; y: YEncoding } {
  const x: XEncoding = {
    field: 't',
    type: 'quantitative',
    title: 'time since measurement started (s)',
    axis: { grid: true },
  };
  const y: YEncoding = { field: 'value', type: 'quantitative', title: yTitle, axis: { tickMinStep: 1 } };
  const values = series.samples.flatMap((s) =>
    fields.map((f) => ({ t: s.t, value: Number(s[f.key]), series: f.label })),
  );
  const color = seriesColour(
    fields.map((f) => f.label),
    fields.map((f) => f.colour),
  );
  const start = series.samples[0]?.t ?? 0;
  const layer: Layer[] = [];
  if (start < 0) {
    layer.push(
      {
        data: { values: [{ t: start, t2: 0 }] },
        mark: { type: 'rect', color: COLOURS.warmup },
        encoding: { x, x2: { field: 't2' } },
      },
      {
        data: { values: [{ t: start, label: 'warm-up' }] },
        mark: {
          type: 'text',
          align: 'left',
          baseline: 'bottom',
          dx: 4,
          dy: -2,
          fontSize: 11,
          color: COLOURS.idle,
        },
        encoding: { x, y: { value: HEIGHT }, text: { field: 'label', type: 'nominal' } },
      },
    );
  }
  // Lines only: a mark per sample would make long series heavy.
  layer.push({ data: { values }, mark: { type: 'line', strokeWidth: 1.5 }, encoding: { x, y, color } });
  return { layer, x, y };
}

function poolUseChart(series: TimeSeriesData<PoolUseSample>): ChartSpec {
  const { layer, y } = timeLayers(
    series,
    [
      { key: 'active', label: 'active', colour: COLOURS.active },
      { key: 'idle', label: 'idle', colour: COLOURS.idle },
      { key: 'waiting', label: 'waiting', colour: COLOURS.waiting },
    ],
    'connections or waiting requests',
  );
  if (series.poolMax !== null) {
    layer.push(
      ...horizontalMark('value', series.poolMax, `pool max ${series.poolMax}`, COLOURS.rule, [5, 3], y),
    );
    layer.push(...horizontalMark('value', 0.8 * series.poolMax, '80% of max', COLOURS.warn, [2, 2], y));
  }
  const peakActive = Math.max(...series.samples.map((s) => s.active));
  const peakWaiting = Math.max(...series.samples.map((s) => s.waiting));
  return {
    id: series.id,
    title: CHART_TITLES['pool-use'],
    caption: `Look for active connections staying under 80% of the pool's maximum and for requests waiting for a connection (trial ${series.trialId}, ${series.scenario}${series.thinned ? ', thinned to bucket maxima' : ''}).`,
    description:
      `Chart over time of the pool's active and idle connections and the requests waiting for one, during trial ${series.trialId} (${series.scenario}); ` +
      `at most ${peakActive} active${series.poolMax === null ? '' : ` of ${series.poolMax}`} and ${peakWaiting} waiting.`,
    spec: layered('Pool use over time', layer),
  };
}

function socketsChart(series: TimeSeriesData<SocketSample>): ChartSpec {
  const { layer } = timeLayers(
    series,
    [
      { key: 'established', label: 'ESTABLISHED', colour: COLOURS.established },
      { key: 'timeWait', label: 'TIME_WAIT', colour: COLOURS.timeWait },
      { key: 'closeWait', label: 'CLOSE_WAIT', colour: COLOURS.closeWait },
    ],
    'sockets',
  );
  const peak = (key: keyof SocketSample) => Math.max(...series.samples.map((s) => s[key]));
  return {
    id: series.id,
    title: CHART_TITLES.sockets,
    caption: `Look for TIME_WAIT or CLOSE_WAIT piling up: CLOSE_WAIT that grows means connections the other side closed are not released, and TIME_WAIT in bulk means connections are opened and closed too often (trial ${series.trialId}).`,
    description:
      `Chart over time of TCP sockets on the target's ports by state during trial ${series.trialId} (${series.scenario}); ` +
      `at most ${peak('established')} ESTABLISHED, ${peak('timeWait')} TIME_WAIT and ${peak('closeWait')} CLOSE_WAIT.`,
    spec: layered('Socket states over time', layer),
  };
}

/** A layered chart of the report's size and style. */
export function layered(description: string, layer: Layer[]): TopLevelSpec {
  return { description, width: WIDTH, height: HEIGHT, config: chartConfig, layer };
}

/** A figure for a sentence: grouped thousands, at most three decimals, fewer for larger numbers. */
function fmt(value: number): string {
  const digits = Math.abs(value) >= 100 ? 0 : Math.abs(value) >= 10 ? 1 : 2;
  return value.toLocaleString('en-US', { maximumFractionDigits: digits });
}

/** 1-2-5 ticks per decade covering `values`: fewer, rounder lines than vega's default log ticks. */
export function logTicks(values: readonly number[]): number[] {
  const positive = values.filter((v) => v > 0);
  if (positive.length === 0) return [];
  const low = Math.floor(Math.log10(Math.min(...positive)));
  const high = Math.ceil(Math.log10(Math.max(...positive)));
  const ticks: number[] = [];
  for (let decade = low; decade <= high; decade += 1) {
    for (const step of [1, 2, 5]) {
      const tick = Number((step * 10 ** decade).toPrecision(1));
      if (tick <= 10 ** high) ticks.push(tick);
    }
  }
  return ticks;
}

// System font names only: nothing for a browser (or vega) to fetch. No ARIA per mark: the figure carries
// the description, and a label on every point would double the SVG's size. Legend labels get room for
// run ids (the comparison's series).
const chartConfig = {
  font: 'system-ui, -apple-system, "Segoe UI", Roboto, sans-serif',
  background: 'white',
  aria: false,
  axis: { labelFontSize: 11, titleFontSize: 12, titleFontWeight: 'normal' },
  legend: { labelFontSize: 11, labelLimit: 420 },
} as const;
