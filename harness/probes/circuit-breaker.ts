// Circuit breaker: where the target declares one, its dependency is made to fail (every table locked,
// so calls hang until a timeout) and the breaker must open: errors then come back at once instead of
// after each call's timeout.
import type { TargetDefinition } from '../config/schema.ts';
import type { KnobValues } from '../results/trial.ts';
import type { RequestRecord } from './load.ts';
import {
  databaseOf,
  formatMs,
  notChecked,
  type Probe,
  type ProbeContext,
  type ProbeResult,
  probeResult,
  type Verdict,
} from './probe.ts';
import { durationOf, durations, sentBetween, succeeded } from './records.ts';
import { loadThroughLockedTables } from './slow-dependency.ts';

/** How long the dependency fails. */
const FAULT_MS = 3_000;
/** An error answered within this long came back fast (the breaker answered, not the dependency). */
export const fastErrorMs = 100;
/** The series the bundled target exposes its breaker's state in (1 = open), sampled when present. */
const OPEN_GAUGE = 'circuit_breaker_open';

const namedLikeBreaker = /circuit[_-]?breaker/i;

/** Whether a knob or env value switches something on. */
function isOn(value: unknown): boolean {
  if (typeof value === 'boolean') return value;
  if (typeof value === 'number') return value !== 0;
  return typeof value === 'string' && ['1', 'true', 'on', 'yes'].includes(value.trim().toLowerCase());
}

/**
 * The circuit breaker the target declares, in words (`knob circuitBreaker = true`), or undefined when it
 * declares none that is on: a knob named like `circuitBreaker`, else an env var of the entry service
 * named like `CIRCUIT_BREAKER` (a `{{knobs.NAME}}` value reads that knob). Pure.
 */
export function declaredBreaker(target: TargetDefinition, knobs: KnobValues): string | undefined {
  const knob = Object.keys(target.knobs).find((name) => namedLikeBreaker.test(name));
  if (knob !== undefined) {
    const value = knobs[knob] ?? target.knobs[knob]?.default;
    return isOn(value) ? `knob ${knob} = ${String(value)}` : undefined;
  }
  const entry = target.services[target.entry];
  if (entry?.kind !== 'process') return undefined;
  for (const [name, template] of Object.entries(entry.env)) {
    if (!namedLikeBreaker.test(name)) continue;
    const fromKnob = /^\{\{\s*knobs\.([\w-]+)\s*\}\}$/.exec(template)?.[1];
    const value = fromKnob === undefined ? template : knobs[fromKnob];
    if (isOn(value)) return `env ${name} = ${String(value)}`;
  }
  return undefined;
}

/** What the circuit-breaker probe measured. */
export interface BreakerFigures {
  /** What declares the breaker (see {@link declaredBreaker}). */
  readonly declared: string;
  readonly records: readonly RequestRecord[];
  readonly faultFromMs: number;
  readonly faultToMs: number;
  readonly tables: number;
  /** The breaker's own open gauge at its highest, when the target exposes it. */
  readonly openGaugeMax: number | undefined;
}

/** Circuit-breaker probe: figures → status and evidence. Pure. */
export function judgeCircuitBreaker(figures: BreakerFigures): Verdict {
  const { records, faultFromMs, faultToMs } = figures;
  const faultMs = faultToMs - faultFromMs;
  // The breaker needs some failures to open: judge the second half of the fault.
  const late = sentBetween(records, faultFromMs + faultMs / 2, faultToMs);
  const lateFailed = late.filter((record) => !succeeded(record));
  const lateTimes = durations(late);
  const firstFast = sentBetween(records, faultFromMs, faultToMs).find(
    (record) => !succeeded(record) && durationOf(record) <= fastErrorMs,
  );
  const out = {
    faultMs,
    requestsLate: late.length,
    failedLate: lateFailed.length,
    lateMedianMs: lateTimes.median,
    lateMaxMs: lateTimes.max,
    openedAfterMs: firstFast === undefined ? undefined : firstFast.startMs - faultFromMs,
    fastErrorMs,
    openGaugeMax: figures.openGaugeMax,
  };
  const verdict = (status: Verdict['status'], evidence: string): Verdict => ({
    status,
    evidence,
    figures: out,
  });
  if (figures.tables === 0) {
    return verdict(
      'not-checked',
      'the database has no tables to lock, so the dependency could not be made to fail',
    );
  }
  if (lateFailed.length === 0 || lateTimes.median === undefined) {
    return verdict(
      'not-checked',
      `with every table locked for ${formatMs(faultMs)}, none of the ${late.length} requests in its second half failed: the probed request does not touch the tables`,
    );
  }
  const during = `with the dependency failing (every table locked for ${formatMs(faultMs)}), the ${late.length} requests of its second half`;
  if (lateTimes.median <= fastErrorMs) {
    return verdict(
      'pass',
      `the breaker (${figures.declared}) opened ${formatMs(out.openedAfterMs ?? 0)} into the failure: ${during} were answered in ${formatMs(lateTimes.median)} median (${lateFailed.length} errors).`,
    );
  }
  return verdict(
    'fail',
    `${during} took ${formatMs(lateTimes.median)} median (${lateFailed.length} errors): the declared breaker (${figures.declared}) did not open, so every call still waits for the failing dependency.`,
  );
}

/** The circuit-breaker probe. */
export const circuitBreakerProbe: Probe = {
  id: 'circuit-breaker',
  title: 'Circuit breaker opens and errors return fast',
  checklistItem: 'circuit-breakers',
  async run(context: ProbeContext): Promise<ProbeResult> {
    const declared = declaredBreaker(context.target.definition, context.knobs);
    const database = databaseOf(context.target);
    if (declared === undefined || database === undefined) {
      return notChecked(
        circuitBreakerProbe,
        declared === undefined
          ? 'the target declares no circuit breaker (no knob or entry-service env named like circuitBreaker is on)'
          : 'the target has no PostgreSQL service pooltune started, so its dependency could not be made to fail',
      );
    }
    const run = await loadThroughLockedTables(context, database, FAULT_MS, FAULT_MS + 2_000, {
      breakerOpen: OPEN_GAUGE,
    });
    return probeResult(
      circuitBreakerProbe,
      judgeCircuitBreaker({ ...run, declared, openGaugeMax: run.server.native?.breakerOpen?.max }),
    );
  },
};
