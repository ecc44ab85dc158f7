import { defaultMix } from './default-mix.ts';
import type { LoadOptions, OpenScenario } from './scenario.ts';

/**
 * What an idle-gaps scenario is built from. Warm-up defaults to one active period; the measured
 * duration to two quiet periods, each followed by traffic that finds out what the pool kept.
 */
export interface IdleGapsOptions extends Partial<LoadOptions> {
  /** Arrival rate while traffic flows, req/s. */
  readonly rate: number;
  readonly activeMs: number;
  /** The quiet gap: what the idle timeout is set against. */
  readonly idleMs: number;
}

/** Open model, traffic with quiet periods (step 5 of the method). */
export function idleGapsScenario({
  rate,
  activeMs,
  idleMs,
  warmupMs = activeMs,
  durationMs = 2 * (activeMs + idleMs) + activeMs,
  mix = defaultMix,
}: IdleGapsOptions): OpenScenario & { readonly arrival: { kind: 'idle-gaps' } } {
  return {
    name: `idle-gaps@${rate}`,
    description: `open model, ${rate} req/s for ${activeMs} ms then ${idleMs} ms of silence`,
    model: 'open',
    arrival: { kind: 'idle-gaps', rate, activeMs, idleMs },
    warmupMs,
    durationMs,
    maxInFlight: 1_000,
    requestTimeoutMs: 10_000,
    mix,
  };
}

/** Open model with quiet periods between bursts of traffic: what idle timeouts are set from. */
export const idleGaps: OpenScenario = {
  ...idleGapsScenario({ rate: 200, activeMs: 2_000, idleMs: 3_000, warmupMs: 1_000, durationMs: 15_000 }),
  name: 'idle-gaps',
  description: 'open model, 200 req/s for 2 s then 3 s of silence, repeated',
};
