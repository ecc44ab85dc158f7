import { median, quantile } from 'simple-statistics';
import type { MeasuredTrial } from '../results/trial.ts';

/** Medians over a point's completed repetitions: what a step compares and decides on. */
export interface PointStats {
  readonly repetitions: number;
  readonly throughput: number;
  readonly p50: number;
  readonly p99: number;
  readonly p999: number;
  /** Errors over responses plus errors. */
  readonly errorRate: number;
  /** Errors by kind, summed over repetitions (client side). */
  readonly errors: Readonly<Record<string, number>>;
  readonly waitingMean?: number;
  readonly poolTotalMax?: number;
  /** Highest share of the pool in use (total − idle over the pool size) seen in any sample. */
  readonly utilisationMax?: number;
  /**
   * The pool's sustained use: the 90th percentile of the in-use share over the measured samples. A
   * stall of the machine fills any pool for a sample or two; this is what a bigger pool can change.
   */
  readonly utilisationP90?: number;
  /** Connections wanted (in use + waiting), 90th percentile over the samples: what a pool would need. */
  readonly demandP90?: number;
  readonly acquireWaitP99Ms?: number;
  /** Connections the pool opened per second of measurement. */
  readonly churnPerSec?: number;
  readonly targetCpuShare?: number;
  readonly fdsMax?: number;
  readonly rssMaxBytes?: number;
}

const medianOf = (values: readonly number[]): number | undefined =>
  values.length === 0 ? undefined : median([...values]);

/** The median figures of a point's completed trials; undefined when none completed. */
export function pointStats(trials: readonly MeasuredTrial[], poolSize?: number): PointStats | undefined {
  if (trials.length === 0) return undefined;
  const pick = (read: (trial: MeasuredTrial) => number | undefined) =>
    medianOf(trials.map(read).filter((value): value is number => value !== undefined));
  // Non-2xx responses are counted in `requests` and under `status:NNN`; transport errors (timeouts,
  // resets) got no response, so they add to the attempts.
  const errors: Record<string, number> = {};
  let failures = 0;
  let attempts = 0;
  for (const trial of trials) {
    let transport = 0;
    for (const [kind, count] of Object.entries(trial.client.errors)) {
      errors[kind] = (errors[kind] ?? 0) + count;
      if (!kind.startsWith('status:')) transport += count;
    }
    failures += trial.client.requests - trial.client.ok + transport;
    attempts += trial.client.requests + transport;
  }
  const optional = (key: string, value: number | undefined) => (value === undefined ? {} : { [key]: value });
  return {
    repetitions: trials.length,
    throughput: pick((t) => t.client.throughput) ?? 0,
    p50: pick((t) => t.client.latency.p50) ?? 0,
    p99: pick((t) => t.client.latency.p99) ?? 0,
    p999: pick((t) => t.client.latency.p999) ?? 0,
    errorRate: attempts === 0 ? 0 : failures / attempts,
    errors,
    ...optional(
      'waitingMean',
      pick((t) => t.server.pool?.waitingMean),
    ),
    ...optional(
      'poolTotalMax',
      pick((t) => t.server.pool?.totalMax),
    ),
    ...optional(
      'utilisationMax',
      poolSize === undefined ? undefined : pick((t) => utilisation(t, poolSize, 1)),
    ),
    ...optional(
      'utilisationP90',
      poolSize === undefined ? undefined : pick((t) => utilisation(t, poolSize, 0.9)),
    ),
    ...optional(
      'demandP90',
      pick((t) => demand(t, 0.9)),
    ),
    ...optional(
      'acquireWaitP99Ms',
      pick((t) => t.server.pool?.acquireWaitP99Ms),
    ),
    ...optional(
      'churnPerSec',
      pick((t) =>
        t.server.pool?.connectionsOpened === undefined
          ? undefined
          : t.server.pool.connectionsOpened / (t.client.durationMs / 1000),
      ),
    ),
    ...optional(
      'targetCpuShare',
      pick((t) => t.server.process?.cpuShareMean),
    ),
    ...optional(
      'fdsMax',
      pick((t) => t.server.process?.fdsMax),
    ),
    ...optional(
      'rssMaxBytes',
      pick((t) => t.server.process?.rssMaxBytes),
    ),
  };
}

/** Quantile `p` of the in-use share of the pool over the measured samples (1 = the highest). */
function utilisation(trial: MeasuredTrial, poolSize: number, p: number): number | undefined {
  const inUse = measuredPoolSamples(trial).map((pool) => (pool.total - pool.idle) / poolSize);
  return inUse.length === 0 ? undefined : quantile(inUse, p);
}

/** Quantile `p` of the connections wanted (in use + waiting) over the measured samples. */
function demand(trial: MeasuredTrial, p: number): number | undefined {
  const wanted = measuredPoolSamples(trial).map((pool) => pool.total - pool.idle + pool.waiting);
  return wanted.length === 0 ? undefined : quantile(wanted, p);
}

function measuredPoolSamples(
  trial: MeasuredTrial,
): { readonly total: number; readonly idle: number; readonly waiting: number }[] {
  return trial.server.samples
    .filter((sample) => sample.atMs >= 0)
    .flatMap((sample) => (sample.pool === undefined ? [] : [sample.pool]));
}
