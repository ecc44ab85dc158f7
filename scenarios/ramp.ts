import { defaultMix } from './default-mix.ts';
import type { OpenScenario } from './scenario.ts';

/** Open model whose rate rises linearly: latency against offered load in one pass. */
export const ramp: OpenScenario = {
  name: 'ramp',
  description: 'open model, arrival rate rising linearly from 50 to 1000 req/s',
  model: 'open',
  arrival: { kind: 'ramp', from: 50, to: 1_000 },
  warmupMs: 1_000,
  durationMs: 15_000,
  maxInFlight: 2_000,
  requestTimeoutMs: 10_000,
  mix: defaultMix,
};
