import { describe, expect, it } from 'vitest';
import { type ComparableRun, type ComparableRunPoint, compareRuns } from '../../harness/analysis/compare.ts';
import { createLatencyHistogram, encodeHistogram } from '../../harness/analysis/histogram.ts';
import { pointKey } from '../../harness/report/comparable-points.ts';
import { comparisonChartSpecs } from '../../harness/report/compare-charts.ts';
import { buildComparisonView } from '../../harness/report/compare-view.ts';
import { renderComparisonHtml } from '../../harness/report/html.ts';

// Two small planted runs of the grow-pool step at max = 2, 4, 8: the current run is the baseline with
// max=8 made slower (latency × 3) and its throughput cut to 70%; the other sizes are unchanged.

/** A histogram of `count` requests spread evenly over [lowMs, highMs]. */
function histogram(lowMs: number, highMs: number, count = 2000): string {
  const recorded = createLatencyHistogram();
  for (let i = 0; i < count; i++)
    recorded.recordValue(Math.round((lowMs + ((highMs - lowMs) * i) / count) * 1000));
  return encodeHistogram(recorded);
}

function point(max: number, throughputs: number[], latencyFactor = 1): ComparableRunPoint {
  const knobs = { max, idleTimeoutMillis: 10_000 };
  return {
    key: pointKey('saturate@32', knobs),
    scenario: 'saturate@32',
    step: '4-grow-pool',
    knobs,
    trials: throughputs.map((_, i) => `t${max}-${i}`),
    throughputs,
    p99Ms: throughputs.map(() => 20 * latencyFactor),
    errorRates: throughputs.map(() => 0),
    histogram: histogram(5 * latencyFactor, 20 * latencyFactor),
  };
}

const baseline: ComparableRun = {
  runId: 'base',
  label: 'base',
  poolSizeKnob: 'max',
  points: [point(2, [500, 510, 490]), point(4, [900, 910, 890]), point(8, [1000, 1010, 990])],
};
const current: ComparableRun = {
  runId: 'next',
  label: 'next',
  poolSizeKnob: 'max',
  points: [point(2, [500, 510, 490]), point(4, [900, 910, 890]), point(8, [700, 707, 693], 3)],
};

describe('buildComparisonView', () => {
  const view = buildComparisonView(compareRuns(baseline, current), baseline, current);

  it('flags the regressed knob value and only it', () => {
    expect(view.regressed).toBe(true);
    expect(view.verdictClass).toBe('fail');
    expect(view.headline).toBe('1 of 3 points are worse than the baseline beyond the thresholds.');
    const byKnobs = Object.fromEntries(view.rows.map((row) => [row.knobs, row]));
    // idleTimeoutMillis is the same everywhere, so only the pool size labels a point.
    expect(Object.keys(byKnobs)).toEqual(['max=2', 'max=4', 'max=8']);
    expect(byKnobs['max=8']).toMatchObject({ verdict: 'regressed', verdictClass: 'fail' });
    expect(byKnobs['max=2']).toMatchObject({ verdict: 'unchanged', verdictClass: 'not-checked' });
    expect(byKnobs['max=4']).toMatchObject({ verdict: 'unchanged', verdictClass: 'not-checked' });
  });

  it('computes the changes from the two runs’ values', () => {
    const row = view.rows.find((r) => r.knobs === 'max=8');
    // Medians 1000 → 700 req/s: −30%.
    expect(row).toMatchObject({
      baselineThroughput: '1000',
      currentThroughput: '700',
      throughputChange: '−30.0%',
    });
    // The merged p99 of an even spread over [5, 20] ms, then over [15, 60] ms: three times as high.
    expect(Number(row?.currentP99) / Number(row?.baselineP99)).toBeCloseTo(3, 1);
    expect(row?.p99Change).toMatch(/^\+(19\d|20\d)\.\d%$/);
    expect(view.rows.find((r) => r.knobs === 'max=2')?.throughputChange).toBe('±0.0%');
  });

  it('draws both runs’ curves over the sizes either measured', () => {
    expect(view.curves).toMatchObject({ knob: 'max', ticks: [2, 4, 8], scale: 'log2' });
    expect(view.chartsNote).toBe('');
    const at8 = view.curves?.points.filter((p) => p.n === 8).map((p) => [p.series, p.throughput]);
    expect(at8).toEqual([
      ['baseline base', 1000],
      ['current next', 700],
    ]);
    const specs = comparisonChartSpecs(view);
    expect(specs.map((spec) => spec.id)).toEqual(['compare-throughput', 'compare-p99']);
    expect(JSON.stringify(specs[0]?.spec)).toContain('"current next"');
  });

  it('says why there are no curves when neither run has a pool-size knob to draw against', () => {
    const strip = (run: ComparableRun): ComparableRun => ({
      runId: run.runId,
      label: run.label,
      points: run.points.map((p) => ({ ...p, step: '2-baseline' })),
    });
    const flat = buildComparisonView(
      compareRuns(strip(baseline), strip(current)),
      strip(baseline),
      strip(current),
    );
    expect(flat.curves).toBeNull();
    expect(comparisonChartSpecs(flat)).toEqual([]);
    const html = renderComparisonHtml(flat, []);
    expect(html).toContain(flat.chartsNote);
    expect(html.match(/<tr class="check-fail"/g)).toHaveLength(1);
  });
});
