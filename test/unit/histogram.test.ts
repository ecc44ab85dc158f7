import { describe, expect, it } from 'vitest';
import {
  createLatencyHistogram,
  decodeHistogram,
  encodeHistogram,
  mergeHistograms,
  summarize,
} from '../../harness/analysis/histogram.ts';

describe('latency histograms', () => {
  it('summarises exact values in milliseconds from microseconds', () => {
    const histogram = createLatencyHistogram();
    for (let ms = 1; ms <= 100; ms++) histogram.recordValue(ms * 1000);
    const summary = summarize(histogram);
    expect(summary.count).toBe(100);
    expect(summary.min).toBe(1);
    expect(summary.p50).toBeCloseTo(50, 1);
    expect(summary.p99).toBeCloseTo(99, 1);
    expect(summary.max).toBeCloseTo(100, 1);
    expect(summary.mean).toBeCloseTo(50.5, 1);
  });

  it('merges histograms so percentiles are over all samples, leaving the inputs alone', () => {
    const fast = createLatencyHistogram();
    const slow = createLatencyHistogram();
    for (let i = 0; i < 900; i++) fast.recordValue(1_000);
    for (let i = 0; i < 100; i++) slow.recordValue(500_000);
    const merged = mergeHistograms([fast, slow]);
    expect(merged.totalCount).toBe(1_000);
    expect(summarize(merged).p50).toBeCloseTo(1, 2);
    // 10% of samples are 500 ms: p95 and p99 land there, which averaging per-run p99s would not show.
    expect(summarize(merged).p99).toBeCloseTo(500, 0);
    expect(fast.totalCount).toBe(900);
  });

  it('round-trips through compressed base64 and summarises an empty histogram as zeros', () => {
    const histogram = createLatencyHistogram();
    histogram.recordValue(1234);
    histogram.recordValue(98_765);
    const decoded = decodeHistogram(encodeHistogram(histogram));
    expect(decoded.totalCount).toBe(2);
    expect(summarize(decoded).max).toBeCloseTo(98.765, 1);
    expect(summarize(createLatencyHistogram())).toEqual({
      count: 0,
      mean: 0,
      min: 0,
      p50: 0,
      p90: 0,
      p99: 0,
      p999: 0,
      max: 0,
    });
  });
});
