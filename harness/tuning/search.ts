import { plateauLevel } from '../analysis/plateau.ts';
import type { PointStats } from '../analysis/point-stats.ts';

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
  /** Below this relative throughput gain per geometric step, returns have diminished. */
  readonly minGain: number;
  /** p99 must improve by at least this share per geometric step to count as improving. */
  readonly minP99Gain: number;
  /** Target CPU share (of one core) at which the target itself is the limit. */
  readonly cpuSaturation: number;
  /** Refinement stops when the bracket is this narrow relative to its upper end. */
  readonly resolution: number;
}

/** Default rules: 5% gain, 5% p99 improvement, 95% CPU, brackets refined to 1/8. */
export const defaultSearchRules = {
  minP99Gain: 0.05,
  cpuSaturation: 0.95,
  resolution: 0.125,
} as const;

/** The search's next move: measure a size, or stop with the reason and the sizes it settled on. */
export type SearchMove =
  | {
      readonly kind: 'measure';
      readonly n: number;
      readonly phase: 'geometric' | 'refine';
      readonly why: string;
    }
  | {
      readonly kind: 'done';
      readonly why: string;
      readonly stoppedBy: StopReason;
      readonly recommended: number;
    };

/** Why the geometric phase stopped growing. */
export type StopReason = 'diminishing-returns' | 'p99-flat' | 'limit' | 'cpu-saturated' | 'no-data';

/** True when a point's throughput is within `minGain` of the plateau level (see {@link plateauLevel}). */
export function onPlateau(point: SizePoint, points: readonly SizePoint[], minGain: number): boolean {
  const level = plateauLevel(points.map((p) => ({ n: p.n, value: p.stats.throughput })));
  return point.stats.throughput >= (1 - minGain) * level;
}

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
  const next = nextGeometric(last.n, rules.factor);
  if (next > rules.limit) {
    return { reason: 'limit', at: last.n, why: `the next size ${next} would pass the limit ${rules.limit}` };
  }
  return undefined;
}

function nextGeometric(n: number, factor: number): number {
  return Math.max(n + 1, Math.round(n * factor));
}

/**
 * The next move of the pool-size search: geometric growth (from, from x factor, ...) until returns
 * diminish, p99 stops improving, the target's CPU saturates or the limit is reached; then bisection
 * between the largest size below the plateau and the smallest on it, down to the resolution.
 * Pure: the same points give the same move.
 */
export function nextMove(
  geometric: readonly SizePoint[],
  refined: readonly SizePoint[],
  rules: SearchRules,
): SearchMove {
  if (geometric.length === 0) return { kind: 'measure', n: rules.from, phase: 'geometric', why: 'start' };
  const stop = geometricStop(geometric, rules);
  const last = geometric.at(-1) as SizePoint;
  if (stop === undefined) {
    const n = nextGeometric(last.n, rules.factor);
    return { kind: 'measure', n, phase: 'geometric', why: `growing: ${last.n} still paid` };
  }
  // Still rising at the limit: there is no plateau to find, and the largest allowed size is best.
  if (stop.reason === 'limit')
    return { kind: 'done', why: stop.why, stoppedBy: stop.reason, recommended: last.n };
  const all = [...geometric, ...refined].sort((a, b) => a.n - b.n);
  const plateau = all.filter((point) => onPlateau(point, all, rules.minGain));
  const hi = plateau[0]?.n ?? last.n;
  const lo = Math.max(0, ...all.filter((point) => point.n < hi).map((point) => point.n));
  if (lo > 0 && hi - lo > Math.max(1, hi * rules.resolution)) {
    const n = Math.round((lo + hi) / 2);
    if (!all.some((point) => point.n === n)) {
      return { kind: 'measure', n, phase: 'refine', why: `refining the knee between ${lo} and ${hi}` };
    }
  }
  return { kind: 'done', why: stop.why, stoppedBy: stop.reason, recommended: hi };
}
