import type { Manifest } from '../results/manifest.ts';
import { maskUrl } from '../results/mask.ts';
import type { KnobValue, KnobValues, MeasuredTrial, TrialResult } from '../results/trial.ts';
import type { MethodOutcome } from '../tuning/outcome.ts';
import { buildChartData, type ChartData } from './chart-data.ts';
import {
  formatBytes,
  formatDate,
  formatErrors,
  formatFixed,
  formatMs,
  formatPercent,
  formatThroughput,
  median,
  NOT_AVAILABLE,
} from './format.ts';
import { buildMethodView, type MethodView, stepAdditions } from './method-view.ts';
import { hasNativeFigures, nativeCell } from './native-view.ts';
import { buildOutcomeView, type OutcomeView } from './outcome-view.ts';
import type { RunSummary } from './summary-schema.ts';

/** A label and its display value, e.g. one line of the header's environment list. */
export interface Field {
  readonly label: string;
  readonly value: string;
}

/** What ran, where and when: the report's header. */
export interface ReportHeader {
  readonly runId: string;
  readonly target: string;
  readonly targetDescription: string;
  /** e.g. `db, api (entry: api)`. */
  readonly services: string;
  readonly scenario: string;
  readonly driver: string;
  readonly command: string;
  /** The run's creation time, `YYYY-MM-DD HH:MM:SS UTC`. */
  readonly date: string;
  /** e.g. `max: 1, 2, 4, 8`, or null when nothing was swept. */
  readonly sweep: string | null;
  /** Knobs held fixed, e.g. `idleTimeoutMillis=10000, connectionTimeoutMillis=5000`. */
  readonly fixedKnobs: string;
  readonly repetitions: string;
  readonly quick: boolean;
  readonly environment: readonly Field[];
}

/** The knob value (or knob set) with the highest median throughput among completed trials. */
export interface BestPoint {
  /** e.g. `max = 8`. */
  readonly at: string;
  readonly knobValue: KnobValue | null;
  readonly throughput: number;
  readonly p99Ms: number;
  readonly trialIds: readonly string[];
}

/** The factual one-paragraph summary above the charts. */
export interface ReportSummary {
  /** e.g. `Highest measured throughput: 2,329.5 req/s at max = 8 (t004); p99 there 23.0 ms.` */
  readonly headline: string;
  /** e.g. `6 trials: 4 completed, 1 invalid, 1 errored.` plus what was left out, when anything was. */
  readonly counts: string;
  readonly best: BestPoint | null;
}

/** One row of the trial table; every figure is already formatted, `—` where there is none. */
export interface TrialRow {
  readonly id: string;
  readonly step: string;
  /** The knobs that differ from the run's fixed knobs, e.g. `max=8`. */
  readonly knobs: string;
  readonly repetition: string;
  readonly status: TrialResult['status'];
  /** The reason or error for a trial that did not complete, else null. */
  readonly detail: string | null;
  readonly logTail: readonly string[];
  readonly throughput: string;
  readonly p50: string;
  readonly p90: string;
  readonly p99: string;
  readonly p999: string;
  readonly errors: string;
  readonly poolWaitingMean: string;
  readonly poolWaitingMax: string;
  readonly targetCpu: string;
  readonly generatorCpu: string;
  /** The target's native pool figures, `label mean / max` each (see `metrics.native`). */
  readonly native: string;
}

/** Everything the HTML report shows, as plain data. */
export interface ReportView {
  readonly title: string;
  readonly pooltuneVersion: string;
  readonly header: ReportHeader;
  readonly summary: ReportSummary;
  /** What the charts draw (none when the run swept nothing), and which were left out and why. */
  readonly charts: ChartData;
  readonly trials: readonly TrialRow[];
  /** Whether some trial carries native pool figures: only then does the trial table have their column. */
  readonly nativeFigures: boolean;
  /** Problems met while reading the run (e.g. a torn last line), shown at the top of the report. */
  readonly warnings: readonly string[];
  /** The recommendation and the seven steps' evidence; null for runs without an analysis. */
  readonly method: MethodView | null;
  /** Verdicts, the settings diff, checklist, risks and raw files; null when no summary was built. */
  readonly outcome: OutcomeView | null;
}

/** Options for {@link buildReportView}. */
export interface BuildReportViewOptions {
  readonly warnings?: readonly string[];
  /** The run's `analysis.json`, when it has one. */
  readonly analysis?: MethodOutcome;
  /** The run's summary (what `summary.json` holds), for the verdicts, checklist and risks. */
  readonly summary?: RunSummary;
}

/** The trials of step 4 (grow the pool), whose curves the charts draw. */
const GROW_STEP = '4-grow-pool';

/** Builds the report's view model from a run's manifest and its trials (in the order they ran). Pure. */
export function buildReportView(
  manifest: Manifest,
  trials: readonly TrialResult[],
  options: BuildReportViewOptions = {},
): ReportView {
  const knob = manifest.sweep?.knob ?? null;
  // A tune runs many scenarios; the curves are those of the pool-growing step (same scenario throughout).
  const swept = trials.some((trial) => trial.step === GROW_STEP)
    ? trials.filter((trial) => trial.step === GROW_STEP)
    : trials;
  const groups = completedGroups(manifest, swept);
  const best = bestGroup(groups, knob);
  const charts = buildChartData(manifest, trials, options.analysis);
  return {
    title: `pooltune report: ${manifest.target.name}${knob === null ? '' : `, ${knob} sweep`}`,
    pooltuneVersion: manifest.environment.pooltune,
    header: buildHeader(manifest),
    summary: {
      headline: headline(best, knob),
      counts: countsLine(trials),
      best,
    },
    charts,
    trials: trials.map((trial) => buildRow(trial, manifest.fixedKnobs)),
    nativeFigures: hasNativeFigures(trials),
    warnings: options.warnings ?? [],
    method: buildMethodView(options.analysis, stepAdditions(charts, trials)),
    outcome: options.summary === undefined ? null : buildOutcomeView(options.summary, trials),
  };
}

function buildHeader(manifest: Manifest): ReportHeader {
  const { target, environment: env } = manifest;
  const environment: Field[] = [
    { label: 'platform', value: env.platform },
    { label: 'CPUs', value: `${env.cpus} × ${env.cpuModel}` },
    { label: 'memory', value: formatBytes(env.memoryBytes) },
    { label: 'Node.js', value: env.node },
  ];
  if (env.postgres !== undefined) environment.push({ label: 'PostgreSQL', value: env.postgres });
  environment.push({ label: 'pooltune', value: env.pooltune });
  environment.push({
    label: 'runtime',
    value:
      manifest.runtimeReason === undefined
        ? manifest.runtime
        : `${manifest.runtime}: ${manifest.runtimeReason}`,
  });
  if (env.openFilesLimit !== undefined) {
    environment.push({ label: 'open files limit', value: String(env.openFilesLimit) });
  }
  return {
    runId: manifest.runId,
    target: target.name,
    targetDescription: target.description,
    services: `${target.services.join(', ')} (entry: ${target.entry})`,
    scenario: manifest.scenario,
    driver: manifest.driver,
    command: manifest.command,
    date: formatDate(manifest.createdAt),
    sweep:
      manifest.sweep === undefined ? null : `${manifest.sweep.knob}: ${manifest.sweep.values.join(', ')}`,
    // The swept knob is not fixed: leave it out so the header does not show a value no trial used.
    fixedKnobs:
      knobList(
        Object.fromEntries(
          Object.entries(manifest.fixedKnobs).filter(([name]) => name !== manifest.sweep?.knob),
        ),
      ) || NOT_AVAILABLE,
    repetitions: String(manifest.repetitions),
    quick: manifest.quick,
    environment,
  };
}

/** Completed trials grouped by the swept knob's value (or by their knob set when nothing was swept). */
interface Group {
  readonly key: string;
  readonly knobValue: KnobValue | null;
  readonly trials: readonly MeasuredTrial[];
  readonly throughput: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
}

function completedGroups(manifest: Manifest, trials: readonly TrialResult[]): Group[] {
  const knob = manifest.sweep?.knob;
  const byKey = new Map<string, { knobValue: KnobValue | null; trials: MeasuredTrial[] }>();
  for (const trial of trials) {
    if (trial.status !== 'completed') continue;
    const knobValue = knob === undefined ? null : (trial.knobs[knob] ?? null);
    const key =
      knob === undefined ? knobList(varyingKnobs(trial.knobs, manifest.fixedKnobs)) : String(knobValue);
    const group = byKey.get(key);
    if (group === undefined) byKey.set(key, { knobValue, trials: [trial] });
    else group.trials.push(trial);
  }
  return [...byKey].map(([key, group]) => ({
    key,
    knobValue: group.knobValue,
    trials: group.trials,
    throughput: median(group.trials.map((t) => t.client.throughput)),
    p50Ms: median(group.trials.map((t) => t.client.latency.p50)),
    p99Ms: median(group.trials.map((t) => t.client.latency.p99)),
  }));
}

function bestGroup(groups: readonly Group[], knob: string | null): BestPoint | null {
  let best: Group | undefined;
  for (const group of groups) {
    // Ties go to the smaller knob value: the same throughput for fewer connections.
    if (
      best === undefined ||
      group.throughput > best.throughput ||
      (group.throughput === best.throughput && compareKnob(group.knobValue, best.knobValue) < 0)
    ) {
      best = group;
    }
  }
  if (best === undefined) return null;
  return {
    at: knob === null ? best.key || 'the fixed knobs' : `${knob} = ${String(best.knobValue)}`,
    knobValue: best.knobValue,
    throughput: best.throughput,
    p99Ms: best.p99Ms,
    trialIds: best.trials.map((t) => t.id),
  };
}

function headline(best: BestPoint | null, knob: string | null): string {
  if (best === null) return 'No trial completed, so nothing here measures the target.';
  const ids = best.trialIds.length === 1 ? best.trialIds.join('') : `median of ${best.trialIds.join(', ')}`;
  const where = knob === null ? '' : ` at ${best.at}`;
  return (
    `Highest measured throughput: ${formatThroughput(best.throughput)} req/s${where} (${ids}); ` +
    `p99 there ${formatMs(best.p99Ms)} ms.`
  );
}

function countsLine(trials: readonly TrialResult[]): string {
  const order: readonly TrialResult['status'][] = ['completed', 'invalid', 'errored', 'aborted'];
  const counts = order
    .map((status) => ({ status, n: trials.filter((t) => t.status === status).length }))
    .filter(({ n }) => n > 0)
    .map(({ status, n }) => `${n} ${status}`);
  const total = `${trials.length} trial${trials.length === 1 ? '' : 's'}`;
  const line = counts.length === 0 ? `${total}.` : `${total}: ${counts.join(', ')}.`;
  const left = trials.length - trials.filter((t) => t.status === 'completed').length;
  return left === 0 ? line : `${line} Only completed trials count towards the summary and the charts' lines.`;
}

function buildRow(trial: TrialResult, fixed: KnobValues): TrialRow {
  const common = {
    id: trial.id,
    step: trial.step,
    knobs: knobList(varyingKnobs(trial.knobs, fixed)) || 'as fixed',
    repetition: String(trial.repetition),
    status: trial.status,
  };
  const blank = {
    throughput: NOT_AVAILABLE,
    p50: NOT_AVAILABLE,
    p90: NOT_AVAILABLE,
    p99: NOT_AVAILABLE,
    p999: NOT_AVAILABLE,
    errors: NOT_AVAILABLE,
    poolWaitingMean: NOT_AVAILABLE,
    poolWaitingMax: NOT_AVAILABLE,
    targetCpu: NOT_AVAILABLE,
    generatorCpu: NOT_AVAILABLE,
    native: NOT_AVAILABLE,
  };
  switch (trial.status) {
    case 'completed':
      return { ...common, detail: null, logTail: [], ...measuredCells(trial) };
    case 'invalid':
      return { ...common, detail: trial.reason, logTail: [], ...measuredCells(trial) };
    case 'errored':
      return { ...common, detail: maskUrl(trial.error), logTail: trial.logTail.map(maskUrl), ...blank };
    case 'aborted':
      return { ...common, detail: trial.reason, logTail: [], ...blank };
  }
}

function measuredCells(trial: MeasuredTrial) {
  const { client, server } = trial;
  return {
    throughput: formatThroughput(client.throughput),
    p50: formatMs(client.latency.p50),
    p90: formatMs(client.latency.p90),
    p99: formatMs(client.latency.p99),
    p999: formatMs(client.latency.p999),
    errors: formatErrors(client.errors),
    poolWaitingMean:
      server.pool?.waitingMean === undefined ? NOT_AVAILABLE : formatFixed(server.pool.waitingMean, 1),
    poolWaitingMax:
      server.pool?.waitingMax === undefined ? NOT_AVAILABLE : formatFixed(server.pool.waitingMax, 0),
    targetCpu: server.process === undefined ? NOT_AVAILABLE : formatPercent(server.process.cpuShareMean),
    generatorCpu: formatPercent(client.generatorCpu.share),
    native: nativeCell(trial),
  };
}

function varyingKnobs(knobs: KnobValues, fixed: KnobValues): KnobValues {
  return Object.fromEntries(Object.entries(knobs).filter(([name, value]) => fixed[name] !== value));
}

function knobList(knobs: KnobValues): string {
  return Object.entries(knobs)
    .map(([name, value]) => `${name}=${String(value)}`)
    .join(', ');
}

function compareKnob(a: KnobValue | null, b: KnobValue | null): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  return String(a).localeCompare(String(b));
}
