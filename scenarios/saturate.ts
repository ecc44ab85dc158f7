import { defaultMix } from './default-mix.ts';
import type { ClosedScenario } from './scenario.ts';

/** Closed model at rising concurrency: finds what the target can do flat out. */
export const saturate: ClosedScenario = {
  name: 'saturate',
  description: 'closed model, 8 then 16 then 32 connections sending back to back',
  model: 'closed',
  warmupMs: 2_000,
  stages: [
    { connections: 8, durationMs: 3_000 },
    { connections: 16, durationMs: 3_000 },
    { connections: 32, durationMs: 6_000 },
  ],
  requestTimeoutMs: 10_000,
  mix: defaultMix,
};
