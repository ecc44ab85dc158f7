import { levenbergMarquardt } from 'ml-levenberg-marquardt';
import { mean } from 'simple-statistics';

/** One measurement: concurrency N (pool size or connections) and the throughput it gave. */
export interface UslPoint {
  readonly n: number;
  readonly throughput: number;
}

/** The Universal Scalability Law's coefficients. */
export interface UslParameters {
  /** Throughput of one unit of concurrency without contention (requests per second at N = 1). */
  readonly lambda: number;
  /** Contention: the serial share of the work (queueing on a lock, a single CPU, one disk). */
  readonly sigma: number;
  /** Coherency: the pairwise cost of keeping N workers in step; it makes throughput fall past the peak. */
  readonly kappa: number;
}

interface UslFitFigures extends UslParameters {
  /** N* = sqrt((1 − σ)/κ), where throughput peaks; Infinity when κ = 0 (no retrograde region), 1 when σ ≥ 1. */
  readonly peakN: number;
  /** X(N*); with κ = 0 the asymptote λ/σ (Infinity when σ = 0 too). */
  readonly peakThroughput: number;
  /** True when N* lies beyond the largest N measured: the peak is an extrapolation. */
  readonly peakExtrapolated: boolean;
  /** X(n) under the fitted law. */
  readonly predict: (n: number) => number;
  /** 1 − SS_res/SS_tot on throughput (not on the normalised capacity). */
  readonly rSquared: number;
  /** Root-mean-square residual over the mean throughput. */
  readonly relativeRmse: number;
  /** Points used and distinct N among them. */
  readonly points: number;
  readonly sizes: number;
  /** Levenberg–Marquardt iterations run. */
  readonly iterations: number;
}

/** A USL fit, tagged with whether it can be trusted: a poor fit says why instead of pretending. */
export type UslFit =
  | (UslFitFigures & { readonly quality: 'good' })
  | (UslFitFigures & { readonly quality: 'poor'; readonly reason: string });

/** Thresholds and effort for {@link fitUsl}. */
export interface UslFitOptions {
  /** Below this R² the fit is poor (default 0.9). */
  readonly minRSquared?: number;
  /** With fewer distinct N the fit is poor (default 5): three parameters on three or four sizes fit anything. */
  readonly minSizes?: number;
  /** Levenberg–Marquardt runs to this on noisy data, so it bounds the work (default 100). */
  readonly maxIterations?: number;
}

/** X(N) = λN / (1 + σ(N − 1) + κN(N − 1)). */
export function uslThroughput(parameters: UslParameters, n: number): number {
  const { lambda, sigma, kappa } = parameters;
  return (lambda * n) / (1 + sigma * (n - 1) + kappa * n * (n - 1));
}

/** Where X(N) peaks and how high, for the given coefficients (see {@link UslFit} for the edge cases). */
export function uslPeak(parameters: UslParameters): { readonly n: number; readonly throughput: number } {
  const { lambda, sigma, kappa } = parameters;
  if (sigma >= 1) return { n: 1, throughput: lambda };
  if (kappa <= 0) {
    return { n: Number.POSITIVE_INFINITY, throughput: sigma > 0 ? lambda / sigma : Number.POSITIVE_INFINITY };
  }
  const n = Math.sqrt((1 - sigma) / kappa);
  return { n, throughput: uslThroughput(parameters, n) };
}

/**
 * Gunther's starting guess. With C(N) = X(N)/X(1) and x = N − 1, the law rearranges to
 * N/C(N) − 1 = κx² + (σ + κ)x, a quadratic through the origin fitted by least squares. Negative
 * coefficients are refitted with that term dropped, since σ, κ ≥ 0.
 */
function guntherStart(
  ns: readonly number[],
  capacities: readonly number[],
): { sigma: number; kappa: number } {
  let [s2, s3, s4, sy1, sy2] = [0, 0, 0, 0, 0];
  for (const [i, n] of ns.entries()) {
    const x = n - 1;
    const y = n / (capacities[i] ?? 1) - 1;
    s2 += x * x;
    s3 += x * x * x;
    s4 += x * x * x * x;
    sy1 += x * y;
    sy2 += x * x * y;
  }
  // Normal equations of y = a x² + b x: [s4 s3; s3 s2] [a; b] = [sy2; sy1].
  const det = s4 * s2 - s3 * s3;
  const a = det === 0 ? 0 : (sy2 * s2 - s3 * sy1) / det;
  const b = det === 0 ? (s2 === 0 ? 0 : sy1 / s2) : (s4 * sy1 - s3 * sy2) / det;
  if (a < 0) return { sigma: Math.max(0, s2 === 0 ? 0 : sy1 / s2), kappa: 0 };
  if (b - a < 0) {
    // σ = 0: y = κ(x² + x).
    const den = s4 + 2 * s3 + s2;
    return { sigma: 0, kappa: Math.max(0, den === 0 ? 0 : (sy2 + sy1) / den) };
  }
  return { sigma: b - a, kappa: a };
}

/**
 * Fits the Universal Scalability Law to throughput measured at several concurrencies. Throughput is
 * normalised by X(1) (or, without N = 1, by the smallest N's throughput over N), Gunther's quadratic
 * gives the start, and Levenberg–Marquardt refines λ, σ, κ ≥ 0 on all points (repetitions included).
 * Undefined with fewer than 3 distinct N or no positive throughput at the smallest N.
 */
export function fitUsl(points: readonly UslPoint[], options: UslFitOptions = {}): UslFit | undefined {
  const minRSquared = options.minRSquared ?? 0.9;
  const minSizes = options.minSizes ?? 5;
  const maxIterations = options.maxIterations ?? 100;
  const usable = points.filter((p) => Number.isFinite(p.n) && p.n >= 1 && Number.isFinite(p.throughput));
  const sizes = new Set(usable.map((p) => p.n)).size;
  if (sizes < 3) return undefined;
  const smallest = Math.min(...usable.map((p) => p.n));
  const atSmallest = usable.filter((p) => p.n === smallest).map((p) => p.throughput);
  // The mean of the repetitions at the smallest N: the scale only conditions the fit, λ stays free.
  const scale = mean(atSmallest) / smallest;
  if (!(scale > 0)) return undefined;
  const ns = usable.map((p) => p.n);
  const capacities = usable.map((p) => p.throughput / scale);
  const start = guntherStart(ns, capacities);
  const model =
    ([l = 1, s = 0, k = 0]: number[]) =>
    (n: number) =>
      (l * n) / (1 + s * (n - 1) + k * n * (n - 1));
  // The analytic Jacobian: finite differences with the library's default step (0.1) would swamp κ ~ 1e-3.
  const jacobian =
    ([l = 1, s = 0, k = 0]: number[]) =>
    (n: number) => {
      const d = 1 + s * (n - 1) + k * n * (n - 1);
      return [n / d, (-l * n * (n - 1)) / (d * d), (-l * n * n * (n - 1)) / (d * d)];
    };
  const result = levenbergMarquardt({ x: ns, y: capacities }, model, {
    initialValues: [1, start.sigma, start.kappa],
    minValues: [0, 0, 0],
    maxIterations,
    jacobianFunction: jacobian,
    // The library's default (1e-7 on the sum of squares) stops exact data ~1e-6 short; noisy data reaches neither.
    errorTolerance: 1e-14,
  });
  const [l = 1, sigma = 0, kappa = 0] = result.parameterValues;
  const parameters = { lambda: l * scale, sigma, kappa };
  const predict = (n: number) => uslThroughput(parameters, n);

  const meanObserved = mean(usable.map((p) => p.throughput));
  let ssRes = 0;
  let ssTot = 0;
  for (const p of usable) {
    ssRes += (p.throughput - predict(p.n)) ** 2;
    ssTot += (p.throughput - meanObserved) ** 2;
  }
  const rSquared = ssTot === 0 ? (ssRes === 0 ? 1 : 0) : 1 - ssRes / ssTot;
  const relativeRmse =
    meanObserved === 0 ? Number.POSITIVE_INFINITY : Math.sqrt(ssRes / usable.length) / meanObserved;
  const peak = uslPeak(parameters);
  const figures: UslFitFigures = {
    ...parameters,
    peakN: peak.n,
    peakThroughput: peak.throughput,
    peakExtrapolated: peak.n > Math.max(...ns),
    predict,
    rSquared,
    relativeRmse,
    points: usable.length,
    sizes,
    iterations: result.iterations,
  };
  const problems: string[] = [];
  if (sizes < minSizes) {
    problems.push(`only ${sizes} distinct sizes; three parameters need at least ${minSizes} to be tested`);
  }
  if (rSquared < minRSquared) {
    problems.push(
      `R² ${rSquared.toFixed(3)} is below ${minRSquared}: the throughput does not follow the USL`,
    );
  }
  return problems.length === 0
    ? { ...figures, quality: 'good' }
    : { ...figures, quality: 'poor', reason: problems.join('; ') };
}
