import {
  type ChartSpec,
  type Encoding,
  type Layer,
  layered,
  logTicks,
  SERIES_LEGEND,
  seriesColour,
  sizeAxis,
  type YEncoding,
} from './charts.ts';
import type { ComparisonView } from './compare-view.ts';

const COLOURS = { baseline: '#718096', current: '#c05621' } as const;

/**
 * The comparison's charts, both runs on each: throughput and p99 against pool size; lines are the
 * points' figures, open circles each repetition's. Empty when the view has no curves.
 */
export function comparisonChartSpecs(view: ComparisonView): ChartSpec[] {
  const curves = view.curves;
  if (curves === null) return [];
  const { knob, points } = curves;
  const x = sizeAxis(knob, curves.scale, curves.ticks);
  const domain = [curves.series.baseline, curves.series.current];
  const color = seriesColour(domain, [COLOURS.baseline, COLOURS.current]);
  // The runs also differ in shape and dash, so they stay apart in greyscale print.
  const byRun: Encoding = {
    color,
    shape: {
      field: 'series',
      type: 'nominal',
      scale: { domain, range: ['square', 'circle'] },
      legend: SERIES_LEGEND,
    },
    strokeDash: {
      field: 'series',
      type: 'nominal',
      scale: {
        domain,
        range: [
          [5, 3],
          [1, 0],
        ],
      },
      legend: SERIES_LEGEND,
    },
  };
  const lines = (field: 'throughput' | 'p99Ms') =>
    points.flatMap((point) => {
      const value = point[field];
      return value === undefined ? [] : [{ n: point.n, series: point.series, value }];
    });
  const repetitions = (field: 'throughputs' | 'trialP99Ms') =>
    points.flatMap((point) => point[field].map((value) => ({ n: point.n, series: point.series, value })));
  const layers = (y: YEncoding, line: object[], dots: object[]): Layer[] => [
    {
      data: { values: dots },
      mark: { type: 'point', size: 18, opacity: 0.45, filled: false },
      encoding: { x, y, color },
    },
    {
      data: { values: line },
      mark: { type: 'line', point: { filled: true, size: 45 } },
      encoding: { x, y, ...byRun },
    },
  ];
  const runs = `the baseline ${view.baseline.label} and the current run ${view.current.label}`;
  const p99Values = [...lines('p99Ms'), ...repetitions('trialP99Ms')].map((point) => point.value);
  return [
    {
      id: 'compare-throughput',
      title: `Throughput against ${knob}`,
      caption:
        'Lines: median over repetitions; open circles: each repetition. A drop of the current line is lost capacity.',
      description: `Chart of throughput in requests per second against ${knob} for ${runs}, over ${curves.ticks.length} sizes.`,
      spec: layered(
        `Throughput of both runs against ${knob}`,
        layers(
          { field: 'value', type: 'quantitative', title: 'throughput (req/s)' },
          lines('throughput'),
          repetitions('throughputs'),
        ),
      ),
    },
    {
      id: 'compare-p99',
      title: `p99 latency against ${knob}`,
      caption:
        'Lines: p99 of all repetitions’ requests merged; open circles: each repetition’s p99. Higher is worse.',
      description: `Chart of p99 latency in milliseconds (log scale) against ${knob} for ${runs}, over ${curves.ticks.length} sizes.`,
      spec: layered(
        `p99 latency of both runs against ${knob}`,
        layers(
          {
            field: 'value',
            type: 'quantitative',
            title: 'p99 (ms, log scale)',
            scale: { type: 'log', nice: false, padding: 12 },
            axis: { values: logTicks(p99Values) },
          },
          lines('p99Ms'),
          repetitions('trialP99Ms'),
        ),
      ),
    },
  ];
}
