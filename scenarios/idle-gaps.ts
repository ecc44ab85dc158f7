import { defaultMix } from './default-mix.ts';
import type { OpenScenario } from './scenario.ts';

/** Open model with quiet periods between bursts of traffic: what idle timeouts are set from. */
export const idleGaps: OpenScenario = {
  name: 'idle-gaps',
  description: 'open model, 200 req/s for 2 s then 3 s of silence, repeated',
  model: 'open',
  arrival: { kind: 'idle-gaps', rate: 200, activeMs: 2_000, idleMs: 3_000 },
  warmupMs: 1_000,
  durationMs: 15_000,
  maxInFlight: 1_000,
  requestTimeoutMs: 10_000,
  mix: defaultMix,
};
