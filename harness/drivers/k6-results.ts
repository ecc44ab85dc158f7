import type { Histogram } from 'hdr-histogram-js';
import type { Scenario } from '../../scenarios/scenario.ts';
import { measuredMs } from '../../scenarios/scenario.ts';
import { offeredCount } from '../../scenarios/schedule.ts';
import {
  createLatencyHistogram,
  encodeHistogram,
  mergeHistograms,
  summarize,
} from '../analysis/histogram.ts';
import type { DriverResult, GeneratorCpu, StageResult } from './driver.ts';

/**
 * Names the k6 script template (scenarios/k6/script.ts) uses for tags and scenarios. The template cannot
 * import this module (it runs inside k6), so it repeats them; test/unit/k6-script.test.ts checks they agree.
 */
export const k6Names = {
  /** Scenario tag: `warmup` or `measure`. */
  phaseTag: 'pooltune_phase',
  /** Scenario tag on closed-model stages: the stage index. */
  stageTag: 'pooltune_stage',
  /** The open model's measured scenario (dropped_iterations carries only the scenario name). */
  measureScenario: 'measure',
  /** The warm-up scenario of either model. */
  warmupScenario: 'warmup',
  /** Logged by the first measured iteration. */
  measureMarker: 'pooltune:measure-start',
} as const;

/** Trend statistics of one k6 metric keyed as k6 names them (`avg`, `med`, `p(99)`, ...), in ms. */
export type K6TrendStats = Readonly<Record<string, number>>;

/** One threshold and whether it held. */
export interface K6Threshold {
  readonly metric: string;
  readonly expression: string;
  readonly ok: boolean;
}

/** Figures for one closed-model stage, from the `pooltune_stage` sub-metrics. */
export interface K6StageFigures {
  readonly index: number;
  readonly httpReqs: number;
  readonly failedRate: number;
  readonly duration: K6TrendStats;
}

/** What pooltune reads from k6's end-of-test summary, in either of its two formats. */
export interface K6Summary {
  /** `measured` when the figures come from pooltune's measured-window sub-metrics, else `overall`. */
  readonly scope: 'measured' | 'overall';
  /** Only handleSummary data carries it. */
  readonly testRunDurationMs?: number;
  /** Requests made, whatever their outcome (k6 counts timeouts and connection errors too). */
  readonly httpReqs: number;
  /** Requests k6 counts as failed (by default: no response or a status outside 200-399). */
  readonly failedRequests: number;
  readonly failedRate: number;
  readonly iterations: number;
  /** Arrival-rate starts k6 could not make because every VU was busy. */
  readonly droppedIterations: number;
  /** `http_req_duration` statistics, milliseconds. */
  readonly duration: K6TrendStats;
  readonly stages: readonly K6StageFigures[];
  readonly thresholds: readonly K6Threshold[];
}

/** A metric of either summary format brought to one shape. */
interface NormalMetric {
  readonly values: Readonly<Record<string, number>>;
  readonly thresholds: readonly { readonly expression: string; readonly ok: boolean }[];
}

type Json = Readonly<Record<string, unknown>>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function numbersOf(source: Json, skip?: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [key, value] of Object.entries(source)) {
    if (key !== skip && typeof value === 'number') out[key] = value;
  }
  return out;
}

/** The parsed top-level object of a summary (given as text or already parsed) and its `metrics`. */
function rootOf(input: unknown, format: string): { readonly root: Json; readonly metrics: Json } {
  const root: unknown = typeof input === 'string' ? JSON.parse(input) : input;
  if (!isObject(root) || !isObject(root.metrics)) {
    throw new Error(`k6 ${format}: expected an object with "metrics"`);
  }
  return { root, metrics: root.metrics };
}

/**
 * Figures from the `data` object k6 passes to `handleSummary` (what the template writes). Rate metrics
 * carry `values.rate`; a threshold is `{ ok: true }` when it PASSED.
 */
export function parseHandleSummary(input: unknown): K6Summary {
  const { root, metrics: raws } = rootOf(input, 'handleSummary data');
  const metrics = new Map<string, NormalMetric>();
  for (const [name, raw] of Object.entries(raws)) {
    if (!isObject(raw) || !isObject(raw.values)) continue;
    const thresholds = isObject(raw.thresholds)
      ? Object.entries(raw.thresholds).map(([expression, result]) => ({
          expression,
          ok: isObject(result) && result.ok === true,
        }))
      : [];
    metrics.set(name, { values: numbersOf(raw.values), thresholds });
  }
  const runMs = isObject(root.state) ? root.state.testRunDurationMs : undefined;
  return figuresOf(metrics, typeof runMs === 'number' ? runMs : undefined);
}

/**
 * Figures from the file `k6 run --summary-export` writes (the older flat format). Rate metrics carry
 * `value` (renamed `rate` here); a threshold maps to `true` when it FAILED.
 */
export function parseSummaryExport(input: unknown): K6Summary {
  const metrics = new Map<string, NormalMetric>();
  for (const [name, raw] of Object.entries(rootOf(input, 'summary export').metrics)) {
    if (!isObject(raw)) continue;
    const values = numbersOf(raw);
    const isRate = 'passes' in values && 'fails' in values && 'value' in values;
    if (isRate && values.value !== undefined) {
      values.rate = values.value;
      delete values.value;
    }
    const thresholds = isObject(raw.thresholds)
      ? Object.entries(raw.thresholds).map(([expression, failed]) => ({ expression, ok: failed === false }))
      : [];
    metrics.set(name, { values, thresholds });
  }
  return figuresOf(metrics, undefined);
}

function figuresOf(
  metrics: ReadonlyMap<string, NormalMetric>,
  testRunDurationMs: number | undefined,
): K6Summary {
  const measured = `{${k6Names.phaseTag}:measure}`;
  const scope = metrics.has(`http_reqs${measured}`) ? 'measured' : 'overall';
  const pick = (name: string, sub: string): Readonly<Record<string, number>> =>
    metrics.get(scope === 'measured' ? `${name}${sub}` : name)?.values ?? {};
  const failed = pick('http_req_failed', measured);
  const stages: K6StageFigures[] = [];
  const stagePattern = new RegExp(`^http_reqs\\{${k6Names.stageTag}:(\\d+)\\}$`);
  for (const [name, metric] of metrics) {
    const match = stagePattern.exec(name);
    if (match?.[1] === undefined) continue;
    const sub = `{${k6Names.stageTag}:${match[1]}}`;
    stages.push({
      index: Number(match[1]),
      httpReqs: metric.values.count ?? 0,
      failedRate: metrics.get(`http_req_failed${sub}`)?.values.rate ?? 0,
      duration: metrics.get(`http_req_duration${sub}`)?.values ?? {},
    });
  }
  stages.sort((a, b) => a.index - b.index);
  const thresholds: K6Threshold[] = [];
  for (const [metric, { thresholds: list }] of [...metrics].sort(([a], [b]) => a.localeCompare(b))) {
    for (const { expression, ok } of list) thresholds.push({ metric, expression, ok });
  }
  return {
    scope,
    ...(testRunDurationMs === undefined ? {} : { testRunDurationMs }),
    httpReqs: pick('http_reqs', measured).count ?? 0,
    // For http_req_failed a "pass" is a true value, i.e. a FAILED request.
    failedRequests: failed.passes ?? 0,
    failedRate: failed.rate ?? 0,
    iterations: pick('iterations', measured).count ?? 0,
    droppedIterations: pick('dropped_iterations', `{scenario:${k6Names.measureScenario}}`).count ?? 0,
    duration: pick('http_req_duration', measured),
    stages,
    thresholds,
  };
}

/** Requests of one closed-model stage seen in the JSON output. */
export interface K6StageDigest {
  readonly histogram: Histogram;
  readonly responses: number;
  readonly ok: number;
}

/** A stage's digest while lines are still being read. */
type StageCounts = { -readonly [K in keyof K6StageDigest]: K6StageDigest[K] };

/** What the `--out json` lines of a run say about its measured window. */
export interface K6JsonDigest {
  /** `http_req_duration` of every measured request (warm-up excluded), microseconds. */
  readonly histogram: Histogram;
  /** By `pooltune_stage` tag value (closed model). */
  readonly stages: ReadonlyMap<string, K6StageDigest>;
  /** Requests that got a response (any status). */
  readonly responses: number;
  /** Responses with a 2xx status. */
  readonly ok: number;
  /** Non-2xx statuses (`status:503`) and transport errors (`timeout`, `ECONNRESET`, `k6:<code>`). */
  readonly errors: Readonly<Record<string, number>>;
  /** Lines that were not JSON (a run cut short leaves a partial last line). */
  readonly badLines: number;
}

/** k6 error codes (lib/netext/httpext/error_codes.go) for requests that got no response. */
const transportErrors: Readonly<Record<string, string>> = {
  '1050': 'timeout',
  '1201': 'EPIPE',
  '1211': 'ETIMEDOUT',
  '1212': 'ECONNREFUSED',
  '1220': 'ECONNRESET',
};

/** Durations are float milliseconds; the histogram counts whole microseconds, at least 1. */
const toMicros = (ms: number): number => Math.max(1, Math.round(ms * 1000));

/**
 * Reads `k6 run --out json` output line by line (it can be large: stream it), keeping only the
 * `http_req_duration` and `http_reqs` points outside warm-up.
 */
export class K6JsonReader {
  readonly #histogram = createLatencyHistogram();
  readonly #stages = new Map<string, StageCounts>();
  readonly #errors: Record<string, number> = {};
  #responses = 0;
  #ok = 0;
  #badLines = 0;

  /** Takes one line of the output. */
  add(line: string): void {
    // Cheap filter first: a run writes ~13 points per request and only two kinds matter.
    if (!line.includes('"http_req')) return;
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch {
      this.#badLines++;
      return;
    }
    if (!isObject(parsed) || parsed.type !== 'Point' || !isObject(parsed.data)) return;
    const { value, tags } = parsed.data;
    if (typeof value !== 'number' || !isObject(tags)) return;
    if (tags[k6Names.phaseTag] === 'warmup') return;
    const stageTag = tags[k6Names.stageTag];
    const stage = typeof stageTag === 'string' ? this.#stage(stageTag) : undefined;
    if (parsed.metric === 'http_req_duration') {
      this.#histogram.recordValue(toMicros(value));
      stage?.histogram.recordValue(toMicros(value));
    } else if (parsed.metric === 'http_reqs') {
      const status = typeof tags.status === 'string' ? Number(tags.status) : 0;
      if (status > 0) {
        this.#responses++;
        if (stage) stage.responses++;
      }
      if (status >= 200 && status < 300) {
        this.#ok++;
        if (stage) stage.ok++;
        return;
      }
      const code = typeof tags.error_code === 'string' ? tags.error_code : '';
      const kind =
        status > 0 ? `status:${status}` : (transportErrors[code] ?? (code ? `k6:${code}` : 'unknown'));
      this.#errors[kind] = (this.#errors[kind] ?? 0) + 1;
    }
  }

  #stage(key: string): StageCounts {
    let stage = this.#stages.get(key);
    if (stage === undefined) {
      stage = { histogram: createLatencyHistogram(), responses: 0, ok: 0 };
      this.#stages.set(key, stage);
    }
    return stage;
  }

  /** What the lines so far add up to. */
  digest(): K6JsonDigest {
    return {
      histogram: this.#histogram,
      stages: this.#stages,
      responses: this.#responses,
      ok: this.#ok,
      errors: { ...this.#errors },
      badLines: this.#badLines,
    };
  }
}

/** Digests a whole `--out json` text (for tests and small runs; the driver streams the file). */
export function digestJsonOutput(ndjsonText: string): K6JsonDigest {
  const reader = new K6JsonReader();
  for (const line of ndjsonText.split('\n')) reader.add(line);
  return reader.digest();
}

/** An HDR histogram (microseconds) of the `http_req_duration` points in `--out json` text, warm-up excluded. */
export function histogramFromJsonOutput(ndjsonText: string): Histogram {
  return digestJsonOutput(ndjsonText).histogram;
}

/**
 * The digests of several k6 instances (one per execution segment) as one: histograms are merged bucket
 * by bucket, never their percentiles, so the merged figures are those of the union of the requests.
 */
export function mergeK6Digests(digests: readonly K6JsonDigest[]): K6JsonDigest {
  const stageKeys = [...new Set(digests.flatMap((digest) => [...digest.stages.keys()]))];
  const stages = new Map<string, K6StageDigest>();
  for (const key of stageKeys) {
    const parts = digests.flatMap((digest) => {
      const stage = digest.stages.get(key);
      return stage === undefined ? [] : [stage];
    });
    stages.set(key, {
      histogram: mergeHistograms(parts.map((stage) => stage.histogram)),
      responses: sumOf(parts, (stage) => stage.responses),
      ok: sumOf(parts, (stage) => stage.ok),
    });
  }
  const errors: Record<string, number> = {};
  for (const digest of digests) {
    for (const [kind, count] of Object.entries(digest.errors)) errors[kind] = (errors[kind] ?? 0) + count;
  }
  return {
    histogram: mergeHistograms(digests.map((digest) => digest.histogram)),
    stages,
    responses: sumOf(digests, (digest) => digest.responses),
    ok: sumOf(digests, (digest) => digest.ok),
    errors,
    badLines: sumOf(digests, (digest) => digest.badLines),
  };
}

/**
 * The end-of-test summaries of several k6 instances as one. Counts add up; trend statistics
 * (percentiles) cannot be combined, so `duration` and `stages` are left empty: latency and the stages'
 * figures come from the merged digest ({@link mergeK6Digests}). The run took as long as its slowest instance; a threshold held only if it held everywhere.
 */
export function mergeK6Summaries(summaries: readonly K6Summary[]): K6Summary {
  const runMs = summaries.flatMap((summary) =>
    summary.testRunDurationMs === undefined ? [] : [summary.testRunDurationMs],
  );
  const httpReqs = sumOf(summaries, (summary) => summary.httpReqs);
  const failedRequests = sumOf(summaries, (summary) => summary.failedRequests);
  const thresholds = new Map<string, K6Threshold>();
  for (const threshold of summaries.flatMap((summary) => summary.thresholds)) {
    const key = `${threshold.metric}\u0000${threshold.expression}`;
    const seen = thresholds.get(key);
    thresholds.set(key, { ...threshold, ok: threshold.ok && (seen?.ok ?? true) });
  }
  return {
    scope: summaries.every((summary) => summary.scope === 'measured') ? 'measured' : 'overall',
    ...(runMs.length === 0 ? {} : { testRunDurationMs: Math.max(...runMs) }),
    httpReqs,
    failedRequests,
    failedRate: httpReqs > 0 ? failedRequests / httpReqs : 0,
    iterations: sumOf(summaries, (summary) => summary.iterations),
    droppedIterations: sumOf(summaries, (summary) => summary.droppedIterations),
    duration: {},
    stages: [],
    thresholds: [...thresholds.values()],
  };
}

function sumOf<T>(items: readonly T[], value: (item: T) => number): number {
  let total = 0;
  for (const item of items) total += value(item);
  return total;
}

/** Everything {@link k6DriverResult} combines. */
export interface K6RunFigures {
  readonly scenario: Scenario;
  readonly summary: K6Summary;
  readonly digest: K6JsonDigest;
  readonly generatorCpu: GeneratorCpu;
}

/**
 * The DriverResult of a k6 run. Latency and counts come from the JSON output (so they agree with the
 * histogram); iterations and dropped starts from the summary. Latency includes failed requests, as k6's
 * `http_req_duration` does. k6 does not report late starts, so `lateStarts` is left out.
 */
export function k6DriverResult(figures: K6RunFigures): DriverResult {
  const { scenario, summary, digest } = figures;
  const durationMs = measuredMs(scenario);
  const seconds = durationMs / 1000;
  const perSecond = (count: number): number => (seconds > 0 ? count / seconds : 0);
  const base = {
    driver: 'k6' as const,
    durationMs,
    requests: digest.responses,
    ok: digest.ok,
    errors: digest.errors,
    throughput: perSecond(digest.ok),
    latency: summarize(digest.histogram),
    histogram: encodeHistogram(digest.histogram),
    generatorCpu: figures.generatorCpu,
  };
  if (scenario.model === 'open') {
    return {
      ...base,
      offeredRate: perSecond(offeredCount(scenario.arrival, scenario.durationMs)),
      achievedRate: perSecond(summary.iterations),
      droppedStarts: summary.droppedIterations,
    };
  }
  const stages: StageResult[] = scenario.stages.map((stage, index) => {
    const seen = digest.stages.get(String(index));
    const stageSeconds = stage.durationMs / 1000;
    return {
      connections: stage.connections,
      durationMs: stage.durationMs,
      requests: seen?.responses ?? 0,
      throughput: seen && stageSeconds > 0 ? seen.ok / stageSeconds : 0,
      latency: seen ? summarize(seen.histogram) : summarize(createLatencyHistogram()),
    };
  });
  return { ...base, stages };
}
