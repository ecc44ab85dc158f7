import { mean, median } from 'simple-statistics';
import type { SizeRun, SizeRuns } from './size-runs.ts';

// Background load that comes and goes over minutes moves every size's throughput together. Interleaved
// repetitions spread it over the sizes, but a size that joins late (measured only while the machine was
// quiet, say) still carries it. This takes the slow part out before sizes are compared. Pure.

/** How much slow drift was taken out of step 4's runs. */
export interface DriftCorrection {
  /** The largest correction applied to a run, as a share of its throughput (0.12 = 12%). */
  readonly largest: number;
  /** Runs the drift was estimated from (repeated sizes only). */
  readonly fromRuns: number;
}

/** Runs with their throughput corrected for drift; `measured` keeps what the trial itself saw. */
export interface CorrectedRun extends SizeRun {
  readonly measured: number;
}

/** A size with its runs corrected. */
export interface CorrectedSizeRuns {
  readonly n: number;
  readonly runs: readonly CorrectedRun[];
}

/** The runs as measured, with no correction. */
export function asMeasured(sizes: readonly SizeRuns[]): CorrectedSizeRuns[] {
  return sizes.map((size) => ({
    n: size.n,
    runs: size.runs.map((run) => ({ ...run, measured: run.throughput })),
  }));
}

/** Fewest runs of repeated sizes to estimate a drift from; below it nothing is corrected. */
export const MIN_DRIFT_RUNS = 8;

/** The drift at a run is the mean residual of this many runs of repeated sizes nearest it in time. */
export const DRIFT_NEIGHBOURS = 5;

/** Rounds of backfitting: levels from the drift-corrected runs, then the drift from their residuals. */
const ROUNDS = 20;

/** A residual counts at most this many robust standard deviations (so one wild run bends no drift). */
const CLIP = 3;

/**
 * Each run's throughput with the slow drift of the machine taken out. The model is multiplicative:
 * log(throughput) = the size's level + the drift at the moment the run took place. The drift at a run
 * is the mean residual (log throughput minus its size's level) of the `DRIFT_NEIGHBOURS` runs nearest
 * it in time, among sizes measured at least twice (a size measured once has no residual of its own);
 * levels (medians) and drift are refined in turn (backfitting), so a size that ran only late still gets the
 * drift the other sizes saw around it. Residuals are clipped at `CLIP` robust standard deviations, so
 * one wild run (a stall) barely moves its neighbours' correction; it is flagged as an outlier after.
 * Drift averages to zero over the runs, so the overall level is kept. Runs without a position (`at`)
 * and sets with fewer than `MIN_DRIFT_RUNS` repeated runs are left as measured (correction null).
 */
export function removeDrift(sizes: readonly SizeRuns[]): {
  readonly sizes: readonly CorrectedSizeRuns[];
  readonly correction: DriftCorrection | null;
} {
  const repeated = sizes.filter((size) => size.runs.length >= 2);
  const estimating = repeated.flatMap((size) => size.runs.map((run) => ({ n: size.n, run })));
  if (
    estimating.length < MIN_DRIFT_RUNS ||
    sizes.some((size) => size.runs.some((run) => run.at === undefined))
  ) {
    return { sizes: asMeasured(sizes), correction: null };
  }
  const log = (run: SizeRun) => Math.log(Math.max(run.throughput, 1e-9));
  const byTime = (at: number) =>
    [...estimating]
      .sort(
        (a, b) =>
          Math.abs((a.run.at ?? 0) - at) - Math.abs((b.run.at ?? 0) - at) ||
          (a.run.at ?? 0) - (b.run.at ?? 0),
      )
      .slice(0, DRIFT_NEIGHBOURS);
  const neighbours = new Map(
    sizes.flatMap((size) => size.runs.map((run) => [run.id, byTime(run.at ?? 0)] as const)),
  );
  let drift = new Map<string, number>();
  for (let round = 0; round < ROUNDS; round++) {
    const level = new Map(
      repeated.map((size) => {
        const values = size.runs.map((run) => log(run) - (drift.get(run.id) ?? 0));
        return [size.n, median(values)] as const;
      }),
    );
    const residual = new Map(
      estimating.map(({ n, run }) => [run.id, log(run) - (level.get(n) ?? 0)] as const),
    );
    const spread = Math.max(
      0.01,
      1.4826 * median([...residual].map(([id, r]) => Math.abs(r - (drift.get(id) ?? 0)))),
    );
    const clip = (r: number, id: string) => {
      const d = drift.get(id) ?? 0;
      return d + Math.max(-CLIP * spread, Math.min(CLIP * spread, r - d));
    };
    const next = new Map(
      [...neighbours].map(([id, near]) => {
        const values = near.map(({ run }) => clip(residual.get(run.id) ?? 0, run.id));
        return [id, mean(values)] as const;
      }),
    );
    const centre = mean([...next.values()]);
    drift = new Map([...next].map(([id, d]) => [id, d - centre]));
  }
  const corrected = sizes.map((size) => ({
    n: size.n,
    runs: size.runs.map((run) => ({
      ...run,
      measured: run.throughput,
      throughput: run.throughput / Math.exp(drift.get(run.id) ?? 0),
    })),
  }));
  const largest = Math.max(0, ...[...drift.values()].map((d) => Math.abs(Math.exp(d) - 1)));
  return { sizes: corrected, correction: { largest, fromRuns: estimating.length } };
}
