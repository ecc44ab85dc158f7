// FD headroom: the app's open file descriptors under two loads, a straight line through them, and where
// that line meets the app's own open-files limit: the FDs it would hold at the peak concurrency, and
// the concurrency at which it would run out.

import { fdFailShare, fdWarnShare } from '../analysis/thresholds.ts';
import { readOpenFilesLimit } from '../collect/proc-stats.ts';
import {
  entryLoad,
  notChecked,
  type Probe,
  type ProbeContext,
  type ProbeResult,
  probeResult,
  type Verdict,
} from './probe.ts';
import { succeeded } from './records.ts';

/** Each of the two loads lasts this long. */
const LOAD_MS = 1_500;
/** The second load has this many times the clients of the first. */
const HIGH_FACTOR = 4;

/** Open FDs at one load. */
export interface FdPoint {
  readonly concurrency: number;
  /** The most open FDs of the app's process seen under it; undefined when unreadable. */
  readonly fds: number | undefined;
  readonly requests: number;
  readonly failed: number;
}

/** What the FD-headroom probe measured. */
export interface FdFigures {
  /** The app process's soft open-files limit; undefined when unlimited or unreadable. */
  readonly limit: number | undefined;
  readonly points: readonly FdPoint[];
  readonly peakConcurrency: number;
}

/** The straight line through the lowest- and highest-concurrency points: fds = intercept + slope x concurrency. Pure. */
export function fitFds(points: readonly FdPoint[]): { slope: number; intercept: number } | undefined {
  const known = points
    .filter((p): p is FdPoint & { fds: number } => p.fds !== undefined)
    .sort((a, b) => a.concurrency - b.concurrency);
  const low = known[0];
  const high = known[known.length - 1];
  if (low === undefined || high === undefined || high.concurrency === low.concurrency) return undefined;
  const slope = (high.fds - low.fds) / (high.concurrency - low.concurrency);
  return { slope, intercept: low.fds - slope * low.concurrency };
}

/** FD-headroom probe: figures → status and evidence. Pure. */
export function judgeFdHeadroom(figures: FdFigures): Verdict {
  const { limit, points, peakConcurrency } = figures;
  const fit = fitFds(points);
  const measuredMax = points.reduce<number | undefined>(
    (max, p) => (p.fds === undefined ? max : Math.max(max ?? 0, p.fds)),
    undefined,
  );
  const projected = fit === undefined ? undefined : Math.round(fit.intercept + fit.slope * peakConcurrency);
  const atPeak = Math.max(measuredMax ?? 0, projected ?? 0);
  const runsOutAt =
    fit === undefined || limit === undefined || fit.slope <= 0
      ? undefined
      : Math.floor((limit - fit.intercept) / fit.slope);
  const out = {
    limit,
    peakConcurrency,
    fdsPerClient: fit?.slope,
    fdsAtPeak: projected,
    measuredMax,
    runsOutAtConcurrency: runsOutAt,
    share: limit === undefined ? undefined : atPeak / limit,
    ...Object.fromEntries(points.map((p) => [`fdsAt${p.concurrency}`, p.fds])),
  };
  const verdict = (status: Verdict['status'], evidence: string): Verdict => ({
    status,
    evidence,
    figures: out,
  });
  if (limit === undefined) {
    return verdict('not-checked', "the app process's open-files limit is unlimited or could not be read");
  }
  if (fit === undefined || measuredMax === undefined) {
    return verdict('not-checked', "the app's open FDs could not be read under two loads");
  }
  const share = atPeak / limit;
  const status = share >= fdFailShare ? 'fail' : share >= fdWarnShare ? 'warn' : 'pass';
  const measured = points.map((p) => `${p.fds ?? '?'} at ${p.concurrency} clients`).join(' and ');
  const runOut =
    runsOutAt === undefined
      ? 'they did not grow with concurrency'
      : `they would run out near ${runsOutAt} concurrent clients`;
  return verdict(
    status,
    `open FDs: ${measured} (${fit.slope.toFixed(2)} per client); at the peak of ${peakConcurrency} clients about ${atPeak} against a limit of ${limit} (${(share * 100).toFixed(1)}%); ${runOut}.`,
  );
}

/** The FD-headroom probe. */
export const fdHeadroomProbe: Probe = {
  id: 'fd-headroom',
  title: 'FD headroom at peak concurrency',
  checklistItem: 'fd-limits',
  async run(context: ProbeContext): Promise<ProbeResult> {
    const { target, clock } = context;
    const app = target.entry();
    if (app.pid === undefined) {
      return notChecked(
        fdHeadroomProbe,
        'the entry service has no process pooltune started, so its FDs cannot be read',
      );
    }
    const limit = await readOpenFilesLimit(app.pid);
    const points: FdPoint[] = [];
    for (const concurrency of [context.concurrency, context.concurrency * HIGH_FACTOR]) {
      await using collector = context.collect(
        { pids: [app.pid], ports: [app.port], entryPort: app.port },
        { intervalMs: 100, now: () => clock.now() },
      );
      const records = await entryLoad(context, { durationMs: LOAD_MS, requestTimeoutMs: 5_000, concurrency })
        .done;
      const server = await collector.stop();
      points.push({
        concurrency,
        fds: server.process?.fdsMax,
        requests: records.length,
        failed: records.filter((record) => !succeeded(record)).length,
      });
    }
    return probeResult(
      fdHeadroomProbe,
      judgeFdHeadroom({ limit, points, peakConcurrency: context.peakConcurrency }),
    );
  },
};
