/** A recommended duration and the rule that chose it. */
export interface TimeoutChoice {
  readonly ms: number;
  readonly rule: string;
}

const clamp = (value: number, low: number, high: number) => Math.min(high, Math.max(low, value));
const roundUp = (value: number, step: number) => Math.ceil(value / step) * step;

/** Connection/acquire timeout: the measured p99 acquire wait at peak times 3, within 250 ms .. 10 s. */
export function connectTimeout(acquireP99Ms: number | undefined): TimeoutChoice {
  if (acquireP99Ms === undefined) {
    return { ms: 5_000, rule: 'no acquire time measured: the usual 5 s starting point' };
  }
  const ms = clamp(roundUp(acquireP99Ms * 3, 50), 250, 10_000);
  return {
    ms,
    rule: `3 x the p99 acquire wait at peak (${acquireP99Ms.toFixed(1)} ms), within 250 ms .. 10 s`,
  };
}

/**
 * Read/statement timeout: above the slowest legitimate response (1.5 x the measured p99.9 at peak) and
 * no tighter than 4 x the p99 SLA, rounded up to 100 ms, at least 1 s.
 */
export function readTimeout(sloP99Ms: number, p999Ms: number | undefined): TimeoutChoice {
  const fromSla = 4 * sloP99Ms;
  const fromMeasured = p999Ms === undefined ? 0 : 1.5 * p999Ms;
  const ms = Math.max(1_000, roundUp(Math.max(fromSla, fromMeasured), 100));
  return {
    ms,
    rule: `max(4 x the p99 SLA ${sloP99Ms} ms, 1.5 x the p99.9 at peak${p999Ms === undefined ? ' (not measured)' : ` ${p999Ms.toFixed(1)} ms`}), at least 1 s`,
  };
}

/** Share of a connection's lifetime left as random jitter, so a pool's connections do not expire together. */
export const lifetimeJitter = 0.1;

/**
 * Max lifetime: under the shortest idle cutoff of the load balancers and firewalls between app and
 * database (80% of it, leaving room for the jitter), so none of them cuts a connection the pool still
 * trusts; 30 min when no cutoff is known.
 */
export function maxLifetime(infraIdleCutoffsMs: readonly number[]): TimeoutChoice {
  if (infraIdleCutoffsMs.length === 0) {
    return { ms: 1_800_000, rule: 'no infrastructure idle cutoffs given: 30 min, a common ceiling' };
  }
  const shortest = Math.min(...infraIdleCutoffsMs);
  const ms = Math.floor((shortest * (1 - 2 * lifetimeJitter)) / 1000) * 1000;
  return {
    ms,
    rule: `80% of the shortest infrastructure idle cutoff (${shortest} ms), with up to ${lifetimeJitter * 100}% jitter per connection`,
  };
}

/** An idle timeout capped below the shortest infrastructure cutoff (an idle connection must close first). */
export function capIdleTimeout(
  idleMs: number,
  infraIdleCutoffsMs: readonly number[],
): TimeoutChoice | undefined {
  if (infraIdleCutoffsMs.length === 0) return undefined;
  const cap = Math.floor(Math.min(...infraIdleCutoffsMs) * 0.8);
  return idleMs <= cap
    ? undefined
    : { ms: cap, rule: `capped at 80% of the shortest infrastructure idle cutoff` };
}
