// Runs the resilience probes against a started target, one after another in a fixed order, each within
// its own deadline and all within an overall one. A probe that throws or overruns becomes a
// `not-checked` result naming the cause: a probe never ends the run.
import { startCollector } from '../collect/sampler.ts';
import { messageOf } from '../errors.ts';
import type { KnobValues } from '../results/trial.ts';
import type { StartedTarget } from '../runtime/service.ts';
import { circuitBreakerProbe } from './circuit-breaker.ts';
import { deadConnectionProbe } from './dead-connection.ts';
import { drainingProbe } from './draining.ts';
import { fdHeadroomProbe } from './fd-headroom.ts';
import { leaksProbe } from './leaks.ts';
import { startLoad } from './load.ts';
import {
  notChecked,
  type Probe,
  type ProbeClock,
  type ProbeContext,
  type ProbeId,
  type ProbeRequest,
  type ProbeResult,
} from './probe.ts';
import { slowDependencyProbe } from './slow-dependency.ts';

/**
 * The bundled probes, in the order they run: the breaker first, before other faults can have opened
 * it; the probes that restart a service after those that only load it; FD headroom on the fresh app.
 */
export const bundledProbes: readonly Probe[] = [
  leaksProbe,
  circuitBreakerProbe,
  slowDependencyProbe,
  deadConnectionProbe,
  drainingProbe,
  fdHeadroomProbe,
];

/** Defaults of {@link RunProbesOptions}. */
export const probeDefaults = {
  deadlineMs: 240_000,
  probeDeadlineMs: 60_000,
  /** After its deadline, a probe gets this long to clean up (release locks, stop load) before it is left behind. */
  cleanupGraceMs: 5_000,
} as const;

/** Options of {@link runProbes}. */
export interface RunProbesOptions {
  /** Which probes to run (default: all); they keep the fixed order. */
  readonly only?: readonly ProbeId[];
  /** All probes together end by then; those not started are `not-checked`. */
  readonly deadlineMs?: number;
  /** Each probe ends by then. */
  readonly probeDeadlineMs?: number;
  readonly cleanupGraceMs?: number;
  /** Told as each probe ends (progress). */
  readonly onResult?: (result: ProbeResult) => void;
  /** The probes to choose from; default {@link bundledProbes} (tests pass their own). */
  readonly probes?: readonly Probe[];
}

/** What {@link probeContext} needs; everything else has a default. */
export interface ProbeContextInput {
  readonly target: StartedTarget;
  readonly knobs: KnobValues;
  readonly request: ProbeRequest;
  /** The scenario's other requests, most common first (see {@link ProbeContext.otherRequests}). */
  readonly otherRequests?: readonly ProbeRequest[];
  readonly signal: AbortSignal;
  readonly clock: ProbeClock;
  /** Default 8. */
  readonly concurrency?: number;
  /** Default 4 x concurrency. */
  readonly peakConcurrency?: number;
}

/** A probe context with the real load generator and collector. */
export function probeContext(input: ProbeContextInput): ProbeContext {
  const concurrency = input.concurrency ?? 8;
  return {
    target: input.target,
    knobs: input.knobs,
    request: input.request,
    ...(input.otherRequests === undefined ? {} : { otherRequests: input.otherRequests }),
    signal: input.signal,
    clock: input.clock,
    concurrency,
    peakConcurrency: input.peakConcurrency ?? concurrency * 4,
    load: startLoad,
    collect: startCollector,
  };
}

/**
 * Runs the probes in order. After each, the target is brought back to the knobs in force with every
 * service running (`apply` restarts what a probe stopped or crashed). Resolves to one result per probe.
 */
export async function runProbes(
  context: ProbeContext,
  options: RunProbesOptions = {},
): Promise<ProbeResult[]> {
  const deadlineMs = options.deadlineMs ?? probeDefaults.deadlineMs;
  const probeDeadlineMs = options.probeDeadlineMs ?? probeDefaults.probeDeadlineMs;
  const graceMs = options.cleanupGraceMs ?? probeDefaults.cleanupGraceMs;
  const chosen = (options.probes ?? bundledProbes).filter(
    (probe) => options.only === undefined || options.only.includes(probe.id),
  );
  const overall = AbortSignal.timeout(deadlineMs);
  const results: ProbeResult[] = [];
  let broken: string | undefined;
  for (const probe of chosen) {
    let result: ProbeResult;
    if (context.signal.aborted) result = notChecked(probe, 'the run was interrupted before this probe');
    else if (overall.aborted)
      result = notChecked(
        probe,
        `the probes' overall deadline (${seconds(deadlineMs)}) passed before this probe`,
      );
    else if (broken !== undefined) result = notChecked(probe, broken);
    else {
      const signal = AbortSignal.any([context.signal, overall, AbortSignal.timeout(probeDeadlineMs)]);
      result = await guarded(probe, { ...context, signal }, probeDeadlineMs, graceMs);
      // An interrupted run is stopping the target anyway: no restore to wait for.
      if (!context.signal.aborted) {
        try {
          await context.target.apply(context.knobs);
        } catch (error) {
          broken = `the target could not be restored after the ${probe.id} probe: ${messageOf(error)}`;
        }
      }
    }
    results.push(result);
    options.onResult?.(result);
  }
  return results;
}

/** Runs one probe; its failure or overrun becomes a `not-checked` result naming the cause. */
async function guarded(probe: Probe, context: ProbeContext, deadlineMs: number, graceMs: number) {
  const { signal } = context;
  const run = probe.run(context).then(
    (result) => ({ result }),
    (error: unknown) => ({ error }),
  );
  const aborted = new Promise<'aborted'>((resolve) => {
    if (signal.aborted) resolve('aborted');
    signal.addEventListener('abort', () => resolve('aborted'), { once: true });
  });
  let outcome = await Promise.race([run, aborted]);
  if (outcome === 'aborted') {
    // Give it a moment to see the abort and clean up (release its locks, stop its load).
    const grace = new Promise<'aborted'>((resolve) => setTimeout(() => resolve('aborted'), graceMs).unref());
    outcome = await Promise.race([run, grace]);
  }
  if (outcome !== 'aborted' && 'result' in outcome) return outcome.result;
  if (signal.aborted) {
    const timedOut = (signal.reason as { name?: unknown } | undefined)?.name === 'TimeoutError';
    return notChecked(
      probe,
      timedOut
        ? `the probe did not finish within its deadline (${seconds(deadlineMs)} each, or the overall one)`
        : 'the run was interrupted during this probe',
    );
  }
  return notChecked(
    probe,
    `the probe could not run: ${messageOf(outcome === 'aborted' ? outcome : outcome.error)}`,
  );
}

function seconds(ms: number): string {
  return `${Math.round(ms / 1000)} s`;
}
