import { type CoresRule, coresRule } from '../analysis/cores-rule.ts';
import { decodeHistogram } from '../analysis/histogram.ts';
import { pointStats } from '../analysis/point-stats.ts';
import { median } from '../analysis/statistics.ts';
import { acceptableChurn } from '../analysis/thresholds.ts';
import type { Manifest } from '../results/manifest.ts';
import type { CompletedTrial, MeasuredTrial, TrialResult } from '../results/trial.ts';
import type { MethodOutcome, PoolRecommendation, SizeAnalysis, UslBand } from '../tuning/outcome.ts';

export type { UslBand };

import { stepIds } from '../tuning/step.ts';
import { type DatabaseCores, databaseCores } from './database-cores.ts';

/** A chart left out, with why: the report lists it instead of drawing an empty chart. */
export interface NotDrawn {
  readonly id: string;
  readonly title: string;
  readonly reason: string;
}

/** One pool size (or swept knob value): the medians over its completed repetitions. */
export interface SizeMedian {
  readonly n: number;
  readonly throughput: number;
  readonly p50Ms: number;
  /** From the repetitions' HDR histograms; null when none could be read. */
  readonly p95Ms: number | null;
  readonly p99Ms: number;
  readonly trialIds: readonly string[];
}

/** One completed repetition's throughput, drawn as a small mark behind the medians. */
export interface Repetition {
  readonly n: number;
  readonly throughput: number;
  readonly trialId: string;
}

/** A trial that carries figures but is left out of the lines (invalid): drawn as a separate mark. */
export interface ExcludedPoint {
  readonly trialId: string;
  readonly n: number;
  readonly throughput: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
}

/** One error kind's share of the attempts at one size. */
export interface ErrorPoint {
  readonly n: number;
  /** An error kind (`timeout`, `status:503`, ...), or {@link ALL_ERRORS}. */
  readonly kind: string;
  readonly rate: number;
}

/** The series holding every error kind together. */
export const ALL_ERRORS = 'all errors';

/** What the pool-size charts (throughput, latency, errors) draw for one pool. */
export interface PoolSizeData {
  /** The pool's name; null for a run without a grow step, where the swept knob stands in. */
  readonly pool: string | null;
  /** Chart ids: `throughput`, `latency`, `errors`, suffixed `-<pool>` when the target has several pools. */
  readonly ids: PoolChartNames;
  /** The same charts' titles (naming the pool when there are several). */
  readonly titles: PoolChartNames;
  readonly knob: string;
  /** log2 when every plotted value is positive (pool sizes), linear otherwise. */
  readonly scale: 'log2' | 'linear';
  /** Axis ticks, ascending. */
  readonly ticks: readonly number[];
  readonly sizes: readonly SizeMedian[];
  readonly repetitions: readonly Repetition[];
  readonly excluded: readonly ExcludedPoint[];
  /** The analysis's USL fit with its band (as recorded in analysis.json); null without one. */
  readonly usl: UslBand | null;
  /** The size the method recommends for this pool, when it recommends one. */
  readonly recommended: number | null;
  /** The knee by Kneedle on the fitted curve (log x), as the analysis found it. */
  readonly kneedle: number | null;
  /** The plateau's range as the analysis decided it (sizes equivalent to the best); null without one. */
  readonly plateau: { readonly low: number; readonly high: number } | null;
  /** Repetitions the analysis flagged as outliers (drawn apart, left out of its figures). */
  readonly outliers: readonly Repetition[];
  /** Error rate by kind per size; null without a grow step (a plain run draws no error chart). */
  readonly errors: readonly ErrorPoint[] | null;
  /**
   * The recommended size (the measured knee) against the guide's "cores × 2": database pools with a
   * recommended size only, null otherwise (HTTP pools, plain runs).
   */
  readonly coresRule: CoresRule | null;
}

/** A name for each of the pool-size charts. */
export interface PoolChartNames {
  readonly throughput: string;
  readonly latency: string;
  readonly errors: string;
}

/** One idle timeout tried in step 5: the connections opened per second it cost. */
export interface IdlePoint {
  /** The knob's value, in the knob's unit; never 0 (0 is "never close", drawn as a reference line). */
  readonly timeout: number;
  readonly churnPerSec: number;
  readonly trialIds: readonly string[];
}

/** Step 5's sweep of the idle timeout against connection churn, for one pool. */
export interface IdleChurnData {
  readonly id: string;
  readonly title: string;
  readonly pool: string;
  readonly knob: string;
  /** The knob's unit (`ms`, `s`), or `` when unknown. */
  readonly unit: string;
  readonly points: readonly IdlePoint[];
  readonly repetitions: readonly {
    readonly timeout: number;
    readonly churnPerSec: number;
    readonly trialId: string;
  }[];
  /** Churn when connections are never closed for idleness (timeout 0), when it was measured. */
  readonly never: number | null;
  /** The highest churn the step accepts (within the tolerance of never closing), when `never` is known. */
  readonly acceptable: number | null;
  readonly recommended: number | null;
}

/** One open-model scenario at the recommended settings: offered load and latency. */
export interface LoadPoint {
  readonly scenario: string;
  readonly offeredRate: number;
  readonly throughput: number;
  readonly p50Ms: number;
  readonly p95Ms: number | null;
  readonly p99Ms: number;
  readonly trialIds: readonly string[];
}

/** Latency against offered load at the recommended settings. */
export interface LatencyLoadData {
  readonly id: string;
  readonly points: readonly LoadPoint[];
  /** The SLO's p99 (ms), drawn as a reference line, when the run has one. */
  readonly sloP99Ms: number | null;
}

/** One sample of the pool during the peak test; `t` in seconds from the start of measurement. */
export interface PoolUseSample {
  readonly t: number;
  readonly active: number;
  readonly idle: number;
  readonly waiting: number;
}

/** One sample of the socket states during the peak test; `t` in seconds from the start of measurement. */
export interface SocketSample {
  readonly t: number;
  readonly established: number;
  readonly timeWait: number;
  readonly closeWait: number;
}

/** A trial's samples over time (warm-up included, at negative `t`). */
export interface TimeSeriesData<Sample> {
  readonly id: string;
  readonly trialId: string;
  readonly scenario: string;
  readonly samples: readonly Sample[];
  /** The pool's maximum size in that trial, when known (the pool-use chart marks it and 80% of it). */
  readonly poolMax: number | null;
  /** True when the samples were thinned to keep the SVG small (each kept sample is a bucket's maximum). */
  readonly thinned: boolean;
}

/** Everything the report's charts draw, as plain numbers. Pure data: the specs are in `charts.ts`. */
export interface ChartData {
  readonly poolSize: readonly PoolSizeData[];
  readonly idleChurn: readonly IdleChurnData[];
  readonly latencyLoad: LatencyLoadData | null;
  readonly poolUse: TimeSeriesData<PoolUseSample> | null;
  readonly sockets: TimeSeriesData<SocketSample> | null;
  /** Step 8's probes, when the capacity search ran. */
  readonly capacity: CapacityChartData | null;
  /** Charts a tune would draw but this run has no data for, with why. */
  readonly notDrawn: readonly NotDrawn[];
  /** One line per trial of the pool-size charts that is in neither the lines nor the excluded marks. */
  readonly notPlotted: readonly string[];
}

/** Chart titles, by the chart's base id (shared with the specs, so a chart and its "not drawn" line agree). */
export const CHART_TITLES = {
  throughput: 'Throughput against pool size',
  latency: 'Latency (p50, p95, p99) against pool size',
  errors: 'Error rate by kind against pool size',
  'idle-churn': 'Idle timeout against connection churn',
  'latency-load': 'Latency against offered load at the recommended settings',
  'pool-use': 'Pool use during the peak test',
  sockets: 'Socket states during the peak test',
  'capacity-p99': 'p99 against offered rate in the capacity search',
  'capacity-achieved': 'Completed against offered rate in the capacity search',
} as const;

/** One probe of the capacity search as drawn: its order in its setting's search is the bracket's step. */
export interface CapacityChartPoint {
  readonly settings: string;
  readonly step: number;
  readonly rate: number;
  readonly p99Ms: number | null;
  /** Completed over offered. */
  readonly sustained: number | null;
  readonly verdict: 'pass' | 'fail' | 'invalid';
  readonly validation: boolean;
  readonly trial: string;
}

/** The capacity search's probes, the SLO and each setting's answer. */
export interface CapacityChartData {
  readonly points: readonly CapacityChartPoint[];
  readonly sloP99Ms: number;
  readonly minSustained: number;
  readonly capacities: readonly { readonly settings: string; readonly rate: number }[];
}

/** The capacity charts' data from step 8's outcome (pure); null when it did not run. */
export function capacityChartData(analysis: MethodOutcome | undefined): CapacityChartData | null {
  const outcome = analysis?.capacity;
  if (outcome === undefined || outcome.results.length === 0) return null;
  return {
    points: outcome.results.flatMap((result) =>
      result.probes.map((p, i) => ({
        settings: result.label,
        step: i + 1,
        rate: p.rate,
        p99Ms: p.p99Ms,
        sustained: p.sustained,
        verdict: p.verdict,
        validation: p.validation,
        trial: p.trial,
      })),
    ),
    sloP99Ms: outcome.slo.p99Ms,
    minSustained: outcome.minSustained,
    capacities: outcome.results.flatMap((r) =>
      r.capacity === null ? [] : [{ settings: r.label, rate: r.capacity }],
    ),
  };
}

/** Longest time series drawn as is; longer ones are thinned to this many buckets. */
export const MAX_SERIES_POINTS = 300;

/** Builds the charts' data from a run's manifest, trials and analysis. Pure and deterministic. */
export function buildChartData(
  manifest: Manifest,
  trials: readonly TrialResult[],
  analysis?: MethodOutcome,
): ChartData {
  return { ...methodChartData(manifest, trials, analysis), capacity: capacityChartData(analysis) };
}

function methodChartData(
  manifest: Manifest,
  trials: readonly TrialResult[],
  analysis?: MethodOutcome,
): Omit<ChartData, 'capacity'> {
  const growSteps = (analysis?.steps ?? []).filter(
    (step) => step.id === stepIds.grow && step.pool !== undefined,
  );
  if (analysis === undefined || growSteps.length === 0) return sweepFallback(manifest, trials);

  const byId = new Map(trials.map((trial) => [trial.id, trial]));
  const stepTrials = (ids: readonly string[]) =>
    ids.map((id) => byId.get(id)).filter((t): t is TrialResult => t !== undefined);
  const pools = growSteps.map((step) => step.pool ?? '');
  const several = pools.length > 1;
  const suffix = (pool: string) => (several ? `-${slug(pool)}` : '');
  const notDrawn: NotDrawn[] = [];
  const notPlotted: string[] = [];
  const poolSize: PoolSizeData[] = [];
  const idleChurn: IdleChurnData[] = [];

  for (const step of growSteps) {
    const pool = step.pool ?? '';
    const rec = analysis.recommendations.find((r) => r.pool === pool);
    const knob = sizeKnob(manifest, pool, rec);
    const ids = {
      throughput: `throughput${suffix(pool)}`,
      latency: `latency${suffix(pool)}`,
      errors: `errors${suffix(pool)}`,
    };
    const titles = {
      throughput: titled('throughput', pool, several),
      latency: titled('latency', pool, several),
      errors: titled('errors', pool, several),
    };
    const grow = stepTrials(step.trials);
    const data =
      knob === undefined
        ? undefined
        : poolSizeData(
            pool,
            { ids, titles },
            knob,
            grow,
            rec,
            analysis.sizes?.find((size) => size.pool === pool),
            databaseCores(manifest, pool),
          );
    if (data === undefined || (data.sizes.length === 0 && data.excluded.length === 0)) {
      const reason =
        knob === undefined
          ? `the manifest does not say which knob sizes pool ${pool}`
          : `no trial of pool ${pool}'s grow step completed`;
      for (const base of ['throughput', 'latency', 'errors'] as const) {
        notDrawn.push({ id: ids[base], title: titles[base], reason });
      }
    } else {
      poolSize.push(data);
      if (data.sizes.length === 0) {
        notDrawn.push({
          id: ids.errors,
          title: titles.errors,
          reason: `no trial of pool ${pool}'s grow step completed`,
        });
      }
    }
    if (knob !== undefined) {
      for (const line of unplotted(grow, knob)) notPlotted.push(several ? `pool ${pool}: ${line}` : line);
    }

    const idleId = `idle-churn${suffix(pool)}`;
    const idleTitle = titled('idle-churn', pool, several);
    const idle = idleChurnData({ id: idleId, title: idleTitle }, manifest, pool, rec, analysis, stepTrials);
    if ('reason' in idle) {
      notDrawn.push({ id: idleId, title: idleTitle, reason: idle.reason });
    } else idleChurn.push(idle);
  }

  const recommended = recommendedKnobs(analysis.recommendations);
  const load = latencyLoadData(manifest, trials, recommended);
  if ('reason' in load) {
    notDrawn.push({ id: 'latency-load', title: CHART_TITLES['latency-load'], reason: load.reason });
  }
  const peak = peakTrial(trials, recommended);
  const poolUse = peak === undefined ? undefined : poolUseSeries(peak, manifest);
  const sockets = peak === undefined ? undefined : socketSeries(peak);
  const noPeak = 'no peak-load trial completed';
  if (poolUse === undefined) {
    notDrawn.push({
      id: 'pool-use',
      title: CHART_TITLES['pool-use'],
      reason: peak === undefined ? noPeak : `the target exposed no pool figures during ${peak.id}`,
    });
  }
  if (sockets === undefined) {
    notDrawn.push({
      id: 'sockets',
      title: CHART_TITLES.sockets,
      reason: peak === undefined ? noPeak : `socket states were not collected during ${peak.id}`,
    });
  }
  return {
    poolSize,
    idleChurn,
    latencyLoad: 'reason' in load ? null : load,
    poolUse: poolUse ?? null,
    sockets: sockets ?? null,
    notDrawn,
    notPlotted,
  };
}

function titled(base: keyof typeof CHART_TITLES, pool: string, several: boolean): string {
  return several ? `${CHART_TITLES[base]}: pool ${pool}` : CHART_TITLES[base];
}

/** A pool name as an HTML id part: lower case letters, digits and dashes. */
function slug(name: string): string {
  return (
    name
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-|-$/g, '') || 'pool'
  );
}

function sizeKnob(manifest: Manifest, pool: string, rec: PoolRecommendation | undefined): string | undefined {
  return (
    manifest.target.pools?.find((p) => p.name === pool)?.knobs.size ??
    rec?.knobs.find((k) => k.role === 'size')?.knob ??
    manifest.sweep?.knob
  );
}

/** A run without a grow step in its analysis: throughput and latency against the swept knob, as measured. */
function sweepFallback(manifest: Manifest, trials: readonly TrialResult[]): Omit<ChartData, 'capacity'> {
  const empty = { idleChurn: [], latencyLoad: null, poolUse: null, sockets: null, notDrawn: [] };
  const knob = manifest.sweep?.knob;
  if (knob === undefined) return { ...empty, poolSize: [], notPlotted: [] };
  // A tune runs many scenarios; the curves are those of the pool-growing step (same scenario throughout).
  const swept = trials.some((t) => t.step === stepIds.grow)
    ? trials.filter((t) => t.step === stepIds.grow)
    : trials;
  const { sizes, repetitions, excluded } = measuredSizes(swept, knob);
  if (sizes.length === 0 && excluded.length === 0)
    return { ...empty, poolSize: [], notPlotted: unplotted(swept, knob) };
  const values = [...sizes.map((s) => s.n), ...excluded.map((p) => p.n)];
  const ticks = [...new Set([...(manifest.sweep?.values ?? []), ...values])].sort((a, b) => a - b);
  return {
    ...empty,
    poolSize: [
      {
        pool: null,
        ids: { throughput: 'throughput', latency: 'latency', errors: 'errors' },
        // A plain run: the swept knob stands in for the pool size.
        titles: {
          throughput: `Throughput against ${knob}`,
          latency: `Latency (${sizes.some((s) => s.p95Ms !== null) ? 'p50, p95, p99' : 'p50, p99'}) against ${knob}`,
          errors: `Error rate by kind against ${knob}`,
        },
        knob,
        scale: ticks.every((v) => v > 0) ? 'log2' : 'linear',
        ticks,
        sizes,
        repetitions,
        excluded,
        usl: null,
        recommended: null,
        kneedle: null,
        plateau: null,
        outliers: [],
        errors: null,
        coresRule: null,
      },
    ],
    notPlotted: unplotted(swept, knob),
  };
}

/** Completed trials grouped by the knob's value (medians), and invalid ones apart. */
function measuredSizes(
  trials: readonly TrialResult[],
  knob: string,
): { sizes: SizeMedian[]; repetitions: Repetition[]; excluded: ExcludedPoint[] } {
  const byN = new Map<number, CompletedTrial[]>();
  const excluded: ExcludedPoint[] = [];
  for (const trial of trials) {
    const n = trial.knobs[knob];
    if (typeof n !== 'number') continue;
    if (trial.status === 'completed') byN.set(n, [...(byN.get(n) ?? []), trial]);
    else if (trial.status === 'invalid') {
      const { throughput, latency } = trial.client;
      excluded.push({ trialId: trial.id, n, throughput, p50Ms: latency.p50, p99Ms: latency.p99 });
    }
  }
  const sizes = [...byN]
    .sort(([a], [b]) => a - b)
    .map(([n, group]) => ({
      n,
      throughput: medianOf(group.map((t) => t.client.throughput)),
      p50Ms: medianOf(group.map((t) => t.client.latency.p50)),
      p95Ms: p95Of(group),
      p99Ms: medianOf(group.map((t) => t.client.latency.p99)),
      trialIds: group.map((t) => t.id),
    }));
  const repetitions = [...byN]
    .sort(([a], [b]) => a - b)
    .flatMap(([n, group]) => group.map((t) => ({ n, throughput: t.client.throughput, trialId: t.id })));
  return { sizes, repetitions, excluded };
}

/** Trials that are in neither the lines nor the excluded marks, with why. */
function unplotted(trials: readonly TrialResult[], knob: string): string[] {
  const lines: string[] = [];
  for (const trial of trials) {
    const value = trial.knobs[knob];
    const at = `${trial.id} (${knob} = ${value === undefined ? 'unset' : String(value)})`;
    if (typeof value !== 'number') lines.push(`${at}: ${trial.status}, knob value is not a number`);
    else if (trial.status === 'errored' || trial.status === 'aborted')
      lines.push(`${at}: ${trial.status}, no figures`);
  }
  return lines;
}

function poolSizeData(
  pool: string,
  names: { ids: PoolChartNames; titles: PoolChartNames },
  knob: string,
  grow: readonly TrialResult[],
  rec: PoolRecommendation | undefined,
  analysed: SizeAnalysis | undefined,
  cores: DatabaseCores | undefined,
): PoolSizeData {
  const { sizes, repetitions, excluded } = measuredSizes(grow, knob);
  // The analysis decided which repetitions are outliers; the chart draws them apart, as recorded.
  const flagged = new Set(
    (analysed?.sizes ?? []).flatMap((size) => size.runs.filter((run) => run.outlier).map((run) => run.id)),
  );
  const recommendedSize = rec?.knobs.find((k) => k.role === 'size')?.value ?? analysed?.recommended ?? null;
  const measuredNs = [...sizes.map((s) => s.n), ...excluded.map((p) => p.n)];
  const low = Math.min(...measuredNs);
  const high = Math.max(...measuredNs);
  const positive = measuredNs.every((n) => n > 0);
  const ticks = positive
    ? powerTicks(low, high, recommendedSize)
    : [...new Set(measuredNs)].sort((a, b) => a - b);
  const plateau = analysed?.plateau ?? [];
  return {
    pool,
    ...names,
    knob,
    scale: positive ? 'log2' : 'linear',
    ticks,
    sizes,
    repetitions: repetitions.filter((r) => !flagged.has(r.trialId)),
    outliers: repetitions.filter((r) => flagged.has(r.trialId)),
    excluded,
    usl: analysed?.fit ?? null,
    recommended: recommendedSize,
    kneedle: analysed?.kneedle ?? null,
    plateau: plateau.length === 0 ? null : { low: plateau[0] as number, high: plateau.at(-1) as number },
    errors: errorPoints(grow, knob),
    coresRule:
      cores === undefined || recommendedSize === null
        ? null
        : coresRule(cores.cores, recommendedSize, cores.source),
  };
}

/** Powers of two between the smallest and largest size, both ends, and the recommended size. */
function powerTicks(low: number, high: number, recommended: number | null): number[] {
  const ticks = new Set<number>([low, high]);
  for (let v = 2 ** Math.ceil(Math.log2(low)); v <= high; v *= 2) ticks.add(v);
  if (recommended !== null && recommended >= low && recommended <= high) ticks.add(recommended);
  return [...ticks].sort((a, b) => a - b);
}

/** Error rate by kind at each size, counted as the analysis counts it (transport errors add to attempts). */
function errorPoints(grow: readonly TrialResult[], knob: string): ErrorPoint[] {
  const byN = new Map<number, CompletedTrial[]>();
  for (const trial of grow) {
    const n = trial.knobs[knob];
    if (trial.status === 'completed' && typeof n === 'number') byN.set(n, [...(byN.get(n) ?? []), trial]);
  }
  const totals = new Map<string, number>();
  for (const trial of [...byN.values()].flat()) {
    for (const [kind, count] of Object.entries(trial.client.errors)) {
      if (count > 0) totals.set(kind, (totals.get(kind) ?? 0) + count);
    }
  }
  // The most frequent kinds get a line each; the rest share one, so the legend stays readable.
  const kinds = [...totals].sort(([a, m], [b, n]) => n - m || a.localeCompare(b)).map(([kind]) => kind);
  const shown = new Set(kinds.slice(0, 5));
  const points: ErrorPoint[] = [];
  for (const [n, group] of [...byN].sort(([a], [b]) => a - b)) {
    let attempts = 0;
    const counts = new Map<string, number>();
    for (const trial of group) {
      attempts += trial.client.requests;
      for (const [kind, count] of Object.entries(trial.client.errors)) {
        if (!kind.startsWith('status:')) attempts += count;
        const series = shown.has(kind) ? kind : 'other kinds';
        counts.set(series, (counts.get(series) ?? 0) + count);
      }
    }
    points.push({ n, kind: ALL_ERRORS, rate: round(pointStats(group)?.errorRate ?? 0) });
    for (const kind of [...shown, ...(kinds.length > shown.size ? ['other kinds'] : [])]) {
      points.push({ n, kind, rate: attempts === 0 ? 0 : round((counts.get(kind) ?? 0) / attempts) });
    }
  }
  return points;
}

function idleChurnData(
  name: { id: string; title: string },
  manifest: Manifest,
  pool: string,
  rec: PoolRecommendation | undefined,
  analysis: MethodOutcome,
  stepTrials: (ids: readonly string[]) => TrialResult[],
): IdleChurnData | { reason: string } {
  const knob =
    manifest.target.pools?.find((p) => p.name === pool)?.knobs.idleTimeout ??
    rec?.knobs.find((k) => k.role === 'idleTimeout')?.knob;
  if (knob === undefined) return { reason: `pool ${pool} has no idle-timeout knob` };
  const step = analysis.steps.find((s) => s.id === stepIds.idle && s.pool === pool);
  const trials = stepTrials(step?.trials ?? []).filter((t): t is CompletedTrial => t.status === 'completed');
  if (trials.length === 0) return { reason: `no idle-timeout trial of pool ${pool} completed` };
  const churnOf = (trial: MeasuredTrial) => {
    const opened = trial.server.pool?.connectionsOpened;
    return opened === undefined || trial.client.durationMs <= 0
      ? undefined
      : opened / (trial.client.durationMs / 1000);
  };
  const byTimeout = new Map<number, { churn: number; trialId: string }[]>();
  for (const trial of trials) {
    const timeout = trial.knobs[knob];
    const churn = churnOf(trial);
    if (typeof timeout !== 'number' || churn === undefined) continue;
    byTimeout.set(timeout, [...(byTimeout.get(timeout) ?? []), { churn, trialId: trial.id }]);
  }
  const points = [...byTimeout]
    .filter(([timeout]) => timeout > 0)
    .sort(([a], [b]) => a - b)
    .map(([timeout, runs]) => ({
      timeout,
      churnPerSec: round(medianOf(runs.map((r) => r.churn))),
      trialIds: runs.map((r) => r.trialId),
    }));
  if (points.length === 0) {
    return {
      reason: `the target exposed no connections-opened count during pool ${pool}'s idle-timeout trials`,
    };
  }
  const neverRuns = byTimeout.get(0);
  const never = neverRuns === undefined ? null : round(medianOf(neverRuns.map((r) => r.churn)));
  const recommended = rec?.knobs.find((k) => k.role === 'idleTimeout');
  return {
    ...name,
    pool,
    knob,
    unit: recommended?.unit ?? '',
    points,
    repetitions: [...byTimeout]
      .filter(([timeout]) => timeout > 0)
      .sort(([a], [b]) => a - b)
      .flatMap(([timeout, runs]) =>
        runs.map((r) => ({ timeout, churnPerSec: round(r.churn), trialId: r.trialId })),
      ),
    never,
    // The rule of step 5: within the tolerance of never closing, plus half a connection per second.
    acceptable: never === null ? null : round(acceptableChurn(never)),
    recommended: recommended !== undefined && recommended.value > 0 ? recommended.value : null,
  };
}

/** Every pool's recommended knob values together: the settings to ship. */
function recommendedKnobs(recommendations: readonly PoolRecommendation[]): ReadonlyMap<string, number> {
  return new Map(recommendations.flatMap((rec) => rec.knobs.map((k) => [k.knob, k.value] as const)));
}

function atRecommended(trial: TrialResult, recommended: ReadonlyMap<string, number>): boolean {
  return recommended.size > 0 && [...recommended].every(([knob, value]) => trial.knobs[knob] === value);
}

function latencyLoadData(
  manifest: Manifest,
  trials: readonly TrialResult[],
  recommended: ReadonlyMap<string, number>,
): LatencyLoadData | { reason: string } {
  if (recommended.size === 0) return { reason: 'the method recommended no settings' };
  const byScenario = new Map<string, CompletedTrial[]>();
  for (const trial of trials) {
    if (trial.status !== 'completed' || trial.client.offeredRate === undefined) continue;
    if (!atRecommended(trial, recommended)) continue;
    byScenario.set(trial.scenario, [...(byScenario.get(trial.scenario) ?? []), trial]);
  }
  const points = [...byScenario]
    .map(([scenario, group]) => ({
      scenario,
      offeredRate: medianOf(group.map((t) => t.client.offeredRate ?? 0)),
      throughput: medianOf(group.map((t) => t.client.throughput)),
      p50Ms: medianOf(group.map((t) => t.client.latency.p50)),
      p95Ms: p95Of(group),
      p99Ms: medianOf(group.map((t) => t.client.latency.p99)),
      trialIds: group.map((t) => t.id),
    }))
    .sort((a, b) => a.offeredRate - b.offeredRate || a.scenario.localeCompare(b.scenario));
  if (points.length < 2) {
    return {
      reason: `${points.length === 0 ? 'no' : 'only one'} open-model load was measured at the recommended settings`,
    };
  }
  return { id: 'latency-load', points, sloP99Ms: manifest.slo?.p99Ms ?? null };
}

/**
 * The peak test the time series show: a completed step-6 trial at the peak rate (`peak@…`), at the
 * recommended settings when one is, and of those the repetition with the median p99 (a typical run, not
 * the luckiest or the worst).
 */
function peakTrial(
  trials: readonly TrialResult[],
  recommended: ReadonlyMap<string, number>,
): CompletedTrial | undefined {
  const peaks = trials.filter(
    (t): t is CompletedTrial =>
      t.status === 'completed' && t.step === stepIds.peak && t.scenario.startsWith('peak@'),
  );
  const preferred = peaks.filter((t) => atRecommended(t, recommended));
  const pool = (preferred.length > 0 ? preferred : peaks).sort(
    (a, b) => a.client.latency.p99 - b.client.latency.p99 || a.id.localeCompare(b.id),
  );
  return pool[Math.floor((pool.length - 1) / 2)];
}

function poolUseSeries(trial: CompletedTrial, manifest: Manifest): TimeSeriesData<PoolUseSample> | undefined {
  const samples: PoolUseSample[] = [];
  for (const sample of [...trial.server.samples].sort((a, b) => a.atMs - b.atMs)) {
    if (sample.pool === undefined) continue;
    const { total, idle, waiting } = sample.pool;
    samples.push({ t: sample.atMs / 1000, active: Math.max(0, total - idle), idle, waiting });
  }
  if (samples.length < 2) return undefined;
  // The samples are the entry service's pool: its size is known when the target has one pool.
  const pools = manifest.target.pools ?? [];
  const sizeKnob =
    pools.length === 0 ? manifest.sweep?.knob : pools.length === 1 ? pools[0]?.knobs.size : undefined;
  const max = sizeKnob === undefined ? undefined : trial.knobs[sizeKnob];
  const thinned = thin(samples, ['active', 'idle', 'waiting']);
  return {
    id: 'pool-use',
    trialId: trial.id,
    scenario: trial.scenario,
    samples: thinned,
    poolMax: typeof max === 'number' ? max : null,
    thinned: thinned.length < samples.length,
  };
}

function socketSeries(trial: CompletedTrial): TimeSeriesData<SocketSample> | undefined {
  const samples: SocketSample[] = [];
  for (const sample of [...trial.server.samples].sort((a, b) => a.atMs - b.atMs)) {
    if (sample.sockets === undefined) continue;
    samples.push({ t: sample.atMs / 1000, ...sample.sockets });
  }
  if (samples.length < 2) return undefined;
  const thinned = thin(samples, ['established', 'timeWait', 'closeWait']);
  return {
    id: 'sockets',
    trialId: trial.id,
    scenario: trial.scenario,
    samples: thinned,
    poolMax: null,
    thinned: thinned.length < samples.length,
  };
}

/**
 * At most {@link MAX_SERIES_POINTS} samples, in time order, times rounded to 10 ms: a long series is cut
 * into equal buckets, each kept as its first time and the maximum of each field (so peaks survive).
 */
export function thin<S extends { readonly t: number }>(
  samples: readonly S[],
  fields: readonly (keyof S)[],
): S[] {
  const rounded = (s: S): S => ({ ...s, t: Math.round(s.t * 100) / 100 });
  if (samples.length <= MAX_SERIES_POINTS) return samples.map(rounded);
  const size = samples.length / MAX_SERIES_POINTS;
  const out: S[] = [];
  for (let b = 0; b < MAX_SERIES_POINTS; b++) {
    const bucket = samples.slice(Math.floor(b * size), Math.floor((b + 1) * size));
    const first = bucket[0];
    if (first === undefined) continue;
    const kept: Record<string, unknown> = { ...first };
    for (const field of fields) {
      kept[field as string] = Math.max(...bucket.map((s) => Number(s[field])));
    }
    out.push(rounded(kept as S));
  }
  return out;
}

/** The median of the trials' p95 (ms), read from their HDR histograms; null when none can be read. */
function p95Of(trials: readonly MeasuredTrial[]): number | null {
  const values: number[] = [];
  for (const trial of trials) {
    try {
      const histogram = decodeHistogram(trial.client.histogram);
      if (histogram.totalCount > 0) values.push(histogram.getValueAtPercentile(95) / 1000);
    } catch {
      // An unreadable histogram only costs this trial's p95; the other percentiles come from the summary.
    }
  }
  // Not rounded: read from the same histograms as p50 and p99, it stays between them.
  return median(values) ?? null;
}

const medianOf = (values: readonly number[]): number => median(values) ?? Number.NaN;

/** Four significant digits: enough for a chart, and the SVG stays small. */
function round(value: number): number {
  return Number.isFinite(value) ? Number(value.toPrecision(4)) : value;
}
