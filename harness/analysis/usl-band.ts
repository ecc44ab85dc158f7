import { seededRandom } from '../../scenarios/schedule.ts';
import { quantile } from './statistics.ts';
import { fitUsl, type UslFit } from './usl.ts';

// The USL fit over a step's repetitions with a bootstrap band, computed once by the analysis and
// recorded, so the report draws exactly the curve the step reasoned with. Pure and seeded.

/** A size with the throughput of each kept repetition. */
export interface RepeatedPoint {
  readonly n: number;
  readonly throughputs: readonly number[];
}

/** The fitted curve and its 95% band at one grid size. */
export interface BandPoint {
  readonly n: number;
  readonly fit: number;
  readonly low: number;
  readonly high: number;
}

/** Grid sizes the fitted curve and its band are drawn on. */
const GRID_POINTS = 48;
/** Refits of the band: enough for its 2.5% and 97.5% quantiles to settle, cheap at a handful of sizes. */
export const BAND_RESAMPLES = 200;
/** The band's seed: fixed, so the same repetitions always give the same band. */
const BAND_SEED = 0x5eed;

/** The USL fitted to every repetition of every size; undefined with too few to fit. */
export function fitRepeated(points: readonly RepeatedPoint[]): UslFit | undefined {
  return fitUsl(points.flatMap((p) => p.throughputs.map((throughput) => ({ n: p.n, throughput }))));
}

/**
 * A 95% percentile-bootstrap band around the fitted curve: each size's repetitions are resampled with
 * replacement (seeded), the law refitted, and the 2.5% and 97.5% quantiles of the refitted curves taken
 * on a geometric grid of sizes. Returns the refits that converged with the band.
 */
export function uslBand(
  points: readonly RepeatedPoint[],
  fit: UslFit,
  resamples = BAND_RESAMPLES,
): { readonly curve: BandPoint[]; readonly resamples: number } {
  const ns = points.map((p) => p.n);
  const grid = sizeGrid(Math.min(...ns), Math.max(...ns));
  const random = seededRandom(BAND_SEED);
  const refits: number[][] = grid.map(() => []);
  let fitted = 0;
  for (let i = 0; i < resamples; i++) {
    const resampled = points.flatMap((p) =>
      p.throughputs.map(() => ({
        n: p.n,
        throughput: p.throughputs[Math.floor(random() * p.throughputs.length)] ?? 0,
      })),
    );
    const refit = fitUsl(resampled);
    if (refit === undefined) continue;
    fitted += 1;
    for (const [j, n] of grid.entries()) refits[j]?.push(refit.predict(n));
  }
  const curve = grid.map((n, j) => {
    const values = refits[j] ?? [];
    const y = fit.predict(n);
    return {
      n: round(n),
      fit: round(y),
      low: round(quantile(values, 0.025) ?? y),
      high: round(quantile(values, 0.975) ?? y),
    };
  });
  return { curve, resamples: fitted };
}

/** `GRID_POINTS` sizes spaced evenly on a log scale from `low` to `high` (linear when `low` is not positive). */
function sizeGrid(low: number, high: number): number[] {
  if (high <= low) return [low];
  const steps = GRID_POINTS - 1;
  const at = (i: number) => (low > 0 ? low * (high / low) ** (i / steps) : low + ((high - low) * i) / steps);
  return Array.from({ length: GRID_POINTS }, (_, i) => (i === steps ? high : at(i)));
}

/** Four significant digits: enough for a chart, and the SVG stays small. */
function round(value: number): number {
  return Number.isFinite(value) ? Number(value.toPrecision(4)) : value;
}
