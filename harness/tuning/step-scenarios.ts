import { defaultMix } from '../../scenarios/default-mix.ts';
import type { ClosedScenario, OpenScenario, RequestSpec } from '../../scenarios/scenario.ts';
import type { Plan } from '../config/plan.ts';

/** Durations of one measured trial: `--quick` trades precision for a look in about a minute. */
function timing(plan: Plan): { warmupMs: number; durationMs: number } {
  return plan.config.quick ? { warmupMs: 300, durationMs: 1_000 } : { warmupMs: 1_000, durationMs: 3_000 };
}

/** The request mix of the plan's scenario (so a user's mix carries into every step). */
function mixOf(plan: Plan): readonly RequestSpec[] {
  return plan.scenario.mix.length > 0 ? plan.scenario.mix : defaultMix;
}

/** Step 2 and 3: open model at the configured steady rate (Poisson arrivals). */
export function steadyScenario(plan: Plan): OpenScenario {
  const { warmupMs, durationMs } = timing(plan);
  const rate = plan.config.tuning.steadyRate;
  return {
    name: `steady@${rate}`,
    description: `open model, Poisson arrivals at ${rate} req/s`,
    model: 'open',
    arrival: { kind: 'poisson', rate },
    warmupMs,
    durationMs,
    maxInFlight: 1_000,
    requestTimeoutMs: 10_000,
    mix: mixOf(plan),
  };
}

/** Step 4: closed model at the configured concurrency: what the target can do flat out. */
export function saturateScenario(plan: Plan): ClosedScenario {
  const { warmupMs, durationMs } = timing(plan);
  const connections = plan.config.tuning.concurrency;
  return {
    name: `saturate@${connections}`,
    description: `closed model, ${connections} connections back to back`,
    model: 'closed',
    warmupMs,
    stages: [{ connections, durationMs }],
    requestTimeoutMs: 10_000,
    mix: mixOf(plan),
  };
}

/** Step 5: traffic with quiet periods; the gap is what the idle timeout is set against. */
export function idleGapsScenario(plan: Plan): OpenScenario & { readonly arrival: { kind: 'idle-gaps' } } {
  const rate = plan.config.tuning.steadyRate;
  const activeMs = plan.config.quick ? 500 : 1_000;
  const idleMs = plan.config.quick ? 1_200 : 3_000;
  return {
    name: `idle-gaps@${rate}`,
    description: `open model, ${rate} req/s for ${activeMs} ms then ${idleMs} ms of silence`,
    model: 'open',
    arrival: { kind: 'idle-gaps', rate, activeMs, idleMs },
    warmupMs: activeMs,
    // Two quiet periods, each followed by traffic that finds out what the pool kept.
    durationMs: 2 * (activeMs + idleMs) + activeMs,
    maxInFlight: 1_000,
    requestTimeoutMs: 10_000,
    mix: mixOf(plan),
  };
}

/** Step 6: the open model at the configured peak rate. */
export function peakScenario(plan: Plan): OpenScenario {
  const { warmupMs, durationMs } = timing(plan);
  const rate = plan.config.tuning.peakRate;
  return {
    name: `peak@${rate}`,
    description: `open model, Poisson arrivals at the peak rate ${rate} req/s`,
    model: 'open',
    arrival: { kind: 'poisson', rate },
    warmupMs,
    durationMs,
    maxInFlight: 2_000,
    requestTimeoutMs: 10_000,
    mix: mixOf(plan),
  };
}

/** Step 6: bursts to 1.5x the peak rate on top of the steady rate. */
export function burstScenario(plan: Plan): OpenScenario {
  const { warmupMs, durationMs } = timing(plan);
  const { steadyRate, peakRate } = plan.config.tuning;
  const burstRate = Math.round(peakRate * 1.5);
  const periodMs = plan.config.quick ? 1_000 : 1_500;
  return {
    name: `burst@${burstRate}`,
    description: `open model, ${steadyRate} req/s with bursts to ${burstRate} req/s`,
    model: 'open',
    arrival: { kind: 'burst', baseRate: steadyRate, burstRate, burstMs: periodMs / 3, periodMs },
    warmupMs,
    durationMs,
    maxInFlight: 2_000,
    requestTimeoutMs: 10_000,
    mix: mixOf(plan),
  };
}
