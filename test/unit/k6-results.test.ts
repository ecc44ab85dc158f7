import { readFileSync } from 'node:fs';
import type { Histogram } from 'hdr-histogram-js';
import { describe, expect, it } from 'vitest';
import {
  createLatencyHistogram,
  decodeHistogram,
  encodeHistogram,
  summarize,
} from '../../harness/analysis/histogram.ts';
import {
  digestJsonOutput,
  histogramFromJsonOutput,
  type K6Summary,
  k6DriverResult,
  k6Names,
  mergeK6Digests,
  mergeK6Summaries,
  parseHandleSummary,
  parseSummaryExport,
} from '../../harness/drivers/k6-results.ts';
import type { ClosedScenario, OpenScenario } from '../../scenarios/scenario.ts';

const fixture = (name: string): string =>
  readFileSync(new URL(`../fixtures/k6/${name}`, import.meta.url), 'utf8');

const handleSummaryText = fixture('handle-summary.json');
const summaryExportText = fixture('summary-export.json');
const ndjson = fixture('out-json-head50.ndjson');

/** The `http_req_duration` Point values in an ndjson text, counted independently of the parser. */
function durationPoints(text: string): number[] {
  return text
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as { type: string; metric: string; data: { value: number } })
    .filter((entry) => entry.type === 'Point' && entry.metric === 'http_req_duration')
    .map((entry) => entry.data.value);
}

describe('parseHandleSummary (real k6 v0.45.1 handleSummary data)', () => {
  const summary = parseHandleSummary(handleSummaryText);

  it('reads the overall figures when there are no pooltune sub-metrics', () => {
    expect(summary.scope).toBe('overall');
    expect(summary.httpReqs).toBe(11790);
    expect(summary.iterations).toBe(11790);
    expect(summary.failedRate).toBe(0);
    expect(summary.failedRequests).toBe(0);
    expect(summary.droppedIterations).toBe(0);
    expect(summary.testRunDurationMs).toBe(6003.291088);
    expect(summary.stages).toEqual([]);
  });

  it('reads http_req_duration as float milliseconds, stat names as k6 writes them', () => {
    expect(summary.duration['p(95)']).toBe(0.8690976999999989);
    expect(summary.duration['p(90)']).toBe(0.5832020000000003);
    expect(summary.duration.med).toBe(0.146768);
    expect(summary.duration.max).toBe(17.042303);
    // The fixture ran with the default summaryTrendStats: no p(99) unless asked for.
    expect(summary.duration['p(99)']).toBeUndefined();
  });

  it('reads thresholds as { ok: true } = passed', () => {
    expect(summary.thresholds).toEqual([
      { metric: 'http_req_duration{scenario:car}', expression: 'p(99)<500', ok: true },
      { metric: 'http_req_failed', expression: 'rate<0.01', ok: true },
    ]);
  });

  it('reads a failed threshold as not ok', () => {
    const data = JSON.parse(handleSummaryText) as { metrics: Record<string, { thresholds?: object }> };
    const failed = data.metrics.http_req_failed;
    if (failed) failed.thresholds = { 'rate<0.01': { ok: false } };
    expect(parseHandleSummary(data).thresholds).toContainEqual({
      metric: 'http_req_failed',
      expression: 'rate<0.01',
      ok: false,
    });
  });

  it('accepts parsed JSON as well as text, and rejects what is not a summary', () => {
    expect(parseHandleSummary(JSON.parse(handleSummaryText))).toEqual(summary);
    expect(() => parseHandleSummary({ root_group: {} })).toThrow(/metrics/);
  });
});

describe('parseSummaryExport (real k6 v0.45.1 --summary-export file)', () => {
  const summary = parseSummaryExport(summaryExportText);

  it('gives the same figures as the handleSummary data of the same run', () => {
    const { testRunDurationMs: _dropped, ...fromHandleSummary } = parseHandleSummary(handleSummaryText);
    expect(summary).toEqual(fromHandleSummary);
  });

  it('maps the flat rate `value` to rate, and `false` thresholds (= not failed) to ok', () => {
    const data = JSON.parse(summaryExportText) as { metrics: Record<string, Record<string, unknown>> };
    const failed = data.metrics.http_req_failed;
    if (failed) {
      failed.value = 0.25;
      failed.passes = 5;
      failed.thresholds = { 'rate<0.01': true };
    }
    const changed = parseSummaryExport(data);
    expect(changed.failedRate).toBe(0.25);
    expect(changed.failedRequests).toBe(5);
    expect(changed.thresholds).toContainEqual({
      metric: 'http_req_failed',
      expression: 'rate<0.01',
      ok: false,
    });
    expect(summary.thresholds.every((threshold) => threshold.ok)).toBe(true);
  });
});

describe('parseHandleSummary with pooltune sub-metrics', () => {
  const measured = `{${k6Names.phaseTag}:measure}`;
  const trend = (p99: number) => ({
    type: 'trend',
    contains: 'time',
    values: {
      count: 10,
      avg: 1,
      min: 0.5,
      med: 1,
      max: 9,
      'p(90)': 2,
      'p(95)': 3,
      'p(99)': p99,
      'p(99.9)': 8,
    },
    thresholds: { 'max>=0': { ok: true } },
  });
  const counter = (count: number) => ({
    type: 'counter',
    contains: 'default',
    values: { count, rate: count / 6 },
  });
  const rate = (value: number, passes: number) => ({
    type: 'rate',
    contains: 'default',
    values: { rate: value, passes, fails: 100 - passes },
  });
  const data = {
    state: { testRunDurationMs: 6000 },
    metrics: {
      http_reqs: counter(150),
      [`http_reqs${measured}`]: counter(100),
      http_req_duration: trend(99),
      [`http_req_duration${measured}`]: trend(4),
      http_req_failed: rate(0.5, 75),
      [`http_req_failed${measured}`]: rate(0.02, 2),
      iterations: counter(150),
      [`iterations${measured}`]: counter(100),
      dropped_iterations: counter(9),
      'dropped_iterations{scenario:measure}': counter(7),
      'http_reqs{pooltune_stage:1}': counter(60),
      'http_reqs{pooltune_stage:0}': counter(40),
      'http_req_duration{pooltune_stage:0}': trend(5),
      'http_req_failed{pooltune_stage:0}': rate(0.025, 1),
    },
  };

  it('takes the measured window, not the overall metrics that include warm-up', () => {
    const summary = parseHandleSummary(data);
    expect(summary).toMatchObject({
      scope: 'measured',
      httpReqs: 100,
      failedRate: 0.02,
      failedRequests: 2,
      iterations: 100,
      droppedIterations: 7,
    });
    expect(summary.duration['p(99)']).toBe(4);
    expect(summary.duration['p(99.9)']).toBe(8);
    expect(summary.stages.map((stage) => [stage.index, stage.httpReqs, stage.failedRate])).toEqual([
      [0, 40, 0.025],
      [1, 60, 0],
    ]);
    expect(summary.stages[0]?.duration['p(99)']).toBe(5);
  });
});

/** A histogram with exactly these microsecond values. */
function reference(micros: readonly number[]): Histogram {
  const histogram = createLatencyHistogram();
  for (const value of micros) histogram.recordValue(value);
  return histogram;
}

describe('histogramFromJsonOutput (real k6 v0.45.1 --out json lines)', () => {
  it('counts exactly the http_req_duration points, in microseconds', () => {
    const values = durationPoints(ndjson);
    expect(values).toEqual([1.343685, 1.392558, 3.929634]);
    const histogram = histogramFromJsonOutput(ndjson);
    expect(histogram.totalCount).toBe(values.length);
    // Float milliseconds become whole microseconds.
    expect(summarize(histogram)).toEqual(summarize(reference([1344, 1393, 3930])));
  });

  it('leaves out points tagged as warm-up', () => {
    let tagged = 0;
    const withWarmup = ndjson
      .split('\n')
      .map((line) => {
        if (tagged > 0 || !line.includes('"metric":"http_req_duration","type":"Point"')) return line;
        tagged++;
        return line.replace('"scenario":"cvus"', `"scenario":"warmup","${k6Names.phaseTag}":"warmup"`);
      })
      .join('\n');
    expect(tagged).toBe(1);
    const histogram = histogramFromJsonOutput(withWarmup);
    expect(histogram.totalCount).toBe(2);
    expect(summarize(histogram)).toEqual(summarize(reference([1393, 3930])));
  });

  it('counts responses and ok from the http_reqs points, and skips a cut-off last line', () => {
    const digest = digestJsonOutput(`${ndjson}\n{"metric":"http_req_duration","type":"Po`);
    expect(digest.responses).toBe(3);
    expect(digest.ok).toBe(3);
    expect(digest.errors).toEqual({});
    expect(digest.badLines).toBe(1);
  });
});

/** A `--out json` Point line shaped like k6's, with pooltune's scenario tags. */
function point(metric: string, value: number, tags: Record<string, string>): string {
  return JSON.stringify({
    metric,
    type: 'Point',
    data: { time: '2026-11-24T09:51:15.184341317Z', value, tags: { method: 'GET', name: 'read', ...tags } },
  });
}

/** One request: its http_reqs and http_req_duration points. */
function request(ms: number, tags: Record<string, string>): string[] {
  return [point('http_reqs', 1, tags), point('http_req_duration', ms, tags)];
}

describe('k6DriverResult', () => {
  const measure = (stage: number, extra: Record<string, string> = {}) => ({
    scenario: `stage_${stage}`,
    [k6Names.phaseTag]: 'measure',
    [k6Names.stageTag]: String(stage),
    ...extra,
  });
  const lines = [
    ...request(50, { scenario: 'warmup', [k6Names.phaseTag]: 'warmup', status: '200' }),
    ...request(1, measure(0, { status: '200', expected_response: 'true' })),
    ...request(2, measure(0, { status: '200', expected_response: 'true' })),
    ...request(3, measure(1, { status: '200', expected_response: 'true' })),
    ...request(4, measure(1, { status: '503', expected_response: 'false', error_code: '1503' })),
    ...request(10_000, measure(1, { status: '0', expected_response: 'false', error_code: '1050' })),
    ...request(5, measure(1, { status: '0', expected_response: 'false', error_code: '1220' })),
    point('http_req_blocked', 0.01, measure(1, { status: '200' })),
  ];
  const digest = digestJsonOutput(lines.join('\n'));
  const summary: K6Summary = {
    scope: 'measured',
    httpReqs: 6,
    failedRequests: 3,
    failedRate: 0.5,
    iterations: 6,
    droppedIterations: 0,
    duration: {},
    stages: [],
    thresholds: [],
  };
  const cpu = { userMs: 900, systemMs: 100, share: 0.5 };

  it('turns a closed run into stages, errors by kind and throughput of 2xx', () => {
    const scenario: ClosedScenario = {
      name: 'two-stages',
      description: 'test',
      model: 'closed',
      warmupMs: 500,
      stages: [
        { connections: 2, durationMs: 1_000 },
        { connections: 4, durationMs: 1_000 },
      ],
      requestTimeoutMs: 10_000,
      mix: [{ name: 'read', method: 'GET', path: '/read', weight: 1 }],
    };
    const result = k6DriverResult({ scenario, summary, digest, generatorCpu: cpu });
    expect(result).toMatchObject({
      driver: 'k6',
      durationMs: 2_000,
      requests: 4,
      ok: 3,
      errors: { 'status:503': 1, timeout: 1, ECONNRESET: 1 },
      throughput: 1.5,
      generatorCpu: cpu,
    });
    expect(result.offeredRate).toBeUndefined();
    // Latency covers every measured request, failed ones too (as k6's http_req_duration does).
    expect(result.latency.count).toBe(6);
    expect(result.latency.max).toBeCloseTo(10_000, -1);
    expect(decodeHistogram(result.histogram).totalCount).toBe(6);
    expect(result.stages?.map((stage) => [stage.connections, stage.requests, stage.throughput])).toEqual([
      [2, 2, 2],
      [4, 2, 1],
    ]);
    expect(result.stages?.[1]?.latency.count).toBe(4);
  });

  it('reports offered, achieved and dropped starts for an open run', () => {
    const scenario: OpenScenario = {
      name: 'open',
      description: 'test',
      model: 'open',
      arrival: { kind: 'ramp', from: 10, to: 30 },
      warmupMs: 0,
      durationMs: 2_000,
      maxInFlight: 5,
      requestTimeoutMs: 1_000,
      mix: [{ name: 'read', method: 'GET', path: '/read', weight: 1 }],
    };
    const result = k6DriverResult({
      scenario,
      summary: { ...summary, iterations: 30, droppedIterations: 4 },
      digest,
      generatorCpu: cpu,
    });
    expect(result).toMatchObject({ offeredRate: 20, achievedRate: 15, droppedStarts: 4 });
    expect(result.stages).toBeUndefined();
    expect('lateStarts' in result).toBe(false);
  });
});

/** Deals the lines of an ndjson text out to `n` instances, round robin, as k6's striping deals iterations. */
function dealLines(lines: readonly string[], n: number): string[] {
  const parts: string[][] = Array.from({ length: n }, () => []);
  lines.forEach((line, i) => {
    parts[i % n]?.push(line);
  });
  return parts.map((part) => part.join('\n'));
}

/** The fixture's real k6 lines, repeated with new durations and statuses: a run of `count` requests. */
function biggerRun(count: number): string[] {
  const lines = ndjson.split('\n').filter((line) => line.includes('"type":"Point"'));
  const reqs = lines.find((line) => line.includes('"metric":"http_reqs"')) ?? '';
  const duration = lines.find((line) => line.includes('"metric":"http_req_duration"')) ?? '';
  let seed = 7;
  const next = (): number => {
    seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
    return seed / 2 ** 31;
  };
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    // A long tail: most requests a few ms, some up to a second; one in twenty a 503.
    const ms = Math.round(1_000_000 * next() ** 6) / 1000 + 0.2;
    const status = next() < 0.05 ? '503' : '200';
    out.push(reqs.replace('"status":"200"', `"status":"${status}"`));
    out.push(
      duration.replace(/"value":[\d.]+/, `"value":${ms}`).replace('"status":"200"', `"status":"${status}"`),
    );
  }
  return out;
}

describe('mergeK6Digests: the instances of a segmented run', () => {
  const whole = (text: string) => digestJsonOutput(text);

  it.each([2, 3])(
    'split over %i instances, the merge of the real fixture lines is the digest of all of them',
    (n) => {
      const lines = ndjson.split('\n');
      const merged = mergeK6Digests(dealLines(lines, n).map((part) => digestJsonOutput(part)));
      const all = whole(ndjson);
      expect(encodeHistogram(merged.histogram)).toBe(encodeHistogram(all.histogram));
      expect({ ...merged, histogram: undefined, stages: undefined }).toEqual({
        ...all,
        histogram: undefined,
        stages: undefined,
      });
    },
  );

  it.each([2, 4, 7])(
    'on 20,000 requests in the fixture format over %i instances: merged = union, bucket for bucket',
    (n) => {
      const lines = biggerRun(20_000);
      const parts = dealLines(lines, n).map((part) => digestJsonOutput(part));
      const merged = mergeK6Digests(parts);
      const all = whole(lines.join('\n'));
      expect(merged.histogram.totalCount).toBe(20_000);
      expect(parts.reduce((total, part) => total + part.histogram.totalCount, 0)).toBe(20_000);
      expect(encodeHistogram(merged.histogram)).toBe(encodeHistogram(all.histogram));
      expect(summarize(merged.histogram)).toEqual(summarize(all.histogram));
      expect(merged.responses).toBe(all.responses);
      expect(merged.ok).toBe(all.ok);
      expect(merged.errors).toEqual(all.errors);
      expect(merged.errors['status:503']).toBeGreaterThan(0);
      // Averaging the instances' p99s is not the p99 of the whole: the reason to merge histograms.
      const meanP99 = parts.reduce((total, part) => total + summarize(part.histogram).p99, 0) / n;
      expect(meanP99).not.toBe(summarize(all.histogram).p99);
      // The inputs are left as they were.
      expect(parts[0]?.histogram.totalCount).toBeLessThan(20_000);
    },
  );

  it('merges closed-model stages by their tag', () => {
    const tags = (stage: number) => ({
      scenario: `stage_${stage}`,
      [k6Names.phaseTag]: 'measure',
      [k6Names.stageTag]: String(stage),
      status: '200',
    });
    const a = digestJsonOutput([...request(1, tags(0)), ...request(2, tags(1))].join('\n'));
    const b = digestJsonOutput([...request(3, tags(1)), ...request(4, tags(1))].join('\n'));
    const merged = mergeK6Digests([a, b]);
    expect([...merged.stages.keys()].sort()).toEqual(['0', '1']);
    expect(merged.stages.get('0')?.responses).toBe(1);
    expect(merged.stages.get('1')?.responses).toBe(3);
    expect(merged.stages.get('1')?.histogram.totalCount).toBe(3);
    expect(merged.stages.get('1')?.histogram.maxValue).toBeGreaterThanOrEqual(3_999);
  });
});

describe('mergeK6Summaries', () => {
  it('adds the counts of the real summary, keeps the slowest run time and drops percentiles', () => {
    const one = parseHandleSummary(handleSummaryText);
    const failing = { ...one, thresholds: one.thresholds.map((t, i) => (i === 0 ? { ...t, ok: false } : t)) };
    const merged = mergeK6Summaries([
      one,
      { ...failing, testRunDurationMs: (one.testRunDurationMs ?? 0) + 5 },
    ]);
    expect(merged.httpReqs).toBe(2 * one.httpReqs);
    expect(merged.iterations).toBe(2 * one.iterations);
    expect(merged.droppedIterations).toBe(2 * one.droppedIterations);
    expect(merged.failedRequests).toBe(2 * one.failedRequests);
    expect(merged.testRunDurationMs).toBe((one.testRunDurationMs ?? 0) + 5);
    expect(merged.duration).toEqual({});
    expect(merged.thresholds).toHaveLength(one.thresholds.length);
    expect(merged.thresholds[0]?.ok).toBe(false);
    expect(
      merged.thresholds
        .slice(1)
        .every(
          (t) =>
            t.ok === one.thresholds.find((o) => o.expression === t.expression && o.metric === t.metric)?.ok,
        ),
    ).toBe(true);
  });
});
