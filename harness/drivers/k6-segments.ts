// Pure: how N k6 instances split one scenario with execution segments, in exact fractions as k6 does
// (k6 parses `--execution-segment` into big.Rat values, lib/execution_segment.go). No I/O.

/** A non-negative fraction in lowest terms. */
export interface Fraction {
  readonly num: number;
  readonly den: number;
}

function gcd(a: number, b: number): number {
  let [x, y] = [Math.abs(a), Math.abs(b)];
  while (y !== 0) [x, y] = [y, x % y];
  return x;
}

/** `num/den` in lowest terms; both must be safe integers and `den` positive. */
export function fraction(num: number, den = 1): Fraction {
  if (!Number.isSafeInteger(num) || !Number.isSafeInteger(den) || den <= 0) {
    throw new RangeError(`not a fraction: ${num}/${den}`);
  }
  const divisor = gcd(num, den) || 1;
  return { num: num / divisor, den: den / divisor };
}

/** a + b, exactly. */
export function addFractions(a: Fraction, b: Fraction): Fraction {
  return fraction(a.num * b.den + b.num * a.den, a.den * b.den);
}

/** a × b, exactly. */
export function multiplyFractions(a: Fraction, b: Fraction): Fraction {
  return fraction(a.num * b.num, a.den * b.den);
}

/** True when a and b are the same number. */
export function equalFractions(a: Fraction, b: Fraction): boolean {
  return a.num === b.num && a.den === b.den;
}

/** `0`, `1`, `1/3`: how k6 prints a fraction (big.Rat's RatString). */
export function formatFraction(value: Fraction): string {
  return value.den === 1 ? String(value.num) : `${value.num}/${value.den}`;
}

/** Reads `0`, `1`, `2/3` (the forms {@link formatFraction} writes). */
export function parseFraction(text: string): Fraction {
  const match = /^(\d+)(?:\/(\d+))?$/.exec(text.trim());
  if (match === null) throw new RangeError(`not a fraction: "${text}"`);
  return fraction(Number(match[1]), match[2] === undefined ? 1 : Number(match[2]));
}

/**
 * A decimal rate (e.g. 12.5 req/s) as an exact fraction: scaled by powers of ten until whole, the way
 * the k6 script picks its `timeUnit`. Throws for values that are not finite decimals of at most 9 places.
 */
export function decimalFraction(value: number): Fraction {
  for (let scale = 1; scale <= 1e9; scale *= 10) {
    const scaled = value * scale;
    if (Math.abs(scaled - Math.round(scaled)) < 1e-6) {
      return fraction(Math.round(scaled), scale);
    }
  }
  throw new RangeError(`not a decimal with at most 9 places: ${value}`);
}

/** One instance's share of the work: the interval (from, to] of [0, 1]. */
export interface ExecutionSegment {
  /** 0-based position in the sequence. */
  readonly index: number;
  readonly from: Fraction;
  readonly to: Fraction;
  /** `to − from`. */
  readonly length: Fraction;
  /** The value of `--execution-segment`, e.g. `1/3:2/3`. */
  readonly segment: string;
  /** The value of `--execution-segment-sequence` (the same for every instance), e.g. `0,1/3,2/3,1`. */
  readonly sequence: string;
}

/**
 * The `n` equal, consecutive segments that cover [0, 1] with no gap or overlap: instance i runs
 * (i/n, (i+1)/n]. Every instance gets the same sequence, so k6 lays the work out the same way in each
 * (k6-operator builds the same strings in pkg/segmentation/segmentation.go, unreduced).
 */
export function executionSegments(n: number): ExecutionSegment[] {
  // The bound only keeps the products of fractions exact in doubles; the config's own limit is lower.
  if (!Number.isInteger(n) || n < 1 || n > 1_000_000) {
    throw new RangeError(`instances must be a whole number from 1 to 1000000, got ${n}`);
  }
  const points = Array.from({ length: n + 1 }, (_, i) => fraction(i, n));
  const sequence = points.map(formatFraction).join(',');
  return points.slice(0, n).map((from, index) => {
    const to = points[index + 1] ?? fraction(1);
    return {
      index,
      from,
      to,
      length: fraction(to.num * from.den - from.num * to.den, to.den * from.den),
      segment: `${formatFraction(from)}:${formatFraction(to)}`,
      sequence,
    };
  });
}

/** The `k6 run` flags that make one instance run its segment. */
export function segmentFlags(segment: ExecutionSegment): string[] {
  return [`--execution-segment=${segment.segment}`, `--execution-segment-sequence=${segment.sequence}`];
}

/** Reads `0:1/2` into its bounds; checks 0 ≤ from < to ≤ 1 as k6 does. */
export function parseSegment(text: string): { readonly from: Fraction; readonly to: Fraction } {
  const [fromText, toText, ...rest] = text.split(':');
  if (fromText === undefined || toText === undefined || rest.length > 0) {
    throw new RangeError(`not an execution segment: "${text}" (expected from:to, e.g. 0:1/2)`);
  }
  const from = parseFraction(fromText);
  const to = parseFraction(toText);
  if (from.num * to.den >= to.num * from.den || to.num > to.den) {
    throw new RangeError(`execution segment "${text}" must have 0 <= from < to <= 1`);
  }
  return { from, to };
}

/** An arrival rate's share for one segment: `rate × length`, exactly (k6 scales rates as big.Rat). */
export function segmentRate(rate: Fraction, segment: ExecutionSegment): Fraction {
  return multiplyFractions(rate, segment.length);
}

function roundHalfUp(value: Fraction): number {
  const quotient = Math.floor(value.num / value.den);
  const remainder = value.num - quotient * value.den;
  return 2 * remainder >= value.den ? quotient + 1 : quotient;
}

/**
 * A whole count's share for one segment (VUs, iterations): round(count × to) − round(count × from),
 * k6's `ExecutionSegment.Scale`. The shares telescope, so they add up to `count` exactly. With a
 * sequence k6 deals whole units out by striping instead, which can give a unit to a different
 * instance but keeps the same total; pooltune uses this only to check totals, never to configure k6.
 */
export function segmentCount(count: number, segment: ExecutionSegment): number {
  return (
    roundHalfUp(multiplyFractions(fraction(count), segment.to)) -
    roundHalfUp(multiplyFractions(fraction(count), segment.from))
  );
}
