// Draining: the app gets SIGTERM under load, as in a deployment. Requests it had in flight must still be
// answered (it stops accepting, finishes them, then closes its pool). Where the target has a knob for
// graceful shutdown that is off, the probe measures again with it on, for comparison.
import { setTimeout as sleep } from 'node:timers/promises';
import type { KnobValues } from '../results/trial.ts';
import type { RequestRecord } from './load.ts';
import {
  entryLoad,
  formatMs,
  notChecked,
  type Probe,
  type ProbeContext,
  type ProbeResult,
  probeResult,
  type Verdict,
} from './probe.ts';
import { sentBetween, succeeded } from './records.ts';

/** Load before SIGTERM. */
const WARM_MS = 1_000;
/** A request sent this close before SIGTERM may not have reached the app: it is not counted as in flight. */
export const inFlightMarginMs = 2;
const namedLikeGraceful = /graceful/i;

/** One SIGTERM under load (clock ms). */
export interface DrainMeasurement {
  readonly records: readonly RequestRecord[];
  readonly signalAtMs: number;
  readonly exitedAtMs: number;
  /** How the app ended: `code 0`, `SIGKILL` (it outlived the runtime's grace), ... */
  readonly exit: string;
}

/** What the draining probe measured: with the knobs in force, and with graceful shutdown on when that is a knob. */
export interface DrainFigures {
  readonly measured: DrainMeasurement;
  readonly compared?: { readonly knob: string; readonly measured: DrainMeasurement };
}

/** In-flight requests at SIGTERM and how they ended, and what failed after it. Pure. */
export function drainCounts(measurement: DrainMeasurement) {
  const { records, signalAtMs } = measurement;
  const inFlight = records.filter(
    (record) => record.startMs < signalAtMs - inFlightMarginMs && record.endMs > signalAtMs,
  );
  return {
    inFlight: inFlight.length,
    failedInFlight: inFlight.filter((record) => !succeeded(record)).length,
    failedAfter: sentBetween(records, signalAtMs, Number.POSITIVE_INFINITY).filter((r) => !succeeded(r))
      .length,
    exitMs: measurement.exitedAtMs - signalAtMs,
  };
}

/** Draining probe: figures → status and evidence. Pure. */
export function judgeDraining(figures: DrainFigures): Verdict {
  const counts = drainCounts(figures.measured);
  const compared = figures.compared === undefined ? undefined : drainCounts(figures.compared.measured);
  const out = {
    ...counts,
    ...(compared === undefined
      ? {}
      : { gracefulInFlight: compared.inFlight, gracefulFailedInFlight: compared.failedInFlight }),
  };
  const verdict = (status: Verdict['status'], evidence: string): Verdict => ({
    status,
    evidence,
    figures: out,
  });
  const comparison =
    figures.compared === undefined || compared === undefined
      ? ''
      : ` With ${figures.compared.knob} on: ${compared.failedInFlight} of ${compared.inFlight} in-flight requests failed.`;
  const after = `${counts.failedAfter} requests sent after it failed or were refused; the app exited ${formatMs(counts.exitMs)} later (${figures.measured.exit})`;
  if (counts.inFlight === 0) {
    return verdict('not-checked', `no request was in flight when SIGTERM arrived; ${after}.${comparison}`);
  }
  if (counts.failedInFlight === 0) {
    return verdict(
      'pass',
      `SIGTERM under load with ${counts.inFlight} requests in flight: all were answered; ${after}.${comparison}`,
    );
  }
  return verdict(
    'fail',
    `SIGTERM under load with ${counts.inFlight} requests in flight: ${counts.failedInFlight} failed (dropped, not drained); ${after}.${comparison}`,
  );
}

/** Starts the target with `knobs`, sends its app SIGTERM under load, and records what the clients saw. */
async function measureDrain(context: ProbeContext, knobs: KnobValues): Promise<DrainMeasurement> {
  const { target, clock, signal } = context;
  await target.apply(knobs);
  const app = target.entry();
  await using load = entryLoad(context, { durationMs: WARM_MS + 2_000, requestTimeoutMs: 10_000 });
  await sleep(WARM_MS, undefined, { signal });
  const signalAtMs = clock.now();
  // SIGTERM to the app's process group; SIGKILL only if it outlives the runtime's grace.
  await app.stop();
  const exitedAtMs = clock.now();
  // Let the clients meet the closed port before the load stops.
  await sleep(200, undefined, { signal });
  const records = await load.stop();
  const exit = app.exitInfo();
  return {
    records,
    signalAtMs,
    exitedAtMs,
    exit: exit === undefined ? 'unknown' : (exit.signal ?? `code ${exit.code}`),
  };
}

/** A boolean knob named like `gracefulShutdown` that is off, which the probe turns on for comparison. */
function gracefulKnobOff(context: ProbeContext): string | undefined {
  return Object.entries(context.target.definition.knobs).find(
    ([name, knob]) =>
      namedLikeGraceful.test(name) && knob.type === 'bool' && (context.knobs[name] ?? knob.default) === false,
  )?.[0];
}

/** The draining probe. */
export const drainingProbe: Probe = {
  id: 'draining',
  title: 'Draining on SIGTERM',
  checklistItem: 'draining',
  async run(context: ProbeContext): Promise<ProbeResult> {
    const app = context.target.entry();
    if (app.kind !== 'process') {
      return notChecked(
        drainingProbe,
        'the entry service is not a process pooltune started, so it cannot be sent SIGTERM',
      );
    }
    try {
      // The first request kind that is still in flight when SIGTERM lands (a 1 ms read rarely is).
      let loaded = context;
      let measured = await measureDrain(loaded, context.knobs);
      for (const request of context.otherRequests ?? []) {
        if (drainCounts(measured).inFlight > 0 || context.signal.aborted) break;
        loaded = { ...context, request };
        measured = await measureDrain(loaded, context.knobs);
      }
      const knob = gracefulKnobOff(context);
      const compared =
        knob === undefined
          ? undefined
          : { knob, measured: await measureDrain(loaded, { ...context.knobs, [knob]: true }) };
      return probeResult(
        drainingProbe,
        judgeDraining({ measured, ...(compared === undefined ? {} : { compared }) }),
      );
    } finally {
      // The app was stopped (and its knobs perhaps changed): bring it back as it was, unless the run is
      // being interrupted (it then stops the whole target).
      if (!context.signal.aborted) await context.target.apply(context.knobs);
    }
  },
};
