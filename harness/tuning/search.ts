import { seededRandom } from '../../scenarios/schedule.ts';
import { analysePlateau, type SizeRun } from '../analysis/plateau.ts';
import type { PointStats } from '../analysis/point-stats.ts';

// Step 4's search strategy, as a pure function of what has been measured: which sizes to measure next,
// in what order, and when to stop. Stateless on purpose: the same trials always give the same next
// move, so a resumed run asks for the trials it already has, in the same order.

/** A pool size measured so far, with its median figures. */
export interface SizePoint {
  readonly n: number;
  readonly stats: PointStats;
}

/** Limits and thresholds of the pool-size search. */
export interface SearchRules {
  readonly from: number;
  readonly factor: number;
  /** The largest size allowed: the database's max_connections minus the reserve, or the knob's max. */
  readonly limit: number;
  /** Below this relative throughput gain per geometric step, returns have diminished; also the plateau's margin. */
  readonly minGain: number;
  /** p99 must improve by at least this share per geometric step to count as improving. */
  readonly minP99Gain: number;
  /** Target CPU share (of one core) at which the target itself is the limit. */
  readonly cpuSaturation: number;
  /** Refinement stops when the bracket is this narrow relative to its upper end. */
  readonly resolution: number;
  /**
   * The closed model's concurrent clients (`tuning.concurrency`): they never hold more connections
   * than this at once, so a larger pool would sit idle and growth stops at this size.
   */
  readonly clients?: number;
}

/** How step 4 spends its repetitions. */
export interface RepetitionRules {
  /** Repetitions every size near the plateau gets (`repetitions`). */
  readonly base: number;
  /** No size gets more than this (outlier re-runs aside). */
  readonly max: number;
  /** A deciding size is measured until its 95% interval's relative half-width is at most this. */
  readonly targetHalfWidth: number;
  /** Trials step 4 may spend in all. */
  readonly maxTrials: number;
  /** Seeds the order inside each block of repetitions. */
  readonly seed: number;
}

/**
 * Default rules: 5% p99 improvement, 95% CPU, brackets refined to 1/4. Finer would not pay: at the
 * noise measured on 2-core machines (pooled CV 4–10%) two sizes 1/8 apart are not told apart by their
 * throughput, and every extra size takes repetitions from the ones that decide.
 */
export const defaultSearchRules = {
  minP99Gain: 0.05,
  cpuSaturation: 0.95,
  resolution: 0.25,
} as const;

/** Sizes whose throughput is at least this share of the best get the base repetitions. */
export const NEAR_PLATEAU = 0.75;
/** Distinct sizes the search may measure, whatever the rules say. */
export const MAX_SIZES = 14;
/** Blocks smaller than this are joined by the nearest other sizes, so no size runs back to back. */
export const MIN_BLOCK = 3;

/** Why the geometric phase stopped growing. */
export type StopReason =
  | 'diminishing-returns'
  | 'p99-flat'
  | 'clients'
  | 'limit'
  | 'cpu-saturated'
  | 'no-data';

/** One size as the search sees it: its phase, median figures and completed repetitions. */
export interface GrowSample {
  readonly n: number;
  readonly phase: 'geometric' | 'refine';
  /** Medians of the completed repetitions; undefined while none completed. */
  readonly stats: PointStats | undefined;
  /** Completed repetitions in the order they ran. */
  readonly runs: readonly SizeRun[];
  /** Trials run at this size, whatever their status. */
  readonly attempts: number;
}

/** One trial the search asks for. */
export interface GrowRequest {
  readonly n: number;
  readonly phase: 'geometric' | 'refine';
  /** Why this size is measured now (shown in the step's evidence). */
  readonly why: 'explore' | 'refine' | 'repeat' | 'outlier re-run' | 'precision';
}

/** The search's next move: a block of trials, one per size in the order given, or the end. */
export type GrowMove =
  | { readonly kind: 'block'; readonly requests: readonly GrowRequest[] }
  | { readonly kind: 'done'; readonly stoppedBy: StopReason; readonly why: string };

/**
 * Where the geometric phase stopped and why, from the points measured in it (sorted by size), or
 * undefined while it should keep growing.
 */
export function geometricStop(
  points: readonly SizePoint[],
  rules: SearchRules,
): { reason: StopReason; at: number; why: string } | undefined {
  const last = points.at(-1);
  const previous = points.at(-2);
  if (last === undefined) return undefined;
  if ((last.stats.targetCpuShare ?? 0) >= rules.cpuSaturation) {
    return {
      reason: 'cpu-saturated',
      at: last.n,
      why: `the target's CPU is saturated at ${last.n} (${((last.stats.targetCpuShare ?? 0) * 100).toFixed(0)}% of a core)`,
    };
  }
  if (previous !== undefined) {
    const gain = last.stats.throughput / Math.max(previous.stats.throughput, 1e-9) - 1;
    if (gain < rules.minGain) {
      return {
        reason: 'diminishing-returns',
        at: last.n,
        why: `throughput gained ${(gain * 100).toFixed(1)}% from ${previous.n} to ${last.n} (< ${(rules.minGain * 100).toFixed(0)}%)`,
      };
    }
    const p99Gain = 1 - last.stats.p99 / Math.max(previous.stats.p99, 1e-9);
    if (p99Gain < rules.minP99Gain && gain < 2 * rules.minGain) {
      return {
        reason: 'p99-flat',
        at: last.n,
        why: `p99 improved ${(p99Gain * 100).toFixed(1)}% from ${previous.n} to ${last.n} and throughput only ${(gain * 100).toFixed(1)}%`,
      };
    }
  }
  if (rules.clients !== undefined && last.n >= rules.clients) {
    return {
      reason: 'clients',
      at: last.n,
      why: `${last.n} connections serve all ${rules.clients} concurrent clients: a larger pool would sit idle`,
    };
  }
  const next = nextSize(last.n, rules);
  if (next > rules.limit) {
    return { reason: 'limit', at: last.n, why: `the next size ${next} would pass the limit ${rules.limit}` };
  }
  return undefined;
}

/**
 * {@link geometricStop}, but flat returns must show on two growth steps in a row: one flat step on a
 * noisy machine is as often a lucky size as a plateau, and the step after it shows how far the plateau
 * reaches. A saturated CPU or the limit stop at once.
 */
export function confirmedStop(
  points: readonly SizePoint[],
  rules: SearchRules,
): ReturnType<typeof geometricStop> {
  const stop = geometricStop(points, rules);
  if (stop === undefined || ['cpu-saturated', 'clients', 'limit'].includes(stop.reason)) return stop;
  const earlier = geometricStop(points.slice(0, -1), rules);
  const flatBefore = earlier?.reason === 'diminishing-returns' || earlier?.reason === 'p99-flat';
  if (flatBefore) return stop;
  const last = points.at(-1)?.n ?? rules.from;
  const atClients = rules.clients !== undefined && last >= rules.clients;
  return atClients || nextSize(last, rules) > rules.limit ? stop : undefined;
}

/** The next size of the geometric phase: `factor` times `n`, but not past the concurrent clients. */
function nextSize(n: number, rules: Pick<SearchRules, 'factor' | 'clients'>): number {
  const next = Math.max(n + 1, Math.round(n * rules.factor));
  return rules.clients !== undefined && n < rules.clients ? Math.min(next, rules.clients) : next;
}

const meanOf = (runs: readonly SizeRun[]) =>
  runs.length === 0 ? 0 : runs.reduce((sum, run) => sum + run.throughput, 0) / runs.length;

/**
 * The next move of step 4. Four phases, each resumed from the data alone:
 * 1. explore: one trial per size, geometric from `from` (1, 2, 4, ...), until returns diminish, p99
 *    stops improving, the target's CPU saturates, the size serves every concurrent client, or the
 *    limit is reached;
 * 2. refine: one trial per size, bisecting between the largest size below the plateau and the smallest
 *    on it (by point estimates), down to the resolution;
 * 3. repeat: every size near the plateau (>= 75% of the best) and the size just below it get the base
 *    repetitions, plus one re-run per flagged outlier;
 * 4. precision: the sizes that decide the answer (the best, the plateau's left edge, the size below it,
 *    and any the equivalence test leaves undecided) are measured until their interval is narrow enough
 *    and the test decides, up to the cap.
 * Phases 3 and 4 run in blocks, one trial per size in a seeded random order, so drift and bursts of
 * background load spread over every size instead of biasing the one measured during them.
 */
export function nextGrowMove(
  samples: readonly GrowSample[],
  calibration: readonly number[],
  rules: SearchRules & { readonly repetitions: RepetitionRules },
  trialsSoFar: number,
): GrowMove {
  const reps = rules.repetitions;
  const sorted = [...samples].sort((a, b) => a.n - b.n);
  if (sorted.length === 0) return block([{ n: rules.from, phase: 'geometric', why: 'explore' }]);
  const failed = sorted.find((s) => s.attempts > 0 && s.stats === undefined && s.attempts >= 2);
  if (failed !== undefined) {
    return { kind: 'done', stoppedBy: 'no-data', why: `no trial completed at ${failed.n}` };
  }
  const unmeasured = sorted.find((s) => s.stats === undefined);
  if (unmeasured !== undefined) return block([{ n: unmeasured.n, phase: unmeasured.phase, why: 'explore' }]);

  const measured = sorted as readonly (GrowSample & { readonly stats: PointStats })[];
  const geometric = measured.filter((s) => s.phase === 'geometric');
  const stop = confirmedStop(geometric, rules);
  const last = geometric.at(-1);
  const budgetLeft = trialsSoFar < reps.maxTrials;
  if (stop === undefined && last !== undefined && measured.length < MAX_SIZES && budgetLeft) {
    return block([{ n: nextSize(last.n, rules), phase: 'geometric', why: 'explore' }]);
  }
  const stoppedBy = stop?.reason ?? 'limit';
  const why =
    stop?.why ??
    (budgetLeft
      ? `${MAX_SIZES} sizes measured`
      : `step 4's budget of ${reps.maxTrials} trials was spent exploring`);

  const bestMean = Math.max(...measured.map((s) => meanOf(s.runs)));
  const ratio = (s: GrowSample) => meanOf(s.runs) / Math.max(bestMean, 1e-9);
  const edge = measured.find((s) => ratio(s) >= 1 - rules.minGain)?.n ?? measured.at(-1)?.n ?? rules.from;
  const below = Math.max(0, ...measured.filter((s) => s.n < edge).map((s) => s.n));
  const remaining = reps.maxTrials - trialsSoFar;
  const ordered = (requests: GrowRequest[], pad: readonly GrowRequest[]): GrowMove => {
    if (remaining <= 0) {
      return { kind: 'done', stoppedBy, why: `${why}; step 4's budget of ${reps.maxTrials} trials is spent` };
    }
    // A block of one would run its size back to back: the nearest other sizes join it.
    const wanted = new Set(requests.map((r) => r.n));
    const joined = [
      ...requests,
      ...pad
        .filter((r) => !wanted.has(r.n))
        .sort((a, b) => Math.abs(a.n - (requests[0]?.n ?? 0)) - Math.abs(b.n - (requests[0]?.n ?? 0)))
        .slice(0, Math.max(0, MIN_BLOCK - requests.length)),
    ];
    return block(shuffle(joined, seededRandom(reps.seed + trialsSoFar)).slice(0, remaining));
  };

  // Refine by point estimates: only where to look next, not the decision; repeats come after.
  if (
    remaining > 0 &&
    stoppedBy !== 'limit' &&
    below > 0 &&
    edge - below > Math.max(1, edge * rules.resolution)
  ) {
    const mid = Math.round((below + edge) / 2);
    if (!measured.some((s) => s.n === mid) && measured.length < MAX_SIZES) {
      return block([{ n: mid, phase: 'refine', why: 'refine' }]);
    }
  }

  // Repeat: the base repetitions near the plateau, and a re-run for each flagged outlier.
  const analysis = analysePlateau(measured, { margin: rules.minGain, repetitions: reps.base, calibration });
  const outliers = new Map(
    (analysis?.sizes ?? []).map((s) => [s.n, s.runs.filter((run) => run.outlier).length]),
  );
  // By its best run: a stall drags one run down, and the size it hit must still get its repetitions
  // (a third run is what lets the outlier rule tell which of two disagreeing runs is off).
  const bestRun = (s: GrowSample) =>
    Math.max(...s.runs.map((run) => run.throughput)) / Math.max(bestMean, 1e-9);
  const near = measured.filter((s) => bestRun(s) >= NEAR_PLATEAU || s.n === below);
  const repeat = near.filter((s) => {
    const wanted = Math.min(reps.base + (outliers.get(s.n) ?? 0), reps.max + 1);
    return s.runs.length < wanted && s.attempts < wanted + 2;
  });
  // Sizes near the plateau still under the cap: what pads a block that would run one size alone.
  const pad: GrowRequest[] = near
    .filter((s) => s.runs.length < reps.max && s.attempts < reps.max + 2)
    .map((s) => ({ n: s.n, phase: s.phase, why: 'precision' }));
  if (repeat.length > 0) {
    return ordered(
      repeat.map((s) => ({
        n: s.n,
        phase: s.phase,
        why: s.runs.length >= reps.base ? 'outlier re-run' : 'repeat',
      })),
      pad,
    );
  }

  // Precision: the sizes that decide the answer, until narrow and decided, or at the cap.
  if (analysis === undefined) return { kind: 'done', stoppedBy, why };
  const left = analysis.plateau[0];
  const belowLeft = Math.max(0, ...analysis.sizes.filter((s) => s.n < (left ?? 0)).map((s) => s.n));
  const nearSizes = new Set(near.map((s) => s.n));
  const deciding = new Set<number>([
    ...analysis.undecided.filter((n) => nearSizes.has(n)),
    analysis.best,
    left ?? 0,
    belowLeft,
  ]);
  const precision = analysis.sizes.filter((s) => {
    if (!deciding.has(s.n)) return false;
    const sample = measured.find((m) => m.n === s.n);
    const kept = s.runs.filter((run) => !run.outlier).length;
    if (sample === undefined || kept >= reps.max || sample.attempts >= reps.max + 2) return false;
    const wide = s.halfWidth === null || s.halfWidth > reps.targetHalfWidth;
    const open = s.equivalence?.verdict === 'undecided' || (s.best && analysis.undecided.length > 0);
    return wide || open;
  });
  if (precision.length > 0) {
    return ordered(
      precision.map((s) => ({
        n: s.n,
        phase: measured.find((m) => m.n === s.n)?.phase ?? 'refine',
        why: 'precision',
      })),
      pad,
    );
  }
  return { kind: 'done', stoppedBy, why };
}

function block(requests: readonly GrowRequest[]): GrowMove {
  return { kind: 'block', requests };
}

/** A seeded Fisher–Yates shuffle (a copy). */
export function shuffle<T>(values: readonly T[], random: () => number): T[] {
  const out = [...values];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}
