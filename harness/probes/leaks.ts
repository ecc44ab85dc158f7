// Leaks: after load that exercises the error paths stops, the pool and the sockets go back to where
// they were before it, within the idle timeout, and no socket lingers in CLOSE_WAIT.
import { setTimeout as sleep } from 'node:timers/promises';
import { persistentCloseWaitSamples } from '../analysis/thresholds.ts';
import { collectTargetOf } from '../collect/collect-target.ts';
import type { ServerSample } from '../collect/collector.ts';
import { terminateConnections } from './faults.ts';
import {
  databaseOf,
  entryLoad,
  formatMs,
  type Probe,
  type ProbeContext,
  type ProbeResult,
  poolSettings,
  probeResult,
  type Verdict,
} from './probe.ts';
import { succeeded } from './records.ts';

/** Load length; the database cuts the pool's connections at a third and two thirds of it. */
const LOAD_MS = 2_400;
/** How long past the idle timeout the pool may take to close its idle connections. */
export const leakSettleMs = 1_500;
/** The longest the probe watches the target after the load. */
const MAX_WATCH_MS = 20_000;
const SAMPLE_MS = 200;

/** What the leak probe measured. */
export interface LeakFigures {
  /** The collector's samples; `atMs` counts from the start of the load (negative: the baseline). */
  readonly samples: readonly ServerSample[];
  /** When the load ended, ms after its start. */
  readonly loadEndedAtMs: number;
  /** How long the target was watched after the load, ms. */
  readonly watchedMs: number;
  /** The pool's idle timeout in ms (0: never), when the target exposes it. */
  readonly idleTimeoutMs: number | undefined;
  readonly requests: number;
  readonly failedRequests: number;
  /** Connections the database cut mid-load to exercise the error paths; undefined when it could not. */
  readonly connectionsCut: number | undefined;
}

interface Counts {
  readonly total?: number;
  readonly active?: number;
  readonly sockets?: number;
}

const countsOf = (sample: ServerSample): Counts => ({
  ...(sample.pool === undefined
    ? {}
    : { total: sample.pool.total, active: sample.pool.total - sample.pool.idle }),
  ...(sample.sockets === undefined ? {} : { sockets: sample.sockets.established }),
});

/**
 * When `field` was back at or below `baseline` for good: ms after the load ended of the first sample from
 * which every later one is back; undefined when the last one is not (or nothing was read).
 */
function backAt(after: readonly ServerSample[], field: keyof Counts, baseline: number, endedAt: number) {
  let since: number | undefined;
  for (const sample of after) {
    const value = countsOf(sample)[field];
    if (value === undefined) continue;
    if (value > baseline) since = undefined;
    else since ??= Math.max(0, sample.atMs - endedAt);
  }
  return since;
}

/** The longest run of consecutive samples with a socket in CLOSE_WAIT, and the most seen at once. */
function closeWait(samples: readonly ServerSample[]): { run: number; max: number } {
  let run = 0;
  let longest = 0;
  let max = 0;
  for (const sample of samples) {
    const count = sample.sockets?.closeWait ?? 0;
    max = Math.max(max, count);
    run = count > 0 ? run + 1 : 0;
    longest = Math.max(longest, run);
  }
  return { run: longest, max };
}

/** Leaks probe: figures → status and evidence. Pure. */
export function judgeLeaks(figures: LeakFigures): Verdict {
  const { samples, loadEndedAtMs, idleTimeoutMs, watchedMs } = figures;
  const before = samples.filter((s) => s.atMs < 0);
  const after = samples.filter((s) => s.atMs >= loadEndedAtMs);
  const during = samples.filter((s) => s.atMs >= 0 && s.atMs < loadEndedAtMs);
  const last = <K extends keyof Counts>(list: readonly ServerSample[], field: K) =>
    list.map(countsOf).findLast((counts) => counts[field] !== undefined)?.[field];
  const baseline = {
    total: last(before, 'total'),
    active: last(before, 'active'),
    sockets: last(before, 'sockets'),
  };
  const end = { total: last(after, 'total'), active: last(after, 'active'), sockets: last(after, 'sockets') };
  const peakTotal = during.reduce<number | undefined>(
    (peak, s) => (s.pool === undefined ? peak : Math.max(peak ?? 0, s.pool.total)),
    undefined,
  );
  const waits = closeWait(after);
  const idleCovered =
    idleTimeoutMs !== undefined && idleTimeoutMs > 0 && idleTimeoutMs + leakSettleMs <= watchedMs;
  const back = (field: keyof Counts) => {
    const base = baseline[field];
    return base === undefined ? undefined : backAt(after, field, base, loadEndedAtMs);
  };
  const activeBackMs = back('active');
  const totalBackMs = back('total');
  const socketsBackMs = back('sockets');
  const figuresOut = {
    requests: figures.requests,
    failedRequests: figures.failedRequests,
    connectionsCut: figures.connectionsCut,
    baselineTotal: baseline.total,
    baselineActive: baseline.active,
    baselineSockets: baseline.sockets,
    peakTotal,
    endTotal: end.total,
    endActive: end.active,
    endSockets: end.sockets,
    activeBackMs,
    totalBackMs,
    socketsBackMs,
    closeWaitMax: waits.max,
    idleTimeoutMs,
    watchedMs,
  };
  const verdict = (status: Verdict['status'], evidence: string): Verdict => ({
    status,
    evidence,
    figures: figuresOut,
  });
  if (baseline.active === undefined && baseline.sockets === undefined) {
    return verdict('not-checked', 'neither pool metrics nor socket states could be read from the target');
  }
  const exercised =
    `${figures.requests} requests (${figures.failedRequests} failed` +
    (figures.connectionsCut === undefined
      ? ')'
      : `, ${figures.connectionsCut} database connections cut mid-load to exercise the error paths)`);
  const watched = formatMs(watchedMs);
  if (end.active !== undefined && baseline.active !== undefined && activeBackMs === undefined) {
    return verdict(
      'fail',
      `${end.active} pooled clients were still checked out ${watched} after ${exercised} stopped (before the load: ${baseline.active}): a request path does not give its client back.`,
    );
  }
  if (waits.run >= persistentCloseWaitSamples) {
    return verdict(
      'fail',
      `after ${exercised}, up to ${waits.max} sockets stayed in CLOSE_WAIT for ${waits.run} samples in a row: the peer closed them and the service did not.`,
    );
  }
  const idle =
    idleTimeoutMs === undefined ? 'unknown' : idleTimeoutMs === 0 ? 'never' : formatMs(idleTimeoutMs);
  if (idleCovered) {
    const late = (backMs: number | undefined) =>
      backMs === undefined || backMs > idleTimeoutMs + leakSettleMs;
    if (baseline.total !== undefined && late(totalBackMs)) {
      return verdict(
        'fail',
        `the pool still held ${end.total ?? '?'} connections ${watched} after ${exercised} stopped (before the load: ${baseline.total}; idle timeout ${idle}).`,
      );
    }
    if (baseline.sockets !== undefined && late(socketsBackMs)) {
      return verdict(
        'fail',
        `${end.sockets ?? '?'} sockets were still established ${watched} after ${exercised} stopped (before the load: ${baseline.sockets}; idle timeout ${idle}).`,
      );
    }
  }
  const totals = idleCovered
    ? `the pool went from ${peakTotal ?? '?'} connections back to ${baseline.total ?? '?'} within ${formatMs(totalBackMs ?? 0)} (idle timeout ${idle})`
    : `idle connections were not awaited (idle timeout ${idle}, watched ${watched})`;
  const status = waits.max > 0 ? 'warn' : 'pass';
  const closeWaitText =
    waits.max > 0 ? `CLOSE_WAIT appeared in passing (up to ${waits.max})` : 'CLOSE_WAIT stayed 0';
  return verdict(
    status,
    `after ${exercised}, no client stayed checked out (back to ${baseline.active ?? '?'} in use within ${formatMs(activeBackMs ?? 0)}); ${totals}; ${closeWaitText}.`,
  );
}

/** The leak probe. */
export const leaksProbe: Probe = {
  id: 'leaks',
  title: 'Leaks: pool and sockets return to idle after errors',
  checklistItem: 'leaks-prevented',
  async run(context: ProbeContext): Promise<ProbeResult> {
    const { target, clock, signal } = context;
    const { idleTimeoutMs } = poolSettings(target.definition, context.knobs);
    const database = databaseOf(target);
    const sampled = await collectTargetOf(target, database === undefined ? [] : [database.port]);
    await using collector = context.collect(sampled, { intervalMs: SAMPLE_MS, now: () => clock.now() });
    await sleep(2 * SAMPLE_MS + 50, undefined, { signal });
    collector.markMeasureStart();
    const startedAt = clock.now();
    await using load = entryLoad(context, { durationMs: LOAD_MS, requestTimeoutMs: 5_000 });
    let connectionsCut: number | undefined;
    if (database !== undefined) {
      connectionsCut = 0;
      for (let cut = 0; cut < 2; cut++) {
        await sleep(LOAD_MS / 3, undefined, { signal });
        connectionsCut += await terminateConnections(database.url);
      }
    }
    const records = await load.done;
    const loadEndedAtMs = clock.now() - startedAt;
    const idle = idleTimeoutMs ?? 0;
    const watchMs =
      idle > 0 && idle + leakSettleMs * 2 <= MAX_WATCH_MS ? idle + leakSettleMs * 2 : leakSettleMs * 2;
    await sleep(watchMs, undefined, { signal });
    const server = await collector.stop();
    return probeResult(
      leaksProbe,
      judgeLeaks({
        samples: server.samples,
        loadEndedAtMs,
        watchedMs: watchMs,
        idleTimeoutMs,
        requests: records.length,
        failedRequests: records.filter((record) => !succeeded(record)).length,
        connectionsCut,
      }),
    );
  },
};
