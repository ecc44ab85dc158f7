import type { TopLevelSpec } from 'vega-lite';
import { renderSvg } from './vega.ts';
import type { ReportView, SweepView } from './view-model.ts';

/** A chart rendered to an SVG string, ready to inline in the page. */
export interface RenderedChart {
  /** Stable id, used for the figure's HTML id: `throughput` or `latency`. */
  readonly id: string;
  readonly title: string;
  /** Produced by vega from our own data; vega escapes the text it writes. */
  readonly svg: string;
  /** What Vega-Lite or vega warned about while compiling or rendering (empty when all is well). */
  readonly warnings: readonly string[];
}

/** The label of trials drawn apart from the lines. */
export const EXCLUDED_LABEL = 'invalid (excluded)';

// Vega-Lite exports only TopLevelSpec; the parts we build are picked out of it.
type LayeredSpec = Extract<TopLevelSpec, { layer: unknown }>;
type Layer = Extract<LayeredSpec['layer'][number], { mark: unknown }>;
type Encoding = NonNullable<Layer['encoding']>;

const WIDTH = 520;
const HEIGHT = 240;
const COLOURS = { throughput: '#2b6cb0', p50: '#2f855a', p99: '#c05621', excluded: '#8a8a8a' } as const;

/** Chart specs (Vega-Lite) for a report: throughput and latency against the swept knob. */
export function chartSpecs(view: ReportView): { id: string; title: string; spec: TopLevelSpec }[] {
  const sweep = view.sweep;
  if (sweep === null || (sweep.throughput.length === 0 && sweep.excluded.length === 0)) return [];
  return [
    { id: 'throughput', title: `Throughput against ${sweep.knob}`, spec: throughputSpec(sweep) },
    { id: 'latency', title: `Latency (p50, p99) against ${sweep.knob}`, spec: latencySpec(sweep) },
  ];
}

/**
 * Renders the report's charts to SVG in Node (no browser, no JavaScript in the page). Nothing is loaded:
 * the data is inline, text is measured by estimate (no canvas, no fonts) and the loader refuses every URL.
 */
export async function renderCharts(view: ReportView): Promise<RenderedChart[]> {
  const charts: RenderedChart[] = [];
  for (const { id, title, spec } of chartSpecs(view)) {
    charts.push({ id, title, ...(await renderSvg(spec)) });
  }
  return charts;
}

function xEncoding(sweep: SweepView): NonNullable<Encoding['x']> {
  const min = sweep.ticks[0] ?? 0;
  const max = sweep.ticks[sweep.ticks.length - 1] ?? 1;
  return {
    field: 'knob',
    type: 'quantitative',
    // The knob's name is only ever a title: as a field name its dots and brackets would mean paths.
    title: sweep.scale === 'log2' ? `${sweep.knob} (log2 scale)` : sweep.knob,
    // Padding (in pixels) keeps the first and last points off the axes.
    scale:
      sweep.scale === 'log2'
        ? { type: 'log', base: 2, domain: [min, max], padding: 14 }
        : { domain: [min, max], padding: 14 },
    axis: { values: [...sweep.ticks], format: '~g', grid: true },
  };
}

/** Colour and shape by series, sharing one legend. */
function seriesEncoding(domain: string[], colours: string[], shapes: string[]): Encoding {
  const legend = { title: null, orient: 'bottom', direction: 'horizontal' } as const;
  return {
    color: { field: 'series', type: 'nominal', scale: { domain, range: colours }, legend },
    shape: { field: 'series', type: 'nominal', scale: { domain, range: shapes }, legend },
  };
}

function throughputSpec(sweep: SweepView): TopLevelSpec {
  const excluded = sweep.excluded.length > 0;
  const encoding: Encoding = {
    x: xEncoding(sweep),
    y: { field: 'throughput', type: 'quantitative', title: 'throughput (req/s)' },
    ...seriesEncoding(
      excluded ? ['completed', EXCLUDED_LABEL] : ['completed'],
      [COLOURS.throughput, COLOURS.excluded],
      ['circle', 'cross'],
    ),
  };
  const layer: Layer[] = [
    {
      data: {
        values: sweep.throughput.map((p) => ({
          knob: p.knob,
          throughput: p.throughput,
          series: 'completed',
        })),
      },
      mark: { type: 'line', point: { filled: true, size: 50 } },
      encoding,
    },
  ];
  if (excluded) {
    layer.push({
      data: {
        values: sweep.excluded.map((p) => ({
          knob: p.knob,
          throughput: p.throughput,
          series: EXCLUDED_LABEL,
        })),
      },
      mark: { type: 'point', filled: true, size: 90 },
      encoding,
    });
  }
  return {
    description: `Throughput (successful responses per second) against ${sweep.knob}`,
    width: WIDTH,
    height: HEIGHT,
    config: chartConfig,
    layer,
  };
}

function latencySpec(sweep: SweepView): TopLevelSpec {
  const excluded = sweep.excluded.length > 0;
  const encoding: Encoding = {
    x: xEncoding(sweep),
    y: {
      field: 'ms',
      type: 'quantitative',
      title: 'latency (ms, log scale)',
      scale: { type: 'log' },
      axis: { values: logTicks([...sweep.latency.map((p) => p.ms), ...sweep.excluded.map((p) => p.p50Ms)]) },
    },
    ...seriesEncoding(
      excluded ? ['p50', 'p99', EXCLUDED_LABEL] : ['p50', 'p99'],
      [COLOURS.p50, COLOURS.p99, COLOURS.excluded],
      ['circle', 'circle', 'cross'],
    ),
  };
  const layer: Layer[] = [
    {
      data: { values: sweep.latency.map((p) => ({ knob: p.knob, ms: p.ms, series: p.percentile })) },
      mark: { type: 'line', point: { filled: true, size: 50 } },
      encoding,
    },
  ];
  if (excluded) {
    layer.push({
      data: {
        values: sweep.excluded.flatMap((p) => [
          { knob: p.knob, ms: p.p50Ms, series: EXCLUDED_LABEL },
          { knob: p.knob, ms: p.p99Ms, series: EXCLUDED_LABEL },
        ]),
      },
      mark: { type: 'point', filled: true, size: 90 },
      encoding,
    });
  }
  return {
    description: `Latency percentiles p50 and p99 in milliseconds against ${sweep.knob}`,
    width: WIDTH,
    height: HEIGHT,
    config: chartConfig,
    layer,
  };
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

// System font names only: nothing for a browser (or vega) to fetch.
const chartConfig = {
  font: 'system-ui, -apple-system, "Segoe UI", Roboto, sans-serif',
  background: 'white',
  axis: { labelFontSize: 11, titleFontSize: 12, titleFontWeight: 'normal' },
  legend: { labelFontSize: 11 },
} as const;
