import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import client from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import {
  parsePrometheusText,
  parsePrometheusValue,
  readCounter,
  readCounterByLabel,
  readGauge,
  readHistogram,
  scrape,
} from '../../harness/collect/prometheus.ts';

describe('parsePrometheusText on a real prom-client registry', () => {
  const registry = new client.Registry();
  const idle = new client.Gauge({
    name: 'pool_idle_connections',
    help: 'Idle connections, with a \\ and a\nnewline in the help',
    labelNames: ['pool'],
    registers: [registry],
  });
  const errors = new client.Counter({
    name: 'pool_errors_total',
    help: 'Pool errors by kind',
    labelNames: ['kind'],
    registers: [registry],
  });
  new client.Counter({
    name: 'pool_unused_total',
    help: 'Declared, never incremented',
    labelNames: ['kind'],
    registers: [registry],
  });
  const wait = new client.Histogram({
    name: 'pool_acquire_wait_seconds',
    help: 'Acquire wait',
    buckets: [0.1, 0.5, 1],
    registers: [registry],
  });
  idle.set({ pool: 'main' }, 3);
  idle.set({ pool: 'replica' }, 4);
  errors.inc({ kind: 'acquire_timeout' }, 2);
  errors.inc({ kind: 'acquire_timeout' }, 1);
  errors.inc({ kind: 'say "hi" \\ then\nnew line, {braces}' }, 5);
  for (const seconds of [0.25, 0.5, 0.5, 2]) wait.observe(seconds);

  it('reads a gauge summed across label sets, and each label set alone', async () => {
    const metrics = parsePrometheusText(await registry.metrics());
    expect(metrics.invalidLines).toBe(0);
    expect(readGauge(metrics, 'pool_idle_connections')).toBe(7);
    expect(readGauge(metrics, 'pool_idle_connections', { pool: 'replica' })).toBe(4);
    expect(readGauge(metrics, 'pool_missing')).toBeUndefined();
    expect(metrics.types.get('pool_idle_connections')).toBe('gauge');
  });

  it('reads a labelled counter by label, resolving escaped label values', async () => {
    const metrics = parsePrometheusText(await registry.metrics());
    expect(readCounterByLabel(metrics, 'pool_errors_total', 'kind')).toEqual({
      acquire_timeout: 3,
      'say "hi" \\ then\nnew line, {braces}': 5,
    });
    expect(readCounter(metrics, 'pool_errors_total')).toBe(8);
    expect(readCounter(metrics, 'pool_errors_total', { kind: 'acquire_timeout' })).toBe(3);
    // Declared with TYPE but no series yet: zero, not unknown.
    expect(readCounterByLabel(metrics, 'pool_unused_total', 'kind')).toEqual({});
    expect(readCounter(metrics, 'pool_unused_total')).toBe(0);
    expect(readCounter(metrics, 'pool_not_exposed_total')).toBeUndefined();
  });

  it('reads a histogram sum, count and cumulative buckets including +Inf', async () => {
    const metrics = parsePrometheusText(await registry.metrics());
    expect(readHistogram(metrics, 'pool_acquire_wait_seconds')).toEqual({
      sum: 3.25,
      count: 4,
      buckets: [
        { le: 0.1, count: 0 },
        { le: 0.5, count: 3 },
        { le: 1, count: 3 },
        { le: Number.POSITIVE_INFINITY, count: 4 },
      ],
    });
    expect(readHistogram(metrics, 'pool_not_exposed_seconds')).toBeUndefined();
  });
});

describe('parsePrometheusText on hand-written text', () => {
  it('handles special values, timestamps, comments, odd spacing and bad lines', () => {
    const text = [
      '# A free comment',
      '   # indented comment',
      '# TYPE odd gauge',
      'odd{a="1"} NaN',
      'odd{a="2"} +Inf 1700000000000',
      'odd{a="3"} -Inf',
      'odd { a = "4" , b="x" , } 1.5e3',
      'odd{} -0.25',
      'trailing_cr 7\r',
      '{"my.dotted.name", "label.with.dots"="v"} 42',
      'om_total 3 # {trace_id="abc"} 1 1700000000',
      'broken{a="unterminated} 1',
      'no_value',
      'bad_value 0x1f',
      '',
    ].join('\n');
    const metrics = parsePrometheusText(text);
    expect(metrics.invalidLines).toBe(3);
    const odd = metrics.samples.filter((sample) => sample.name === 'odd').map((sample) => sample.value);
    expect(odd).toEqual([Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 1500, -0.25]);
    expect(metrics.samples.find((sample) => sample.value === 1500)?.labels).toEqual({ a: '4', b: 'x' });
    expect(readGauge(metrics, 'trailing_cr')).toBe(7);
    expect(readGauge(metrics, 'my.dotted.name', { 'label.with.dots': 'v' })).toBe(42);
    expect(readCounter(metrics, 'om_total')).toBe(3);
    // A sum that is not a finite number is no figure at all.
    expect(readGauge(metrics, 'odd')).toBeUndefined();
  });

  it('parses values the way Prometheus writes them', () => {
    expect(parsePrometheusValue('+Inf')).toBe(Number.POSITIVE_INFINITY);
    expect(parsePrometheusValue('-inf')).toBe(Number.NEGATIVE_INFINITY);
    expect(parsePrometheusValue('NaN')).toBeNaN();
    expect(parsePrometheusValue('1e-3')).toBe(0.001);
    expect(parsePrometheusValue('.5')).toBe(0.5);
    expect(parsePrometheusValue('')).toBeUndefined();
    expect(parsePrometheusValue('abc')).toBeUndefined();
  });

  it('puts the series of a labelled counter that lack the label under ""', () => {
    const metrics = parsePrometheusText('# TYPE e counter\ne{kind="a"} 1\ne 2\n');
    expect(readCounterByLabel(metrics, 'e', 'kind')).toEqual({ a: 1, '': 2 });
  });
});

describe('scrape', () => {
  let server: Server | undefined;
  afterEach(async () => {
    const closing = server;
    server = undefined;
    closing?.closeAllConnections();
    if (closing !== undefined) await new Promise((resolve) => closing.close(resolve));
  });

  const listen = async (handler: Parameters<typeof createServer>[1]): Promise<string> => {
    const started = createServer(handler);
    server = started;
    await new Promise<void>((resolve) => started.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(started.address() as AddressInfo).port}/metrics`;
  };

  it('returns the body of a real metrics endpoint', async () => {
    const url = await listen((_req, res) => res.end('up 1\n'));
    const metrics = parsePrometheusText(await scrape(url));
    expect(readGauge(metrics, 'up')).toBe(1);
  });

  it('rejects a non-2xx answer', async () => {
    const url = await listen((_req, res) => {
      res.statusCode = 503;
      res.end('starting');
    });
    await expect(scrape(url)).rejects.toThrow(/503/);
  });

  it('gives up after its timeout when the endpoint never answers', async () => {
    const url = await listen(() => {
      // Never answers, like a target stuck while restarting.
    });
    const started = Date.now();
    await expect(scrape(url, undefined, { timeoutMs: 150 })).rejects.toThrow();
    expect(Date.now() - started).toBeLessThan(5_000);
  });
});

describe('histogramQuantile', () => {
  it('interpolates inside the bucket the quantile falls in, like PromQL', async () => {
    const { histogramQuantile } = await import('../../harness/collect/prometheus.ts');
    const buckets = [
      { le: 0.01, count: 50 },
      { le: 0.1, count: 90 },
      { le: 1, count: 100 },
      { le: Number.POSITIVE_INFINITY, count: 100 },
    ];
    expect(histogramQuantile(buckets, 0.5)).toBeCloseTo(0.01, 10);
    expect(histogramQuantile(buckets, 0.7)).toBeCloseTo(0.01 + 0.09 * (20 / 40), 10);
    expect(histogramQuantile(buckets, 0.99)).toBeCloseTo(0.1 + 0.9 * (9 / 10), 10);
    expect(histogramQuantile([{ le: 1, count: 0 }], 0.5)).toBeUndefined();
    expect(
      histogramQuantile(
        [
          { le: 1, count: 5 },
          { le: Number.POSITIVE_INFINITY, count: 10 },
        ],
        0.99,
      ),
    ).toBe(1);
  });
});
