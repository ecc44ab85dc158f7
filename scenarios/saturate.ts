import { defaultMix } from './default-mix.ts';
import type { ClosedScenario, ClosedStage, LoadOptions } from './scenario.ts';

/** What a saturate scenario is built from: its stages say how long it measures. */
export interface SaturateOptions extends Omit<LoadOptions, 'durationMs'> {
  /** Measured stages in order; the last (highest) gives the trial's figures and the name. */
  readonly stages: readonly ClosedStage[];
}

/** Closed model, connections back to back: what the target can do flat out (step 4 of the method). */
export function saturateScenario({ stages, warmupMs, mix = defaultMix }: SaturateOptions): ClosedScenario {
  const connections = stages.map((stage) => stage.connections);
  return {
    name: `saturate@${connections.at(-1) ?? 0}`,
    description: `closed model, ${connections.join(' then ')} connections back to back`,
    model: 'closed',
    warmupMs,
    stages,
    requestTimeoutMs: 10_000,
    mix,
  };
}

/** Closed model at rising concurrency: finds what the target can do flat out. */
export const saturate: ClosedScenario = {
  ...saturateScenario({
    warmupMs: 2_000,
    stages: [
      { connections: 8, durationMs: 3_000 },
      { connections: 16, durationMs: 3_000 },
      { connections: 32, durationMs: 6_000 },
    ],
  }),
  name: 'saturate',
  description: 'closed model, 8 then 16 then 32 connections sending back to back',
};
