import { describe, expect, it } from 'vitest';
import { capIdleTimeout, connectTimeout, maxLifetime, readTimeout } from '../../harness/analysis/timeouts.ts';

describe('timeout rules', () => {
  it('sets the connect timeout from the p99 acquire wait, with a floor and a ceiling', () => {
    expect(connectTimeout(120).ms).toBe(400);
    expect(connectTimeout(1).ms).toBe(250);
    expect(connectTimeout(9_000).ms).toBe(10_000);
    expect(connectTimeout(undefined).ms).toBe(5_000);
  });

  it('sets the read timeout from the SLA and the measured p99.9', () => {
    expect(readTimeout(250, 100).ms).toBe(1_000);
    expect(readTimeout(250, 900).ms).toBe(1_400);
    expect(readTimeout(50, undefined).ms).toBe(1_000);
  });

  it('keeps max lifetime and idle timeout under the infrastructure cutoffs', () => {
    expect(maxLifetime([350_000, 900_000]).ms).toBe(280_000);
    expect(maxLifetime([]).ms).toBe(1_800_000);
    expect(capIdleTimeout(600_000, [350_000])?.ms).toBe(280_000);
    expect(capIdleTimeout(10_000, [350_000])).toBeUndefined();
  });
});
