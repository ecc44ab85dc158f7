import { defaultMix } from './default-mix.ts';
import type { OpenScenario } from './scenario.ts';

/** Open model at a constant Poisson arrival rate: the everyday load. */
export const steady: OpenScenario = {
  name: 'steady',
  description: 'open model, Poisson arrivals at a steady 200 req/s',
  model: 'open',
  arrival: { kind: 'poisson', rate: 200 },
  warmupMs: 2_000,
  durationMs: 10_000,
  maxInFlight: 1_000,
  requestTimeoutMs: 10_000,
  mix: defaultMix,
};
