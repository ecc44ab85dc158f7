// Pure readings of a probe's request records: what was sent when, what succeeded, how long it took.
import { median } from '../analysis/statistics.ts';
import type { RequestRecord } from './load.ts';

/** A 2xx answer. */
export function succeeded(record: RequestRecord): boolean {
  return record.status >= 200 && record.status < 300;
}

/** How long the request took, ms. */
export function durationOf(record: RequestRecord): number {
  return record.endMs - record.startMs;
}

/** The requests sent in [fromMs, toMs). */
export function sentBetween(
  records: readonly RequestRecord[],
  fromMs: number,
  toMs: number,
): RequestRecord[] {
  return records.filter((record) => record.startMs >= fromMs && record.startMs < toMs);
}

/** The requests in flight at any time in (fromMs, toMs): sent before `toMs` and ended after `fromMs`. */
export function overlapping(
  records: readonly RequestRecord[],
  fromMs: number,
  toMs: number,
): RequestRecord[] {
  return records.filter((record) => record.startMs < toMs && record.endMs > fromMs);
}

/** Median and largest duration of the records (undefined when there are none), ms. */
export function durations(records: readonly RequestRecord[]): { median?: number; max?: number } {
  const values = records.map(durationOf);
  if (values.length === 0) return {};
  return { median: median(values) ?? 0, max: values.reduce((a, b) => Math.max(a, b)) };
}
