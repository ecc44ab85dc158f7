import { burstScenario } from '../../scenarios/burst.ts';
import { capacityScenario } from '../../scenarios/capacity.ts';
import { defaultMix } from '../../scenarios/default-mix.ts';
import { idleGapsScenario } from '../../scenarios/idle-gaps.ts';
import { peakScenario } from '../../scenarios/peak.ts';
import { saturateScenario } from '../../scenarios/saturate.ts';
import type { ClosedScenario, OpenScenario, RequestSpec } from '../../scenarios/scenario.ts';
import { steadyScenario } from '../../scenarios/steady.ts';
import type { Plan } from '../config/plan.ts';

// The scenarios the steps run, with their rates, durations and mix taken from the plan; the shapes
// themselves are built in scenarios/.

/** Durations of one measured trial: `--quick` trades precision for a look in about a minute. */
function timing(plan: Plan): { warmupMs: number; durationMs: number } {
  return plan.config.quick ? { warmupMs: 300, durationMs: 1_000 } : { warmupMs: 1_000, durationMs: 3_000 };
}

/** The request mix of the plan's scenario (so a user's mix carries into every step). */
function mixOf(plan: Plan): readonly RequestSpec[] {
  return plan.scenario.mix.length > 0 ? plan.scenario.mix : defaultMix;
}

/** Step 2 and 3: open model at the configured steady rate (Poisson arrivals). */
export function steadyFor(plan: Plan): OpenScenario {
  return steadyScenario({ rate: plan.config.tuning.steadyRate, ...timing(plan), mix: mixOf(plan) });
}

/** Step 4: closed model at the configured concurrency: what the target can do flat out. */
export function saturateFor(plan: Plan): ClosedScenario {
  const { warmupMs, durationMs } = timing(plan);
  const connections = plan.config.tuning.concurrency;
  return saturateScenario({ stages: [{ connections, durationMs }], warmupMs, mix: mixOf(plan) });
}

/**
 * Step 5: traffic, one quiet period, and traffic again that finds out what the pool kept; the gap is
 * what the idle timeout is set against. One period tells: a timeout shorter than it closes every idle
 * connection in it, and the traffic after it opens them again.
 */
export function idleGapsFor(plan: Plan): ReturnType<typeof idleGapsScenario> {
  const { quick } = plan.config;
  const activeMs = quick ? 500 : 1_000;
  const idleMs = quick ? 1_200 : 3_000;
  return idleGapsScenario({
    rate: plan.config.tuning.steadyRate,
    activeMs,
    idleMs,
    durationMs: activeMs + idleMs + activeMs,
    mix: mixOf(plan),
  });
}

/** Step 6: the open model at the configured peak rate. */
export function peakFor(plan: Plan): OpenScenario {
  return peakScenario({ rate: plan.config.tuning.peakRate, ...timing(plan), mix: mixOf(plan) });
}

/** Step 6: bursts to 1.5x the peak rate on top of the steady rate. */
export function burstFor(plan: Plan): OpenScenario {
  const { steadyRate, peakRate } = plan.config.tuning;
  const periodMs = plan.config.quick ? 1_000 : 1_500;
  return burstScenario({
    baseRate: steadyRate,
    burstRate: Math.round(peakRate * 1.5),
    burstMs: periodMs / 3,
    periodMs,
    ...timing(plan),
    mix: mixOf(plan),
  });
}

/**
 * Step 8: one capacity probe at `rate`. Probes are a third of the other steps' trials (the search runs
 * a dozen of them per setting, and the service already runs: a rate change needs no restart); the
 * validation probe at the answer holds the load 1.2 times as long as a normal trial (3.6 s).
 */
export function capacityFor(plan: Plan, rate: number, validation = false): OpenScenario {
  const { warmupMs, durationMs } = timing(plan);
  return capacityScenario({
    rate: Math.round(rate),
    warmupMs: Math.min(warmupMs, 300),
    durationMs: validation ? Math.round(1.2 * durationMs) : Math.round(durationMs / 3),
    mix: mixOf(plan),
    validation,
  });
}
