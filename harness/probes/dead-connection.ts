// Dead-connection detection: the database restarts under load (stopped, started again on the same port
// with the same data). Every pooled connection dies with it. The app must serve again on its own, without
// a restart, and must not hand out the dead connections once the database is back.
import { setTimeout as sleep } from 'node:timers/promises';
import type { RequestRecord } from './load.ts';
import {
  databaseOf,
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

/** Load before the restart. */
const WARM_MS = 1_000;
/** How long after the database is back the app has to serve again before it fails the probe. */
export const recoverWithinMs = 5_000;
/** Successes in a row (by send time) that count as serving again. */
export const servingStreak = 10;
const POLL_MS = 100;

/**
 * When the app served again: the first request sent at or after `fromMs` that begins a run of
 * `streak` successes in a row (by send time), or undefined. Pure.
 */
export function servingAgainAt(
  records: readonly RequestRecord[],
  fromMs: number,
  streak = servingStreak,
): RequestRecord | undefined {
  const sent = records.filter((record) => record.startMs >= fromMs).sort((a, b) => a.startMs - b.startMs);
  let run = 0;
  for (const [index, record] of sent.entries()) {
    run = succeeded(record) ? run + 1 : 0;
    if (run === streak) return sent[index - streak + 1];
  }
  return undefined;
}

/** What the dead-connection probe measured (clock ms). */
export interface DeadConnectionFigures {
  readonly records: readonly RequestRecord[];
  /** When the database was told to stop, and when it was accepting again. */
  readonly downAtMs: number;
  readonly backAtMs: number;
  /** How the app's process ended during the probe, when it did. */
  readonly appExit: string | undefined;
}

/** Dead-connection probe: figures → status and evidence. Pure. */
export function judgeDeadConnection(figures: DeadConnectionFigures): Verdict {
  const { records, downAtMs, backAtMs } = figures;
  const failed = (list: readonly RequestRecord[]) => list.filter((record) => !succeeded(record)).length;
  // Requests in flight when the database stopped die with their connections: count them with the outage.
  const cut = records.filter((r) => r.startMs < downAtMs && r.endMs >= downAtMs);
  const serving = servingAgainAt(records, backAtMs);
  const servingFrom = serving?.startMs ?? Number.POSITIVE_INFINITY;
  const recovering = failed(sentBetween(records, backAtMs, servingFrom));
  // Failures once it served again: requests that got a connection which died with the old database.
  const handedOut = failed(sentBetween(records, servingFrom, Number.POSITIVE_INFINITY));
  const servedAfterMs = serving === undefined ? undefined : Math.max(0, serving.endMs - backAtMs);
  const out = {
    requests: records.length,
    databaseDownMs: backAtMs - downAtMs,
    failedWhileDown: failed(sentBetween(records, downAtMs, backAtMs)) + failed(cut),
    failedWhileRecovering: recovering,
    deadConnectionsHandedOut: serving === undefined ? undefined : handedOut,
    servedAgainAfterMs: servedAfterMs,
    appExited: figures.appExit === undefined ? 0 : 1,
  };
  const verdict = (status: Verdict['status'], evidence: string): Verdict => ({
    status,
    evidence,
    figures: out,
  });
  const restart = `the database restarted under load (down ${formatMs(out.databaseDownMs)}; ${out.failedWhileDown} requests failed meanwhile)`;
  if (figures.appExit !== undefined) {
    return verdict(
      'fail',
      `${restart} and the app exited (${figures.appExit}): it cannot serve again without being restarted.`,
    );
  }
  if (serving === undefined || servedAfterMs === undefined || servedAfterMs > recoverWithinMs) {
    return verdict(
      'fail',
      `${restart}; the app did not serve ${servingStreak} requests in a row within ${formatMs(recoverWithinMs)} of the database being back (${recovering} failed after it was back).`,
    );
  }
  const served = `the app served again ${formatMs(servedAfterMs)} after the database was back, without a restart (${recovering} requests failed in between)`;
  if (handedOut > 0) {
    return verdict(
      'warn',
      `${restart}; ${served}, but ${handedOut} requests failed after that: dead pooled connections were handed out (not validated before use).`,
    );
  }
  return verdict(
    'pass',
    `${restart}; ${served}, and none failed after that: dead connections were dropped, not handed out.`,
  );
}

/** The dead-connection probe. */
export const deadConnectionProbe: Probe = {
  id: 'dead-connection',
  title: 'Dead connections found after a database restart',
  checklistItem: 'health-checks',
  async run(context: ProbeContext): Promise<ProbeResult> {
    const { target, clock, signal } = context;
    const database = databaseOf(target);
    if (database === undefined) {
      return notChecked(
        deadConnectionProbe,
        'the target has no PostgreSQL service pooltune started, so there is no database to restart',
      );
    }
    const app = target.entry();
    await using load = entryLoad(context, { durationMs: WARM_MS + 30_000, requestTimeoutMs: 5_000 });
    await sleep(WARM_MS, undefined, { signal });
    const downAtMs = clock.now();
    await target.restart(database.name);
    const backAtMs = clock.now();
    // Load goes on until the app serves again, exits, or runs out of time.
    while (clock.now() - backAtMs < recoverWithinMs + 1_000 && app.exitInfo() === undefined) {
      if (servingAgainAt(load.records(), backAtMs) !== undefined) break;
      await sleep(POLL_MS, undefined, { signal });
    }
    const records = await load.stop();
    const exit = app.exitInfo();
    return probeResult(
      deadConnectionProbe,
      judgeDeadConnection({
        records,
        downAtMs,
        backAtMs,
        appExit: exit === undefined ? undefined : (exit.signal ?? `code ${exit.code}`),
      }),
    );
  },
};
