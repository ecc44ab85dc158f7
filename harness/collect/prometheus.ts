// Reads the Prometheus text exposition format (0.0.4, and the parts of OpenMetrics a scrape can return).
// A small parser of our own: the one npm package for it (parse-prometheus-text-format) is untyped,
// single-maintainer, returns values as strings and reshapes histograms, and we need only flat samples.
import { type Dispatcher, request } from 'undici';

/** One sample line: series name, its labels (escapes resolved) and its value. */
export interface PrometheusSample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

/** The metric types a `# TYPE` line can declare. */
export type PrometheusType = 'counter' | 'gauge' | 'histogram' | 'summary' | 'untyped' | 'unknown';

/** A parsed exposition: its samples in order, the declared family types, and how many lines made no sense. */
export interface PrometheusText {
  readonly samples: readonly PrometheusSample[];
  /** Family name -> type from `# TYPE` lines; a family declared without samples is still known here. */
  readonly types: ReadonlyMap<string, PrometheusType>;
  /** Lines that were neither comments nor valid samples; skipped rather than failing the whole scrape. */
  readonly invalidLines: number;
}

/** A histogram's figures summed over the label sets that matched. */
export interface HistogramFigures {
  readonly sum: number;
  readonly count: number;
  /** Cumulative counts by upper bound, ascending; the last bound is `Infinity` when the target exposes it. */
  readonly buckets: readonly { readonly le: number; readonly count: number }[];
}

/** Labels a sample must carry (exact values) to be selected. */
export type LabelMatch = Readonly<Record<string, string>>;

const TYPES = new Set<string>(['counter', 'gauge', 'histogram', 'summary', 'untyped', 'unknown']);
const NAME_START = /[a-zA-Z_:]/;
const NAME_CHAR = /[a-zA-Z0-9_:]/;
const DECIMAL = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

/** Parses a sample value the way Prometheus does: decimals, `+Inf`/`-Inf`/`Inf`, `NaN` (any case). */
export function parsePrometheusValue(token: string): number | undefined {
  const lower = token.toLowerCase();
  if (lower === '+inf' || lower === 'inf') return Number.POSITIVE_INFINITY;
  if (lower === '-inf') return Number.NEGATIVE_INFINITY;
  if (lower === 'nan') return Number.NaN;
  // Number() alone would accept '', '0x1f' and ' 1 ', none of which Prometheus writes.
  return DECIMAL.test(token) ? Number(token) : undefined;
}

/** Parses Prometheus exposition text into samples. Pure; never throws on bad input. */
export function parsePrometheusText(text: string): PrometheusText {
  const samples: PrometheusSample[] = [];
  const types = new Map<string, PrometheusType>();
  let invalidLines = 0;
  for (const rawLine of text.split('\n')) {
    const line = rawLine.endsWith('\r') ? rawLine.slice(0, -1) : rawLine;
    const trimmed = line.trimStart();
    if (trimmed === '') continue;
    if (trimmed.startsWith('#')) {
      // HELP and other comments carry nothing we need; TYPE tells a declared-but-empty family apart
      // from one the target does not expose at all.
      const parts = trimmed.slice(1).trim().split(/\s+/);
      if (parts[0] === 'TYPE' && parts[1] !== undefined && parts[2] !== undefined && TYPES.has(parts[2])) {
        types.set(parts[1], parts[2] as PrometheusType);
      }
      continue;
    }
    const sample = parseSampleLine(trimmed);
    if (sample === undefined) invalidLines += 1;
    else samples.push(sample);
  }
  return { samples, types, invalidLines };
}

/** Parses `name{l="v",...} value [timestamp]`, including Prometheus 3's quoted names `{"a.b", l="v"}`. */
function parseSampleLine(line: string): PrometheusSample | undefined {
  let i = 0;
  let name = '';
  if (NAME_START.test(line[0] ?? '')) {
    while (i < line.length && NAME_CHAR.test(line[i] ?? '')) i += 1;
    name = line.slice(0, i);
  }
  i = skipSpaces(line, i);
  const labels: Record<string, string> = Object.create(null);
  if (line[i] === '{') {
    i += 1;
    for (;;) {
      i = skipSpaces(line, i);
      if (line[i] === '}') {
        i += 1;
        break;
      }
      let key: string;
      if (line[i] === '"') {
        const quoted = readQuoted(line, i);
        if (quoted === undefined) return undefined;
        i = skipSpaces(line, quoted.end);
        if (line[i] !== '=') {
          // A quoted string without `=` is the metric name itself (UTF-8 names).
          if (name !== '') return undefined;
          name = quoted.value;
          if (line[i] === ',') i += 1;
          continue;
        }
        key = quoted.value;
      } else {
        const start = i;
        if (!NAME_START.test(line[i] ?? '')) return undefined;
        while (i < line.length && NAME_CHAR.test(line[i] ?? '')) i += 1;
        key = line.slice(start, i);
        i = skipSpaces(line, i);
        if (line[i] !== '=') return undefined;
      }
      i = skipSpaces(line, i + 1);
      const value = readQuoted(line, i);
      if (value === undefined) return undefined;
      labels[key] = value.value;
      i = skipSpaces(line, value.end);
      if (line[i] === ',') i += 1;
      else if (line[i] !== '}') return undefined;
    }
  }
  if (name === '') return undefined;
  // After the value may come a timestamp and (OpenMetrics) an exemplar after '#'; neither is needed.
  const rest = line.slice(i).trim().split(/\s+/);
  const value = parsePrometheusValue(rest[0] ?? '');
  if (value === undefined) return undefined;
  return { name, labels, value };
}

function skipSpaces(line: string, from: number): number {
  let i = from;
  while (line[i] === ' ' || line[i] === '\t') i += 1;
  return i;
}

/** Reads a double-quoted string at `start`, resolving `\\`, `\"` and `\n`; undefined when unterminated. */
function readQuoted(line: string, start: number): { value: string; end: number } | undefined {
  if (line[start] !== '"') return undefined;
  let value = '';
  for (let i = start + 1; i < line.length; i += 1) {
    const ch = line[i];
    if (ch === '"') return { value, end: i + 1 };
    if (ch === '\\') {
      const next = line[i + 1];
      if (next === undefined) return undefined;
      // Unknown escapes are kept as written rather than rejecting the whole line.
      value += next === 'n' ? '\n' : next === '\\' || next === '"' ? next : `\\${next}`;
      i += 1;
    } else {
      value += ch;
    }
  }
  return undefined;
}

function matches(sample: PrometheusSample, name: string, match: LabelMatch | undefined): boolean {
  if (sample.name !== name) return false;
  if (match === undefined) return true;
  return Object.entries(match).every(([key, value]) => sample.labels[key] === value);
}

/** The samples of one series name whose labels match. */
export function selectSamples(
  metrics: PrometheusText,
  name: string,
  match?: LabelMatch,
): readonly PrometheusSample[] {
  return metrics.samples.filter((sample) => matches(sample, name, match));
}

/**
 * True when the target declares or exposes the family `name`, so "no samples" means zero, not "unknown".
 * A counter's family may be declared without its `_total` suffix (OpenMetrics).
 */
export function hasFamily(metrics: PrometheusText, name: string): boolean {
  if (metrics.types.has(name)) return true;
  if (name.endsWith('_total') && metrics.types.has(name.slice(0, -'_total'.length))) return true;
  return metrics.samples.some(
    (sample) =>
      sample.name === name ||
      sample.name === `${name}_bucket` ||
      sample.name === `${name}_count` ||
      sample.name === `${name}_sum`,
  );
}

function sumOf(samples: readonly PrometheusSample[]): number | undefined {
  if (samples.length === 0) return undefined;
  const total = samples.reduce((acc, sample) => acc + sample.value, 0);
  return Number.isFinite(total) ? total : undefined;
}

/** A gauge summed across its label sets (e.g. one series per pool); undefined when absent or not finite. */
export function readGauge(metrics: PrometheusText, name: string, match?: LabelMatch): number | undefined {
  return sumOf(selectSamples(metrics, name, match));
}

/**
 * A counter summed across its label sets; 0 when the family is declared but has no series yet
 * (prom-client prints a labelled counter's TYPE before its first increment), undefined when absent.
 */
export function readCounter(metrics: PrometheusText, name: string, match?: LabelMatch): number | undefined {
  const total = sumOf(selectSamples(metrics, name, match));
  if (total !== undefined) return total;
  return hasFamily(metrics, name) ? 0 : undefined;
}

/** A counter split by the value of one label (summed over the others); series without it go under ''. */
export function readCounterByLabel(
  metrics: PrometheusText,
  name: string,
  label: string,
): Readonly<Record<string, number>> | undefined {
  if (!hasFamily(metrics, name)) return undefined;
  const byLabel: Record<string, number> = {};
  for (const sample of selectSamples(metrics, name)) {
    const key = sample.labels[label] ?? '';
    byLabel[key] = (byLabel[key] ?? 0) + sample.value;
  }
  return byLabel;
}

/**
 * A histogram's `_sum`, `_count` and `_bucket` series, summed across label sets (buckets by bound);
 * undefined when the target does not expose it.
 */
export function readHistogram(
  metrics: PrometheusText,
  name: string,
  match?: LabelMatch,
): HistogramFigures | undefined {
  if (!hasFamily(metrics, name)) return undefined;
  const byBound = new Map<number, number>();
  for (const sample of selectSamples(metrics, `${name}_bucket`, match)) {
    const le = parsePrometheusValue(sample.labels.le ?? '');
    if (le === undefined || Number.isNaN(le)) continue;
    byBound.set(le, (byBound.get(le) ?? 0) + sample.value);
  }
  const buckets = [...byBound.entries()].sort((a, b) => a[0] - b[0]).map(([le, count]) => ({ le, count }));
  return {
    sum: sumOf(selectSamples(metrics, `${name}_sum`, match)) ?? 0,
    count: sumOf(selectSamples(metrics, `${name}_count`, match)) ?? 0,
    buckets,
  };
}

/**
 * The q-quantile of a cumulative-bucket histogram, interpolating linearly inside the bucket it falls
 * in (as PromQL's histogram_quantile does). Undefined without observations; a quantile in the +Inf
 * bucket returns the highest finite bound.
 */
export function histogramQuantile(
  buckets: readonly { readonly le: number; readonly count: number }[],
  q: number,
): number | undefined {
  const total = buckets.at(-1)?.count ?? 0;
  if (total <= 0) return undefined;
  const rank = q * total;
  let lowerBound = 0;
  let lowerCount = 0;
  for (const bucket of buckets) {
    if (bucket.count >= rank) {
      if (!Number.isFinite(bucket.le)) return lowerBound;
      const inBucket = bucket.count - lowerCount;
      return inBucket <= 0
        ? bucket.le
        : lowerBound + ((bucket.le - lowerBound) * (rank - lowerCount)) / inBucket;
    }
    lowerBound = bucket.le;
    lowerCount = bucket.count;
  }
  return lowerBound;
}

/** Options for {@link scrape}. */
export interface ScrapeOptions {
  /** Gives up after this long; a scrape must never hold a sample up. Default 1000 ms. */
  readonly timeoutMs?: number;
  /** The undici dispatcher to use, so a collector can keep one connection and close it when done. */
  readonly dispatcher?: Dispatcher;
}

/** GETs a Prometheus text endpoint and returns the body; rejects on timeout, abort or a non-2xx status. */
export async function scrape(
  url: string,
  signal?: AbortSignal,
  options: ScrapeOptions = {},
): Promise<string> {
  const timeout = AbortSignal.timeout(options.timeoutMs ?? 1_000);
  const { statusCode, body } = await request(url, {
    method: 'GET',
    // Ask for the plain text format so a server that can negotiate never answers in protobuf.
    headers: { accept: 'text/plain;version=0.0.4;q=1,*/*;q=0.1' },
    signal: signal === undefined ? timeout : AbortSignal.any([signal, timeout]),
    ...(options.dispatcher === undefined ? {} : { dispatcher: options.dispatcher }),
  });
  if (statusCode < 200 || statusCode >= 300) {
    await body.dump();
    throw new Error(`metrics endpoint ${url} answered ${statusCode}`);
  }
  return body.text();
}
