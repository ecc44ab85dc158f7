import { describe, expect, it } from 'vitest';
import { littlesLawCheck } from '../../harness/analysis/littles-law.ts';

describe('littlesLawCheck', () => {
  it('finds λW equal to the closed-model concurrency consistent', () => {
    const check = littlesLawCheck({ throughput: 2000, meanLatencyMs: 5, concurrency: 10 });
    expect(check).toMatchObject({
      expectedInFlight: 10,
      measured: 10,
      reference: 'concurrency',
      ratio: 1,
      verdict: 'consistent',
    });
    expect(check?.note).toBe(
      'λW = 10 in flight against 10 connections (ratio 1): throughput and latency agree.',
    );
  });

  it('keeps ±25% inclusive and flags beyond it', () => {
    expect(littlesLawCheck({ throughput: 1000, meanLatencyMs: 7.5, concurrency: 10 })?.verdict).toBe(
      'consistent',
    );
    expect(littlesLawCheck({ throughput: 1000, meanLatencyMs: 12.5, concurrency: 10 })?.verdict).toBe(
      'consistent',
    );
    expect(littlesLawCheck({ throughput: 1000, meanLatencyMs: 7.4, concurrency: 10 })?.verdict).toBe(
      'mismatch',
    );
    expect(
      littlesLawCheck({ throughput: 1000, meanLatencyMs: 7.4, concurrency: 10, tolerance: 0.3 })?.verdict,
    ).toBe('consistent');
  });

  it('blames the generator or network when connections sit idle between requests', () => {
    const check = littlesLawCheck({ throughput: 4000, meanLatencyMs: 2.5, concurrency: 50 });
    expect(check?.expectedInFlight).toBe(10);
    expect(check?.ratio).toBe(0.2);
    expect(check?.verdict).toBe('mismatch');
    expect(check?.note).toContain('load generator or the network');
  });

  it('says latency or throughput is miscounted when more is in flight than can exist', () => {
    const check = littlesLawCheck({ throughput: 1000, meanLatencyMs: 27, concurrency: 10 });
    expect(check?.ratio).toBeCloseTo(2.7, 12);
    expect(check?.note).toContain('miscounted');
  });

  it('prefers a direct in-flight count, then concurrency, then pool use', () => {
    const base = { throughput: 1000, meanLatencyMs: 10 };
    expect(littlesLawCheck({ ...base, measuredInFlight: 8, concurrency: 50, poolInUse: 4 })?.reference).toBe(
      'in-flight',
    );
    expect(littlesLawCheck({ ...base, concurrency: 50, poolInUse: 4 })?.reference).toBe('concurrency');
    const pool = littlesLawCheck({ ...base, poolInUse: 4 });
    expect(pool).toMatchObject({ reference: 'pool-in-use', measured: 4, ratio: 2.5, verdict: 'mismatch' });
    expect(pool?.note).toContain('outside the pool');
    expect(littlesLawCheck({ ...base, poolInUse: 20 })?.note).toContain('leak');
    expect(littlesLawCheck(base)).toBeUndefined();
  });

  it('handles an idle system and rejects impossible inputs', () => {
    expect(littlesLawCheck({ throughput: 0, meanLatencyMs: 0, concurrency: 0 })).toMatchObject({
      ratio: 1,
      verdict: 'consistent',
    });
    expect(littlesLawCheck({ throughput: 10, meanLatencyMs: 100, poolInUse: 0 })?.ratio).toBe(Infinity);
    expect(() => littlesLawCheck({ throughput: -1, meanLatencyMs: 1, concurrency: 1 })).toThrow(/throughput/);
    expect(() => littlesLawCheck({ throughput: 1, meanLatencyMs: NaN, concurrency: 1 })).toThrow(
      /meanLatencyMs/,
    );
    expect(() => littlesLawCheck({ throughput: 1, meanLatencyMs: 1, poolInUse: -2 })).toThrow(/poolInUse/);
  });
});
