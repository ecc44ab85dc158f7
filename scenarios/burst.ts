import { defaultMix } from './default-mix.ts';
import type { OpenScenario } from './scenario.ts';

/** Open model with short bursts at several times the base rate: tests headroom and queueing. */
export const burst: OpenScenario = {
  name: 'burst',
  description: 'open model, 100 req/s with a 1 s burst to 800 req/s every 4 s',
  model: 'open',
  arrival: { kind: 'burst', baseRate: 100, burstRate: 800, burstMs: 1_000, periodMs: 4_000 },
  warmupMs: 1_000,
  durationMs: 12_000,
  maxInFlight: 2_000,
  requestTimeoutMs: 10_000,
  mix: defaultMix,
};
