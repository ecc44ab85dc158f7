/** Figures of one trial that Little's law relates: L = λW. */
export interface LittlesLawInput {
  /**
   * Completed requests per second over the window, errors included: Little's law counts everything that
   * leaves the system, and fast failures left out would understate L.
   */
  readonly throughput: number;
  /** Mean time a request spends in the system, in ms (client-side latency for in-flight/concurrency). */
  readonly meanLatencyMs: number;
  /** Requests in flight, averaged over the window, when something counted them directly. */
  readonly measuredInFlight?: number;
  /** Mean connections checked out of the pool (total − idle) over the window. */
  readonly poolInUse?: number;
  /** Closed model: connections the generator keeps busy; each has at most one request in flight. */
  readonly concurrency?: number;
  /** Allowed relative gap between expected and measured; 0.25 means the ratio may be 0.75..1.25. */
  readonly tolerance?: number;
}

/** What the reference count was: a direct count, the closed model's connections, or the pool's use. */
export type LittlesLawReference = 'in-flight' | 'concurrency' | 'pool-in-use';

/** The outcome of comparing λW with a measured occupancy. */
export interface LittlesLawCheck {
  /** L = λW: requests in the system on average, from throughput and latency. */
  readonly expectedInFlight: number;
  readonly measured: number;
  readonly reference: LittlesLawReference;
  /** expectedInFlight / measured. */
  readonly ratio: number;
  readonly verdict: 'consistent' | 'mismatch';
  /** One sentence for the report saying what the numbers mean. */
  readonly note: string;
}

/** The gap allowed by default: sampled occupancies and whole-ms latencies are coarse. */
export const defaultLittlesLawTolerance = 0.25;

function requireNonNegative(name: string, value: number): void {
  if (!Number.isFinite(value) || value < 0) {
    throw new RangeError(`littlesLawCheck: ${name} must be a finite number >= 0, got ${value}`);
  }
}

const fmt = (value: number) => (Number.isInteger(value) ? String(value) : value.toFixed(2));

function noteFor(
  reference: LittlesLawReference,
  expected: number,
  measured: number,
  ratio: number,
  verdict: 'consistent' | 'mismatch',
): string {
  const figures = `λW = ${fmt(expected)} in flight against ${fmt(measured)} ${reference === 'concurrency' ? 'connections' : reference === 'pool-in-use' ? 'connections in use' : 'measured in flight'} (ratio ${fmt(ratio)})`;
  if (verdict === 'consistent') return `${figures}: throughput and latency agree.`;
  if (reference === 'pool-in-use') {
    return ratio > 1
      ? `${figures}: requests spend time outside the pool (waiting for a connection, in the HTTP layer, or in the generator or network); if the pool has no waiters, the generator or network is often the limit.`
      : `${figures}: connections stay checked out longer than requests take; look for a leak or work done between queries while holding a connection.`;
  }
  return ratio < 1
    ? `${figures}: the connections sit idle between requests, which often means the load generator or the network, not the target, is the limit.`
    : `${figures}: more in flight than can exist; latency or throughput is miscounted (e.g. a coordinated-omission correction adding samples no request had, or different windows).`;
}

/**
 * Checks L = λW against a measured occupancy: the first of `measuredInFlight`, `concurrency` and
 * `poolInUse` that is given, in that order (the most direct count first). Undefined when none is.
 */
export function littlesLawCheck(input: LittlesLawInput): LittlesLawCheck | undefined {
  const tolerance = input.tolerance ?? defaultLittlesLawTolerance;
  requireNonNegative('throughput', input.throughput);
  requireNonNegative('meanLatencyMs', input.meanLatencyMs);
  requireNonNegative('tolerance', tolerance);
  const reference: [LittlesLawReference, keyof LittlesLawInput, number] | undefined =
    input.measuredInFlight !== undefined
      ? ['in-flight', 'measuredInFlight', input.measuredInFlight]
      : input.concurrency !== undefined
        ? ['concurrency', 'concurrency', input.concurrency]
        : input.poolInUse !== undefined
          ? ['pool-in-use', 'poolInUse', input.poolInUse]
          : undefined;
  if (reference === undefined) return undefined;
  const [kind, field, measured] = reference;
  requireNonNegative(field, measured);
  const expectedInFlight = (input.throughput * input.meanLatencyMs) / 1000;
  const ratio =
    measured === 0 ? (expectedInFlight === 0 ? 1 : Number.POSITIVE_INFINITY) : expectedInFlight / measured;
  const verdict = ratio >= 1 - tolerance && ratio <= 1 + tolerance ? 'consistent' : 'mismatch';
  return {
    expectedInFlight,
    measured,
    reference: kind,
    ratio,
    verdict,
    note: noteFor(kind, expectedInFlight, measured, ratio, verdict),
  };
}
