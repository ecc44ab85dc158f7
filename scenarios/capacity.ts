import type { OpenScenario } from './scenario.ts';
import { type SteadyOptions, steadyScenario } from './steady.ts';

/**
 * One probe of the capacity search (step 8): open model, Poisson arrivals at `rate`, with room for
 * twice the in-flight requests of the peak test. A validation probe is the same load held longer.
 */
export function capacityScenario(options: SteadyOptions & { readonly validation?: boolean }): OpenScenario {
  const kind = options.validation === true ? 'capacity-validate' : 'capacity';
  return {
    ...steadyScenario(options),
    name: `${kind}@${options.rate}`,
    description: `open model, Poisson arrivals at ${options.rate} req/s${options.validation === true ? ', held longer to validate the capacity found' : ''}`,
    maxInFlight: 2_000,
  };
}
