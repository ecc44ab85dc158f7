// What every resilience probe shares: the context it runs in, the result it returns, and the small
// readings of the target's definition they all need. A probe measures (I/O) and then hands its figures
// to a pure `judge…` function in its own file, which decides the status and writes the evidence.
import type { CollectTarget, RunningCollector } from '../collect/collector.ts';
import type { CollectorOptions } from '../collect/sampler.ts';
import type { ProbeResult } from '../results/probe-results.ts';
import type { KnobValues } from '../results/trial.ts';
import type { StartedService, StartedTarget } from '../runtime/service.ts';
import type { LoadOptions, ProbeClock, ProbeRequest, RunningLoad } from './load.ts';

export type { ProbeClock, ProbeRequest, ProbeResult };

/** The probes, in the order {@link runProbes} runs them. */
export const probeIds = [
  'leaks',
  'circuit-breaker',
  'slow-dependency',
  'dead-connection',
  'draining',
  'fd-headroom',
] as const;

/** One of {@link probeIds}. */
export type ProbeId = (typeof probeIds)[number];

/** What a pure judge decides from a probe's figures. */
export interface Verdict {
  readonly status: ProbeResult['status'];
  readonly evidence: string;
  readonly figures: Readonly<Record<string, number | undefined>>;
}

/** Everything a probe runs with. */
export interface ProbeContext {
  /** The running target; a probe leaves it as it found it (the same knobs, every service running). */
  readonly target: StartedTarget;
  /** The knob values in force. */
  readonly knobs: KnobValues;
  /** What the probes' load sends. */
  readonly request: ProbeRequest;
  /**
   * The scenario's other requests, most common first: a probe that needs requests in flight (draining)
   * tries them when the first is too fast to be caught mid-flight.
   */
  readonly otherRequests?: readonly ProbeRequest[];
  /** Concurrent clients of the probes' load. */
  readonly concurrency: number;
  /** The concurrency the target must carry at peak (FD headroom extrapolates to it). */
  readonly peakConcurrency: number;
  /** Starts bounded loopback load on a URL (default: `startLoad`). */
  readonly load: (options: LoadOptions) => RunningLoad;
  /** Starts sampling the target (default: `startCollector`). */
  readonly collect: (target: CollectTarget, options?: CollectorOptions) => RunningCollector;
  /** Aborted by the run's interruption or the probe's deadline: the probe stops and cleans up. */
  readonly signal: AbortSignal;
  readonly clock: ProbeClock;
}

/** A resilience probe: one file each in harness/probes/. */
export interface Probe {
  readonly id: ProbeId;
  readonly title: string;
  /** The checklist item it feeds. */
  readonly checklistItem: string;
  run(context: ProbeContext): Promise<ProbeResult>;
}

/** The probe's result from a verdict; figures that are unknown or not finite are left out. */
export function probeResult(probe: Omit<Probe, 'run'>, verdict: Verdict): ProbeResult {
  const figures: Record<string, number> = {};
  for (const [name, value] of Object.entries(verdict.figures)) {
    // Three decimals are more than any of these figures can claim.
    if (value !== undefined && Number.isFinite(value)) figures[name] = Math.round(value * 1000) / 1000;
  }
  return {
    id: probe.id,
    title: probe.title,
    status: verdict.status,
    evidence: verdict.evidence,
    figures,
    checklistItem: probe.checklistItem,
  };
}

/** A `not-checked` result: the probe found nothing to measure, for the reason given. */
export function notChecked(probe: Omit<Probe, 'run'>, evidence: string): ProbeResult {
  return probeResult(probe, { status: 'not-checked', evidence, figures: {} });
}

/** Every probe load stops after this many requests, whatever its length. */
const MAX_REQUESTS = 100_000;

/** The context's load on the entry service: its request, concurrency (unless given), signal and clock. */
export function entryLoad(
  context: ProbeContext,
  shape: { readonly durationMs: number; readonly requestTimeoutMs: number; readonly concurrency?: number },
): RunningLoad {
  return context.load({
    url: context.target.entry().url,
    request: context.request,
    concurrency: shape.concurrency ?? context.concurrency,
    durationMs: shape.durationMs,
    maxRequests: MAX_REQUESTS,
    requestTimeoutMs: shape.requestTimeoutMs,
    signal: context.signal,
    clock: context.clock,
  });
}

/** The pool figures the probes judge against, in ms; absent when the target does not expose the knob. */
export interface PoolSettings {
  readonly size?: number;
  /** 0 means "never" for each timeout. */
  readonly idleTimeoutMs?: number;
  readonly connectTimeoutMs?: number;
  readonly readTimeoutMs?: number;
}

/**
 * The pool of the entry service (else the target's first pool) with its size and timeouts read from the
 * knob values in force, in ms (a knob whose unit is `s` is converted). Pure.
 */
export function poolSettings(target: StartedTarget['definition'], knobs: KnobValues): PoolSettings {
  const pool = target.pools.find((p) => p.service === target.entry) ?? target.pools[0];
  const read = (knob: string | undefined, toMs: boolean): number | undefined => {
    if (knob === undefined) return undefined;
    const value = knobs[knob] ?? target.knobs[knob]?.default;
    if (typeof value !== 'number') return undefined;
    if (!toMs) return value;
    // As the tuning steps read them: seconds when the knob says so, else milliseconds.
    return target.knobs[knob]?.unit === 's' ? value * 1000 : value;
  };
  const sizeKnob = pool?.knobs.size ?? target.poolKnob;
  const settings = {
    size: read(sizeKnob, false),
    idleTimeoutMs: read(pool?.knobs.idleTimeout, true),
    connectTimeoutMs: read(pool?.knobs.connectTimeout, true),
    readTimeoutMs: read(pool?.knobs.readTimeout, true),
  };
  return Object.fromEntries(Object.entries(settings).filter(([, value]) => value !== undefined));
}

/** The PostgreSQL service pooltune started for the target (the one its pool talks to), if any. */
export function databaseOf(target: StartedTarget): StartedService | undefined {
  const name = Object.entries(target.definition.services).find(([, s]) => s.kind === 'postgres')?.[0];
  return name === undefined ? undefined : target.service(name);
}

/** `1234 ms` or `1.2 s`, for evidence. */
export function formatMs(ms: number): string {
  return Math.round(ms) < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`;
}
