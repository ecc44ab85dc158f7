import type { OpenScenario } from './scenario.ts';
import { type SteadyOptions, steadyScenario } from './steady.ts';

/** Open model, Poisson arrivals at the peak rate, with room for twice the in-flight requests (step 6). */
export function peakScenario(options: SteadyOptions): OpenScenario {
  return {
    ...steadyScenario(options),
    name: `peak@${options.rate}`,
    description: `open model, Poisson arrivals at the peak rate ${options.rate} req/s`,
    maxInFlight: 2_000,
  };
}
