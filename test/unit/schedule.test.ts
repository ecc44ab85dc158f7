import { describe, expect, it } from 'vitest';
import { scenarios } from '../../scenarios/index.ts';
import { saturate } from '../../scenarios/saturate.ts';
import { measuredMs, scaleScenario } from '../../scenarios/scenario.ts';
import { arrivalSchedule, offeredCount, requestPicker, seededRandom } from '../../scenarios/schedule.ts';

describe('arrival schedules', () => {
  it('spaces constant arrivals evenly', () => {
    const times = arrivalSchedule({ kind: 'constant', rate: 100 }, 1_000, seededRandom(1));
    expect(times.length).toBe(100);
    expect(times[0]).toBe(0);
    expect((times[1] ?? 0) - (times[0] ?? 0)).toBeCloseTo(10, 6);
  });

  it('draws Poisson arrivals with the right mean rate, reproducibly from the seed', () => {
    const a = arrivalSchedule({ kind: 'poisson', rate: 1_000 }, 20_000, seededRandom(7));
    const b = arrivalSchedule({ kind: 'poisson', rate: 1_000 }, 20_000, seededRandom(7));
    expect(a).toEqual(b);
    expect(a.length).toBeGreaterThan(19_400);
    expect(a.length).toBeLessThan(20_600);
    // Exponential gaps: the coefficient of variation is about 1 (evenly spaced would be 0).
    const gaps = Array.from(a.slice(1), (t, i) => t - (a[i] ?? 0));
    const mean = gaps.reduce((s, g) => s + g, 0) / gaps.length;
    const sd = Math.sqrt(gaps.reduce((s, g) => s + (g - mean) ** 2, 0) / gaps.length);
    expect(sd / mean).toBeGreaterThan(0.9);
    expect(sd / mean).toBeLessThan(1.1);
  });

  it('ramps the rate linearly', () => {
    const times = arrivalSchedule({ kind: 'ramp', from: 0, to: 200 }, 10_000, seededRandom(1));
    expect(times.length).toBe(1_000);
    const firstHalf = times.filter((t) => t < 5_000).length;
    expect(firstHalf).toBe(250);
  });

  it('leaves idle gaps silent and counts bursts at their own rate', () => {
    const idle = arrivalSchedule(
      { kind: 'idle-gaps', rate: 100, activeMs: 1_000, idleMs: 2_000 },
      6_000,
      seededRandom(1),
    );
    expect(idle.length).toBe(200);
    expect(Array.from(idle).some((t) => t % 3_000 >= 1_000)).toBe(false);
    const burst = arrivalSchedule(
      { kind: 'burst', baseRate: 10, burstRate: 100, burstMs: 1_000, periodMs: 2_000 },
      4_000,
      seededRandom(1),
    );
    expect(burst.length).toBe(220);
    expect(
      offeredCount({ kind: 'burst', baseRate: 10, burstRate: 100, burstMs: 1_000, periodMs: 2_000 }, 4_000),
    ).toBe(220);
  });

  it('every bundled open scenario offers what its schedule sends', () => {
    for (const scenario of Object.values(scenarios)) {
      if (scenario.model !== 'open') continue;
      const times = arrivalSchedule(scenario.arrival, scenario.durationMs, seededRandom(3));
      const offered = offeredCount(scenario.arrival, scenario.durationMs);
      expect(Math.abs(times.length - offered) / offered, scenario.name).toBeLessThan(0.05);
      expect(times.every((t, i) => i === 0 || t >= (times[i - 1] ?? 0))).toBe(true);
    }
  });
});

describe('request mix', () => {
  it('picks requests in proportion to their weights', () => {
    const pick = requestPicker(
      [
        { name: 'a', method: 'GET', path: '/a', weight: 3 },
        { name: 'b', method: 'GET', path: '/b', weight: 1 },
      ],
      seededRandom(11),
    );
    let a = 0;
    for (let i = 0; i < 40_000; i++) if (pick().name === 'a') a++;
    expect(a / 40_000).toBeGreaterThan(0.74);
    expect(a / 40_000).toBeLessThan(0.76);
  });
});

describe('scenario scaling', () => {
  it('scales warm-up and measured time for --quick', () => {
    const quick = scaleScenario(saturate, 0.25);
    expect(quick.warmupMs).toBe(500);
    expect(measuredMs(quick)).toBe(measuredMs(saturate) / 4);
  });
});
