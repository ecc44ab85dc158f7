import { defaultMix } from './default-mix.ts';
import type { LoadOptions, OpenScenario } from './scenario.ts';

/** What a steady scenario is built from. */
export interface SteadyOptions extends LoadOptions {
  /** Mean arrival rate, req/s. */
  readonly rate: number;
}

/** Open model, Poisson arrivals at `rate`: the everyday load (steps 2 and 3 of the method). */
export function steadyScenario({
  rate,
  warmupMs,
  durationMs,
  mix = defaultMix,
}: SteadyOptions): OpenScenario {
  return {
    name: `steady@${rate}`,
    description: `open model, Poisson arrivals at ${rate} req/s`,
    model: 'open',
    arrival: { kind: 'poisson', rate },
    warmupMs,
    durationMs,
    maxInFlight: 1_000,
    requestTimeoutMs: 10_000,
    mix,
  };
}

/** Open model at a constant Poisson arrival rate: the everyday load. */
export const steady: OpenScenario = {
  ...steadyScenario({ rate: 200, warmupMs: 2_000, durationMs: 10_000 }),
  name: 'steady',
  description: 'open model, Poisson arrivals at a steady 200 req/s',
};
