import { defaultMix } from './default-mix.ts';
import type { LoadOptions, OpenScenario } from './scenario.ts';

/** What a burst scenario is built from. */
export interface BurstOptions extends LoadOptions {
  readonly baseRate: number;
  readonly burstRate: number;
  readonly burstMs: number;
  /** One burst starts every `periodMs`. */
  readonly periodMs: number;
}

/** Open model, bursts on top of a base rate: tests headroom and queueing (step 6 of the method). */
export function burstScenario({ mix = defaultMix, ...options }: BurstOptions): OpenScenario {
  const { baseRate, burstRate, burstMs, periodMs, warmupMs, durationMs } = options;
  return {
    name: `burst@${burstRate}`,
    description: `open model, ${baseRate} req/s with bursts to ${burstRate} req/s`,
    model: 'open',
    arrival: { kind: 'burst', baseRate, burstRate, burstMs, periodMs },
    warmupMs,
    durationMs,
    maxInFlight: 2_000,
    requestTimeoutMs: 10_000,
    mix,
  };
}

/** Open model with short bursts at several times the base rate: tests headroom and queueing. */
export const burst: OpenScenario = {
  ...burstScenario({
    baseRate: 100,
    burstRate: 800,
    burstMs: 1_000,
    periodMs: 4_000,
    warmupMs: 1_000,
    durationMs: 12_000,
  }),
  name: 'burst',
  description: 'open model, 100 req/s with a 1 s burst to 800 req/s every 4 s',
};
