import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { pointStats } from '../../harness/analysis/point-stats.ts';
import {
  ALL_ERRORS,
  buildChartData,
  type ChartData,
  MAX_SERIES_POINTS,
  thin,
} from '../../harness/report/chart-data.ts';
import { chartSpecs, type RenderedChart, renderCharts } from '../../harness/report/charts.ts';
import { renderReportHtml } from '../../harness/report/html.ts';
import { buildReportView, type ReportView } from '../../harness/report/view-model.ts';
import type { Manifest } from '../../harness/results/manifest.ts';
import { type RunContents, readRun } from '../../harness/results/read-run.ts';
import type { CompletedTrial, TrialResult } from '../../harness/results/trial.ts';
import type { MethodOutcome } from '../../harness/tuning/outcome.ts';

const fixtureDir = fileURLToPath(new URL('../fixtures/runs/tune-http-pg/', import.meta.url));

let run: RunContents;
let analysis: MethodOutcome;
let data: ChartData;
let view: ReportView;
let rendered: RenderedChart[];

beforeAll(async () => {
  run = await readRun(fixtureDir);
  if (run.analysis === undefined) throw new Error('the tune fixture has no analysis.json');
  analysis = run.analysis;
  data = buildChartData(run.manifest, run.trials, analysis);
  view = buildReportView(run.manifest, run.trials, { analysis });
  rendered = await renderCharts(view);
});

const completed = (trials: readonly TrialResult[]) =>
  trials.filter((t): t is CompletedTrial => t.status === 'completed');

const growStep = () => analysis.steps.find((s) => s.id === '4-grow-pool');

describe('the charts of a real tune', () => {
  it('draws all seven, in the order of the method, and leaves nothing out', () => {
    expect(rendered.map((c) => c.id)).toEqual([
      'throughput',
      'latency',
      'errors',
      'idle-churn',
      'latency-load',
      'pool-use',
      'sockets',
    ]);
    expect(data.notDrawn).toEqual([]);
    expect(data.notPlotted).toEqual([]);
    for (const chart of rendered) {
      expect(chart.svg.startsWith('<svg')).toBe(true);
      expect(chart.svg).toMatch(/class="mark-(line|symbol|area)/);
      expect(chart.warnings).toEqual([]);
      expect(chart.title).not.toBe('');
      // One sentence each: what to look for, and what the chart shows for a screen reader.
      expect(chart.caption).toMatch(/^[A-Z].*\.$/);
      expect(chart.caption.split(/\.\s+[A-Z]/)).toHaveLength(1);
      expect(chart.description).toMatch(/^Chart .*\.$/);
    }
  });

  it('takes the throughput curves from the grow step only', () => {
    const pool = data.poolSize[0];
    const growIds = new Set(growStep()?.trials);
    // Repetitions and the outliers the analysis flagged, drawn apart: every grow trial, once.
    const plotted = [...(pool?.repetitions ?? []), ...(pool?.outliers ?? [])].map((r) => r.trialId);
    expect(plotted).toHaveLength(growIds.size);
    expect(plotted.every((id) => growIds.has(id))).toBe(true);
    expect(pool?.sizes.map((s) => s.n)).toEqual([1, 2, 4, 6, 7, 8, 12, 16, 32]);
    expect(pool?.sizes.map((s) => s.trialIds.length)).toEqual([3, 3, 3, 3, 3, 3, 3, 3, 3]);
  });

  it('keeps the fitted USL curve inside its bootstrap band, and the band has a width', () => {
    const usl = data.poolSize[0]?.usl;
    expect(usl?.quality).toBe('good');
    expect(usl?.resamples).toBe(200);
    const curve = usl?.curve ?? [];
    expect(curve.length).toBeGreaterThan(20);
    for (const point of curve) {
      expect(point.low).toBeLessThanOrEqual(point.fit);
      expect(point.fit).toBeLessThanOrEqual(point.high);
    }
    expect(curve.every((p) => p.high > p.low)).toBe(true);
    // The grid spans the measured sizes, in order.
    expect(curve[0]?.n).toBe(1);
    expect(curve.at(-1)?.n).toBe(32);
    expect(curve.every((p, i) => i === 0 || p.n > (curve[i - 1]?.n ?? 0))).toBe(true);
  });

  it('marks the knee at the recommended size, and the Kneedle knee the analysis reports', () => {
    const pool = data.poolSize[0];
    const size = analysis.recommendations[0]?.knobs.find((k) => k.role === 'size')?.value;
    expect(size).toBe(12);
    expect(pool?.recommended).toBe(size);
    expect(pool?.ticks).toContain(12);
    const kneedleLine = growStep()?.saw.find((line) => line.startsWith('knee by Kneedle'));
    expect(kneedleLine).toMatch(/: 11$/);
    expect(pool?.kneedle).toBe(11);
    const throughput = rendered.find((c) => c.id === 'throughput');
    expect(throughput?.svg).toContain('recommended 12');
    expect(throughput?.svg).toContain('Kneedle knee 11');
    expect(throughput?.svg).toContain('mark-rule');
  });

  it('puts p95 between p50 and p99 at every size and every load', () => {
    const rows = [...(data.poolSize[0]?.sizes ?? []), ...(data.latencyLoad?.points ?? [])];
    expect(rows.length).toBeGreaterThan(9);
    for (const row of rows) {
      expect(row.p95Ms).not.toBeNull();
      expect(row.p50Ms).toBeLessThanOrEqual(row.p95Ms ?? Number.NaN);
      expect(row.p95Ms ?? Number.NaN).toBeLessThanOrEqual(row.p99Ms);
    }
    // Strictly inside for a real latency distribution.
    expect(rows.some((r) => (r.p95Ms ?? 0) > r.p50Ms && (r.p95Ms ?? 0) < r.p99Ms)).toBe(true);
  });

  it('counts the error rate by kind as the analysis does', () => {
    const grow = new Set(growStep()?.trials);
    // Give two of the size-4 repetitions errors: a transport error adds to the attempts, a 503 does not.
    const trials = run.trials.map((t) => {
      if (t.status !== 'completed' || !grow.has(t.id) || t.knobs.max !== 4 || t.repetition > 2) return t;
      return {
        ...t,
        client: { ...t.client, ok: t.client.requests - 5, errors: { 'status:503': 5, timeout: 10 } },
      };
    });
    const errors = buildChartData(run.manifest, trials, analysis).poolSize[0]?.errors ?? [];
    const atFour = completed(trials).filter((t) => grow.has(t.id) && t.knobs.max === 4);
    const attempts = atFour.reduce((sum, t) => sum + t.client.requests, 0) + 20;
    const rate = (kind: string) => errors.find((p) => p.n === 4 && p.kind === kind)?.rate;
    expect(rate(ALL_ERRORS)).toBeCloseTo(pointStats(atFour)?.errorRate ?? Number.NaN, 6);
    expect(rate(ALL_ERRORS)).toBeCloseTo(30 / attempts, 6);
    expect(rate('timeout')).toBeCloseTo(20 / attempts, 6);
    expect(rate('status:503')).toBeCloseTo(10 / attempts, 6);
    expect(errors.filter((p) => p.n === 8).every((p) => p.rate === 0)).toBe(true);
  });

  it('draws the no-error case as a flat line at zero and says so', () => {
    const errors = data.poolSize[0]?.errors ?? [];
    expect(errors.map((p) => p.kind)).toEqual(Array(9).fill(ALL_ERRORS));
    expect(errors.every((p) => p.rate === 0)).toBe(true);
    expect(rendered.find((c) => c.id === 'errors')?.caption).toMatch(/^No request failed at any size/);
  });

  it('sweeps the idle timeout against churn, with never-closing as the reference', () => {
    const idle = data.idleChurn[0];
    expect(idle?.knob).toBe('idleTimeoutMillis');
    expect(idle?.unit).toBe('ms');
    expect(idle?.points.map((p) => p.timeout)).toEqual([1500, 4500, 9000]);
    expect(idle?.never).toBe(0);
    expect(idle?.acceptable).toBe(0.5);
    expect(idle?.recommended).toBe(4500);
    // Churn falls as the timeout grows: 18 connections in 9 s at 1.5 s.
    expect(idle?.points[0]?.churnPerSec).toBe(2);
    const churn = idle?.points.map((p) => p.churnPerSec) ?? [];
    expect(churn.every((c, i) => i === 0 || c <= (churn[i - 1] ?? 0))).toBe(true);
  });

  it('plots latency against offered load at the recommended settings only', () => {
    const load = data.latencyLoad;
    expect(load?.points.map((p) => [p.scenario, p.trialIds])).toEqual([
      ['steady@300', ['t046', 't047', 't048']],
      ['burst@2250', ['t043', 't044', 't045']],
      ['peak@1500', ['t040', 't041', 't042']],
    ]);
    expect(load?.sloP99Ms).toBe(250);
  });

  it('shows pool use and socket states of a typical peak trial, in time order', () => {
    const poolUse = data.poolUse;
    const sockets = data.sockets;
    // t040–t042 at the recommended settings; t042 has the median p99 of the three.
    expect(poolUse?.trialId).toBe('t042');
    expect(sockets?.trialId).toBe('t042');
    expect(poolUse?.poolMax).toBe(12);
    const trial = completed(run.trials).find((t) => t.id === 't042');
    expect(poolUse?.samples).toHaveLength(trial?.server.samples.length ?? -1);
    for (const series of [poolUse?.samples ?? [], sockets?.samples ?? []]) {
      expect(series.length).toBeGreaterThan(10);
      expect(series.every((s, i) => i === 0 || s.t > (series[i - 1]?.t ?? 0))).toBe(true);
    }
    // Warm-up included at negative times; active + idle is the pool's total, never above its max.
    expect(poolUse?.samples[0]?.t).toBeLessThan(0);
    expect(poolUse?.samples.every((s) => s.active >= 0 && s.active + s.idle <= 12)).toBe(true);
    const svg = rendered.find((c) => c.id === 'pool-use')?.svg ?? '';
    expect(svg).toContain('80% of max');
    // Lines only on the time series: no symbol per sample (the legend's symbols are another role).
    expect(svg).toContain('class="mark-line role-mark');
    expect(svg).not.toContain('class="mark-symbol role-mark');
  });

  it('is deterministic: the same run gives the same data and the same SVG', async () => {
    expect(buildChartData(run.manifest, run.trials, analysis)).toEqual(data);
    const again = await renderCharts(buildReportView(run.manifest, run.trials, { analysis }));
    expect(again.map((c) => c.svg)).toEqual(rendered.map((c) => c.svg));
  });

  it('keeps the page within its size budget', () => {
    const html = renderReportHtml(view, rendered);
    expect(html.length).toBeLessThan(1.5 * 1024 * 1024);
    for (const chart of rendered) expect(chart.svg.length).toBeLessThan(60_000);
  });
});

describe('charts without their data', () => {
  it('leaves out the socket and pool-use charts, with a reason, when nothing was sampled', async () => {
    const trials = run.trials.map((t) =>
      t.status === 'completed'
        ? { ...t, server: { ...t.server, samples: t.server.samples.map(({ atMs }) => ({ atMs })) } }
        : t,
    );
    const stripped = buildReportView(run.manifest, trials, { analysis });
    expect(stripped.charts.sockets).toBeNull();
    expect(stripped.charts.poolUse).toBeNull();
    expect(stripped.charts.notDrawn).toEqual([
      {
        id: 'pool-use',
        title: 'Pool use during the peak test',
        reason: 'the target exposed no pool figures during t042',
      },
      {
        id: 'sockets',
        title: 'Socket states during the peak test',
        reason: 'socket states were not collected during t042',
      },
    ]);
    const charts = await renderCharts(stripped);
    expect(charts.map((c) => c.id)).not.toContain('sockets');
    const html = renderReportHtml(stripped, charts);
    expect(html).not.toContain('id="chart-sockets"');
    expect(html).toContain('Not drawn, because there is no data for them:');
    expect(html).toContain(
      'Socket states during the peak test (socket states were not collected during t042)',
    );
  });

  it('leaves out the idle-timeout chart when its trials failed, and the load chart with one load', () => {
    const idleIds = new Set(analysis.steps.find((s) => s.id === '5-idle-timeout')?.trials);
    const trials = run.trials.map((t): TrialResult => {
      if (idleIds.has(t.id)) return { ...t, status: 'errored', error: 'target crashed', logTail: [] };
      // Only the peak scenario stays open-model at the recommended settings.
      if (t.scenario !== 'peak@1500' && t.status === 'completed') {
        const { offeredRate: _offered, ...client } = t.client;
        return { ...t, client };
      }
      return t;
    });
    const charts = buildChartData(run.manifest, trials, analysis);
    expect(charts.idleChurn).toEqual([]);
    expect(charts.latencyLoad).toBeNull();
    expect(charts.notDrawn.map((n) => [n.id, n.reason])).toEqual([
      ['idle-churn', 'no idle-timeout trial of pool pg completed'],
      ['latency-load', 'only one open-model load was measured at the recommended settings'],
    ]);
  });

  it('draws no pool-size chart for a grow step with no completed trial, and says why', () => {
    const grow = new Set(growStep()?.trials);
    const trials = run.trials.map(
      (t): TrialResult => (grow.has(t.id) ? { ...t, status: 'aborted', reason: 'SIGINT' } : t),
    );
    const charts = buildChartData(run.manifest, trials, analysis);
    expect(charts.poolSize).toEqual([]);
    expect(charts.notDrawn.slice(0, 3).map((n) => n.id)).toEqual(['throughput', 'latency', 'errors']);
    expect(charts.notDrawn[0]?.reason).toBe("no trial of pool pg's grow step completed");
    expect(charts.notPlotted).toHaveLength(27);
  });

  it('draws the fit, knee and plateau the analysis recorded, and recomputes nothing', () => {
    const recorded = analysis.sizes?.[0];
    if (recorded?.fit === null || recorded === undefined) throw new Error('the fixture records a fit');
    const pool = data.poolSize[0];
    expect(pool?.usl).toEqual(recorded.fit);
    expect(pool?.kneedle).toBe(recorded.kneedle);
    expect(pool?.plateau).toEqual({ low: recorded.plateau[0], high: recorded.plateau.at(-1) });
    // A planted poor fit is drawn as recorded, and said to be poor.
    const planted = {
      ...recorded.fit,
      quality: 'poor' as const,
      reason: 'only 4 distinct sizes were measured',
    };
    const poor = buildChartData(run.manifest, run.trials, {
      ...analysis,
      sizes: [{ ...recorded, fit: planted, kneedle: 3 }],
    }).poolSize[0];
    expect(poor?.usl).toEqual(planted);
    expect(poor?.kneedle).toBe(3);
    const poorSpec = chartSpecs({
      ...view,
      charts: { ...data, poolSize: poor === undefined ? [] : [poor] },
    })[0];
    expect(poorSpec?.caption).toContain('a poor fit: only 4 distinct sizes');
    // Without a recorded fit there is no curve, whatever the trials would allow.
    const none = buildChartData(run.manifest, run.trials, {
      ...analysis,
      sizes: [{ ...recorded, fit: null, kneedle: null }],
    }).poolSize[0];
    expect(none?.usl).toBeNull();
    const noneSpec = chartSpecs({
      ...view,
      charts: { ...data, poolSize: none === undefined ? [] : [none] },
    })[0];
    expect(noneSpec?.caption).toContain('too few sizes were measured for a USL fit');
  });

  it('draws only the swept knob without an analysis (a plain run)', () => {
    const charts = buildChartData(run.manifest, run.trials);
    expect(charts.poolSize).toHaveLength(1);
    expect(charts.poolSize[0]?.pool).toBeNull();
    expect(charts.poolSize[0]?.usl).toBeNull();
    expect(chartSpecs({ ...view, charts }).map((c) => c.id)).toEqual(['throughput', 'latency']);
    expect(charts.notDrawn).toEqual([]);
  });
});

describe('several pools', () => {
  it('draws one set of pool-size charts per pool, ids suffixed with the pool name', () => {
    const pg = run.manifest.target.pools?.[0];
    if (pg === undefined) throw new Error('the fixture names its pool');
    const manifest: Manifest = {
      ...run.manifest,
      target: { ...run.manifest.target, pools: [pg, { ...pg, name: 'Cache Pool' }] },
    };
    const second = analysis.steps.filter((s) => s.pool === 'pg').map((s) => ({ ...s, pool: 'Cache Pool' }));
    const twoPools: MethodOutcome = {
      ...(analysis.sizes === undefined ? {} : { sizes: analysis.sizes }),
      steps: [...analysis.steps, ...second],
      recommendations: [
        ...analysis.recommendations,
        ...analysis.recommendations.map((r) => ({ ...r, pool: 'Cache Pool' })),
      ],
    };
    const charts = buildChartData(manifest, run.trials, twoPools);
    const ids = chartSpecs({ ...view, charts }).map((c) => c.id);
    expect(ids).toEqual([
      'throughput-pg',
      'latency-pg',
      'errors-pg',
      'throughput-cache-pool',
      'latency-cache-pool',
      'errors-cache-pool',
      'idle-churn-pg',
      'idle-churn-cache-pool',
      'latency-load',
      'pool-use',
      'sockets',
    ]);
    expect(charts.poolSize.map((p) => p.titles.throughput)).toEqual([
      'Throughput against pool size: pool pg',
      'Throughput against pool size: pool Cache Pool',
    ]);
    // Each pool's curve is its own recorded analysis: the second pool has none recorded.
    expect(charts.poolSize.map((p) => p.usl === null)).toEqual([false, true]);
  });
});

describe('bounded work', () => {
  it('thins a long time series to bucket maxima, in order', () => {
    const samples = Array.from({ length: 2_000 }, (_, i) => ({ t: i / 4, active: i === 1_001 ? 99 : i % 7 }));
    const thinned = thin(samples, ['active']);
    expect(thinned).toHaveLength(MAX_SERIES_POINTS);
    expect(thinned.every((s, i) => i === 0 || s.t > (thinned[i - 1]?.t ?? 0))).toBe(true);
    expect(Math.max(...thinned.map((s) => s.active))).toBe(99);
    expect(thin(samples.slice(0, 10), ['active'])).toEqual(samples.slice(0, 10));
  });
});
