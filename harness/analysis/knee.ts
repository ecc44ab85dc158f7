import { median } from 'simple-statistics';

/** A point on a curve, e.g. pool size and median throughput. */
export interface CurvePoint {
  readonly x: number;
  readonly y: number;
}

/** How to look for the knee. */
export interface KneeOptions {
  /**
   * Work on log2(x): pool sizes are swept geometrically, and on a linear axis the many small sizes
   * crowd into the corner, pulling the knee towards the largest size.
   */
  readonly logX?: boolean;
  /**
   * Kneedle's sensitivity S for the threshold (online) variant: a local maximum of the difference curve
   * is a knee only once the curve drops S × (mean x step) below it before the next local maximum.
   * Omitted: the offline variant, the global maximum of the difference curve.
   */
  readonly sensitivity?: number;
}

/** The knee found, in the caller's units. */
export interface Knee {
  readonly x: number;
  readonly y: number;
  /** Index into the points sorted by x (after merging repeated x). */
  readonly index: number;
  /** The difference curve's value at the knee, in [0, 1]: how far the curve bulges above the diagonal. */
  readonly difference: number;
}

/** Points sorted by x with repeated x merged into their median y, so repetitions can be passed as they are. */
function merged(points: readonly CurvePoint[]): CurvePoint[] {
  const byX = new Map<number, number[]>();
  for (const { x, y } of points) {
    if (!Number.isFinite(x) || !Number.isFinite(y)) continue;
    const ys = byX.get(x);
    if (ys === undefined) byX.set(x, [y]);
    else ys.push(y);
  }
  return [...byX.entries()].map(([x, ys]) => ({ x, y: median(ys) })).sort((a, b) => a.x - b.x);
}

/**
 * Kneedle (Satopää, Albrecht, Irwin, Raghavan 2011) for a concave increasing curve: scale x and y to
 * [0, 1], take the difference curve y − x, and pick its maximum (or, with `sensitivity`, the first local
 * maximum the curve then falls clearly below). Undefined with fewer than 3 distinct x, a flat y, or no
 * point above the diagonal (a straight or convex curve has no knee).
 */
export function kneedle(points: readonly CurvePoint[], options: KneeOptions = {}): Knee | undefined {
  const curve = merged(points);
  if (options.logX === true && curve.some((p) => p.x <= 0)) {
    throw new RangeError('kneedle: logX needs every x > 0');
  }
  if (curve.length < 3) return undefined;
  const xs = curve.map((p) => (options.logX === true ? Math.log2(p.x) : p.x));
  const ys = curve.map((p) => p.y);
  const [x0, x1] = [Math.min(...xs), Math.max(...xs)];
  const [y0, y1] = [Math.min(...ys), Math.max(...ys)];
  if (x1 === x0 || y1 === y0) return undefined;
  const difference = xs.map((x, i) => ((ys[i] ?? 0) - y0) / (y1 - y0) - (x - x0) / (x1 - x0));
  const index =
    options.sensitivity === undefined
      ? globalMaximum(difference)
      : firstConfirmedMaximum(difference, options.sensitivity / (curve.length - 1));
  if (index === undefined) return undefined;
  const at = curve[index];
  const value = difference[index];
  if (at === undefined || value === undefined || value <= 0) return undefined;
  return { x: at.x, y: at.y, index, difference: value };
}

function globalMaximum(values: readonly number[]): number | undefined {
  let best: number | undefined;
  for (const [i, value] of values.entries()) {
    if (best === undefined || value > (values[best] ?? Number.NEGATIVE_INFINITY)) best = i;
  }
  return best;
}

/**
 * The online rule: remember each local maximum with threshold (its value − `drop`); the first whose
 * threshold the curve falls below before the next local maximum is the knee. `drop` is S times the mean
 * step of the scaled x, which is 1 / (n − 1) since x spans [0, 1].
 */
function firstConfirmedMaximum(values: readonly number[], drop: number): number | undefined {
  let candidate: number | undefined;
  let threshold = Number.NEGATIVE_INFINITY;
  for (let i = 1; i < values.length; i++) {
    const value = values[i] ?? 0;
    const previous = values[i - 1] ?? 0;
    const next = values[i + 1];
    // >= on the left and > on the right: a flat top counts once, at its right end.
    if (next !== undefined && value >= previous && value > next) {
      candidate = i;
      threshold = value - drop;
      continue;
    }
    if (candidate !== undefined && value < threshold) return candidate;
  }
  return undefined;
}

/** The gain from one measured x to the next. */
export interface StepGain {
  readonly from: number;
  readonly to: number;
  /** Relative gain in y, per doubling of x or per step (see {@link MarginalGainOptions}). */
  readonly gain: number;
}

/** How to measure the marginal gain. */
export interface MarginalGainOptions {
  /**
   * `doubling` (default): the gain scaled to one doubling of x, (y₂/y₁)^(1/log2(x₂/x₁)) − 1, so steps of
   * different sizes (geometric growth, then bisection) compare fairly. `step`: y₂/y₁ − 1 as measured.
   */
  readonly per?: 'doubling' | 'step';
}

/** Where growing x stopped paying, and the gains that show it. */
export interface MarginalGainKnee {
  /** The smallest x from which every further step gains less than the threshold; undefined when the last still gains. */
  readonly x: number | undefined;
  readonly gains: readonly StepGain[];
}

function stepGain(from: CurvePoint, to: CurvePoint, per: 'doubling' | 'step'): number {
  if (from.y <= 0) return to.y > from.y ? Number.POSITIVE_INFINITY : 0;
  const ratio = Math.max(0, to.y / from.y);
  if (per === 'step') return ratio - 1;
  return ratio ** (1 / Math.log2(to.x / from.x)) - 1;
}

/**
 * The marginal-gain rule: the smallest x after which the relative gain of every further step stays below
 * `threshold` (e.g. 0.05 = under 5% more throughput per doubling). "Every further step" rather than
 * "the first step" so one noisy dip on the way up does not stop the search early.
 */
export function marginalGainKnee(
  points: readonly CurvePoint[],
  threshold: number,
  options: MarginalGainOptions = {},
): MarginalGainKnee {
  const per = options.per ?? 'doubling';
  const curve = merged(points);
  if (per === 'doubling' && curve.some((p) => p.x <= 0)) {
    throw new RangeError('marginalGainKnee: gains per doubling need every x > 0');
  }
  const gains: StepGain[] = [];
  for (let i = 1; i < curve.length; i++) {
    const from = curve[i - 1];
    const to = curve[i];
    if (from !== undefined && to !== undefined) {
      gains.push({ from: from.x, to: to.x, gain: stepGain(from, to, per) });
    }
  }
  let x: number | undefined;
  for (let i = gains.length - 1; i >= 0; i--) {
    const step = gains[i];
    if (step === undefined || step.gain >= threshold) break;
    x = step.from;
  }
  return { x, gains };
}
