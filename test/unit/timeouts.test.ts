import { describe, expect, it } from 'vitest';
import { capIdleTimeout, connectTimeout, maxLifetime, readTimeout } from '../../harness/analysis/timeouts.ts';
import { inKnobUnit } from '../../harness/tuning/idle-timeout.ts';

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

describe('inKnobUnit', () => {
  it("turns ms into the knob's unit, rounding seconds up and keeping inside the knob's range", () => {
    expect(inKnobUnit(250, { unit: 's' })).toBe(1);
    expect(inKnobUnit(1_500, { unit: 'ms' })).toBe(1_500);
    // HikariCP's idleTimeout cannot go below 10 s: a 600 ms candidate is held at 10 000 ms, not sent as 600.
    expect(inKnobUnit(600, { unit: 'ms', min: 10_000, max: 3_600_000 })).toBe(10_000);
    expect(inKnobUnit(7_200_000, { unit: 'ms', min: 0, max: 3_600_000 })).toBe(3_600_000);
  });
});
