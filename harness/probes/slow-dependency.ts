// Slow dependency: the database stays up but its tables are locked, so every query that touches them
// waits. Requests must then fail within the pool's connect (acquire) and read timeouts instead of piling
// up behind the slow dependency.
import { setTimeout as sleep } from 'node:timers/promises';
import { collectTargetOf } from '../collect/collect-target.ts';
import type { ServerFigures } from '../collect/collector.ts';
import type { StartedService } from '../runtime/service.ts';
import { servingAgainAt } from './dead-connection.ts';
import { lockTables } from './faults.ts';
import type { RequestRecord } from './load.ts';
import {
  databaseOf,
  entryLoad,
  formatMs,
  notChecked,
  type PoolSettings,
  type Probe,
  type ProbeContext,
  type ProbeResult,
  poolSettings,
  probeResult,
  type Verdict,
} from './probe.ts';
import { durationOf, durations, overlapping, succeeded } from './records.ts';

/** Load before the fault starts. */
const WARM_MS = 600;
/** The fault's length when no timeout bounds a request; also its shortest. */
const DEFAULT_FAULT_MS = 3_000;
/** Its longest, whatever the timeouts allow. */
const MAX_FAULT_MS = 10_000;
/** Before the fault, the load waits at most this long for the target to serve (a breaker left open by an earlier fault, say). */
const HEALTHY_WITHIN_MS = 10_000;
/** A request slower than this, or failed, was reached by the fault. */
const AFFECTED_MS = 100;

/** Load run through a fault of locked tables. */
export interface LockedTablesRun {
  readonly records: readonly RequestRecord[];
  /** Clock ms when the tables were locked and released. */
  readonly faultFromMs: number;
  readonly faultToMs: number;
  /** Tables locked (0: the database has none). */
  readonly tables: number;
  /** The target's figures over the fault (and the drain after it). */
  readonly server: ServerFigures;
}

/**
 * Runs the probes' load on the target and, after a short warm-up, locks every table of `database` for
 * `faultMs`. No request starts after the fault; those in flight end or time out.
 */
export async function loadThroughLockedTables(
  context: ProbeContext,
  database: StartedService,
  faultMs: number,
  requestTimeoutMs: number,
  nativeGauges: Readonly<Record<string, string>> = {},
): Promise<LockedTablesRun> {
  const { target, clock, signal } = context;
  const sampled = await collectTargetOf(target, [], nativeGauges);
  await using collector = context.collect(sampled, { intervalMs: 200, now: () => clock.now() });
  await using load = entryLoad(context, { durationMs: HEALTHY_WITHIN_MS + faultMs, requestTimeoutMs });
  const startedAt = clock.now();
  await sleep(WARM_MS, undefined, { signal });
  while (
    servingAgainAt(load.records(), startedAt) === undefined &&
    clock.now() - startedAt < HEALTHY_WITHIN_MS
  ) {
    await sleep(100, undefined, { signal });
  }
  let fault: { from: number; to: number; tables: number };
  {
    await using lock = await lockTables(database.url);
    collector.markMeasureStart();
    const from = clock.now();
    await sleep(faultMs, undefined, { signal });
    fault = { from, to: clock.now(), tables: lock.tables };
  }
  // No request starts after the fault; those in flight end or time out.
  const records = await load.stop();
  const server = await collector.stop();
  return { records, faultFromMs: fault.from, faultToMs: fault.to, tables: fault.tables, server };
}

/** The longest a request may take when both the connect (acquire) and read timeouts are set, ms. */
export function timeoutBoundMs(settings: PoolSettings): number | undefined {
  const { connectTimeoutMs, readTimeoutMs } = settings;
  if (connectTimeoutMs === undefined || readTimeoutMs === undefined) return undefined;
  if (connectTimeoutMs <= 0 || readTimeoutMs <= 0) return undefined;
  return connectTimeoutMs + readTimeoutMs;
}

/** The bound with room for scheduling on a busy machine: 20% plus 250 ms. */
export function allowanceMs(boundMs: number): number {
  return boundMs * 1.2 + 250;
}

/** How long the fault lasts: long enough for the timeouts to fire, within limits. */
export function faultLengthMs(boundMs: number | undefined): number {
  if (boundMs === undefined) return DEFAULT_FAULT_MS;
  return Math.min(MAX_FAULT_MS, Math.max(DEFAULT_FAULT_MS, allowanceMs(boundMs) + 1_000));
}

/** What the slow-dependency probe measured. */
export interface SlowDependencyFigures extends Omit<LockedTablesRun, 'server'> {
  readonly settings: PoolSettings;
  /** Most callers seen waiting for a pooled connection during the fault. */
  readonly waitingMax: number | undefined;
}

/** Slow-dependency probe: figures → status and evidence. Pure. */
export function judgeSlowDependency(figures: SlowDependencyFigures): Verdict {
  const { settings, faultFromMs, faultToMs, waitingMax } = figures;
  const faultMs = faultToMs - faultFromMs;
  // Every request the fault caught: those already waiting when the lock was granted count too.
  const sent = overlapping(figures.records, faultFromMs, faultToMs);
  const failed = sent.filter((record) => !succeeded(record));
  const timeToFail = durations(failed);
  const slowestMs = durations(sent).max;
  const boundMs = timeoutBoundMs(settings);
  const out = {
    faultMs,
    tablesLocked: figures.tables,
    requestsInFault: sent.length,
    failedInFault: failed.length,
    timedOutAtClient: sent.filter((record) => record.error === 'timeout').length,
    timeToFailMedianMs: timeToFail.median,
    timeToFailMaxMs: timeToFail.max,
    slowestMs,
    boundMs,
    connectTimeoutMs: settings.connectTimeoutMs,
    readTimeoutMs: settings.readTimeoutMs,
    poolSize: settings.size,
    waitingMax,
  };
  const verdict = (status: Verdict['status'], evidence: string): Verdict => ({
    status,
    evidence,
    figures: out,
  });
  if (figures.tables === 0) {
    return verdict('not-checked', 'the database has no tables to lock, so no latency could be injected');
  }
  const affected = sent.filter((record) => !succeeded(record) || durationOf(record) > AFFECTED_MS);
  if (slowestMs === undefined || affected.length === 0) {
    return verdict(
      'not-checked',
      `with every table locked for ${formatMs(faultMs)}, none of the ${sent.length} requests it caught was slowed: the probed request does not touch the tables`,
    );
  }
  const fault = `with every table locked for ${formatMs(faultMs)}, the ${sent.length} requests it caught`;
  const failures =
    failed.length === 0
      ? 'none failed'
      : `${failed.length} failed, in ${formatMs(timeToFail.median ?? 0)} median (${formatMs(timeToFail.max ?? 0)} at most)`;
  const queue = `${waitingMax ?? '?'} callers waited for the pool at most (size ${settings.size ?? '?'})`;
  if (boundMs === undefined) {
    const unset = [
      ...(settings.connectTimeoutMs ? [] : ['connect']),
      ...(settings.readTimeoutMs ? [] : ['read']),
    ].join(' and ');
    if (slowestMs >= 0.9 * faultMs) {
      return verdict(
        'fail',
        `no ${unset} timeout bounds a request (0 or not exposed): ${fault} waited up to ${formatMs(slowestMs)}, as long as the dependency was slow; ${failures}; ${queue}.`,
      );
    }
    return verdict(
      'pass',
      `no ${unset} timeout knob bounds a request, yet ${fault} all ended within ${formatMs(slowestMs)} (the service bounds them itself); ${failures}; ${queue}.`,
    );
  }
  const bound = `${formatMs(boundMs)} (connect ${formatMs(settings.connectTimeoutMs ?? 0)} + read ${formatMs(settings.readTimeoutMs ?? 0)})`;
  const allowed = allowanceMs(boundMs);
  if (slowestMs > allowed) {
    return verdict(
      'fail',
      `${fault} took up to ${formatMs(slowestMs)}, beyond the ${bound} the timeouts allow: requests piled up behind the slow dependency; ${failures}; ${queue}.`,
    );
  }
  if (allowed >= faultMs && slowestMs >= 0.9 * faultMs) {
    return verdict(
      'warn',
      `the timeouts allow ${bound} per request, more than this probe's ${formatMs(faultMs)} fault: ${fault} waited up to ${formatMs(slowestMs)} without being cut off; ${failures}; ${queue}.`,
    );
  }
  return verdict(
    'pass',
    `${fault} all ended within ${formatMs(slowestMs)}, inside the ${bound} the timeouts allow; ${failures}; ${queue}.`,
  );
}

/** The slow-dependency probe. */
export const slowDependencyProbe: Probe = {
  id: 'slow-dependency',
  title: 'Slow dependency: requests fail fast within the timeouts',
  checklistItem: 'timeouts-set',
  async run(context: ProbeContext): Promise<ProbeResult> {
    const database = databaseOf(context.target);
    if (database === undefined) {
      return notChecked(
        slowDependencyProbe,
        'the target has no PostgreSQL service pooltune started, so no latency could be injected',
      );
    }
    const settings = poolSettings(context.target.definition, context.knobs);
    const faultMs = faultLengthMs(timeoutBoundMs(settings));
    const run = await loadThroughLockedTables(context, database, faultMs, faultMs + 2_000);
    return probeResult(
      slowDependencyProbe,
      judgeSlowDependency({ ...run, settings, waitingMax: run.server.pool?.waitingMax }),
    );
  },
};
