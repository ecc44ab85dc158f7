import * as hdr from 'hdr-histogram-js';
import type { LatencySummary } from '../drivers/driver.ts';

/** A latency histogram in microseconds: 1 µs to 10 min, 3 significant digits. */
export function createLatencyHistogram(): hdr.Histogram {
  return hdr.build({
    bitBucketSize: 64,
    lowestDiscernibleValue: 1,
    highestTrackableValue: 600_000_000,
    numberOfSignificantValueDigits: 3,
    autoResize: true,
    useWebAssembly: false,
  });
}

/** Decodes a compressed base64 HdrHistogram (as autocannon and {@link encodeHistogram} write). */
export function decodeHistogram(encoded: string): hdr.Histogram {
  return hdr.decodeFromCompressedBase64(encoded, 64, false);
}

/** Encodes a histogram as compressed base64 for storage in a trial result. */
export function encodeHistogram(histogram: hdr.Histogram): string {
  return hdr.encodeIntoCompressedBase64(histogram);
}

/** Merges histograms into a new one; the inputs are left as they were. */
export function mergeHistograms(histograms: readonly hdr.Histogram[]): hdr.Histogram {
  const merged = createLatencyHistogram();
  for (const histogram of histograms) merged.add(histogram);
  return merged;
}

/** Percentiles in milliseconds from a histogram recorded in `unitMicros` microseconds per count unit. */
export function summarize(histogram: hdr.Histogram, unitMicros = 1): LatencySummary {
  const ms = (value: number) => (value * unitMicros) / 1000;
  if (histogram.totalCount === 0) {
    return { count: 0, mean: 0, min: 0, p50: 0, p90: 0, p99: 0, p999: 0, max: 0 };
  }
  return {
    count: histogram.totalCount,
    mean: ms(histogram.mean),
    min: ms(histogram.minNonZeroValue),
    p50: ms(histogram.getValueAtPercentile(50)),
    p90: ms(histogram.getValueAtPercentile(90)),
    p99: ms(histogram.getValueAtPercentile(99)),
    p999: ms(histogram.getValueAtPercentile(99.9)),
    max: ms(histogram.maxValue),
  };
}
