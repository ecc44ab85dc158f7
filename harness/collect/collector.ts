import type { PoolMetricNames } from './metric-names.ts';

/** One sample of the target taken while load runs. Missing figures are left out, never guessed. */
export interface ServerSample {
  /** ms since measurement started (negative during warm-up). */
  readonly atMs: number;
  /** Pool figures from the entry service's Prometheus metrics. */
  readonly pool?: { readonly total: number; readonly idle: number; readonly waiting: number };
  /** The entry service process: CPU share of one core since the previous sample, RSS, open FDs. */
  readonly process?: { readonly cpuShare: number; readonly rssBytes: number; readonly fds: number };
  /** The target's native pool gauges by label (see `metrics.native`). */
  readonly native?: Readonly<Record<string, number>>;
  /** TCP socket states on the target's ports. */
  readonly sockets?: { readonly established: number; readonly timeWait: number; readonly closeWait: number };
  /** New TCP connections per second accepted on the entry port since the previous sample. */
  readonly newConnectionsPerSec?: number;
}

/** Figures about the target over a trial's measured window, summarised from the samples. */
export interface ServerFigures {
  readonly samples: readonly ServerSample[];
  /** Pool figures: the gauges' when the target exposes them, the counters' on their own otherwise. */
  readonly pool?: {
    readonly totalMax?: number;
    readonly idleMean?: number;
    readonly waitingMean?: number;
    readonly waitingMax?: number;
    /** From the target's acquire-wait histogram over the window, when it exposes one. */
    readonly acquireWaitMeanMs?: number;
    /** p99 of the acquire wait over the window, interpolated from the histogram's buckets. */
    readonly acquireWaitP99Ms?: number;
    /** Pool errors by kind counted by the target over the window. */
    readonly errors?: Readonly<Record<string, number>>;
    /** Connections the pool opened over the window. */
    readonly connectionsOpened?: number;
  };
  readonly process?: { readonly cpuShareMean: number; readonly rssMaxBytes: number; readonly fdsMax: number };
  readonly sockets?: {
    readonly establishedMax: number;
    readonly timeWaitMax: number;
    readonly closeWaitMax: number;
  };
  readonly newConnectionsPerSecMean?: number;
  /** The target's native pool gauges over the window: mean and max of each label. */
  readonly native?: Readonly<Record<string, { readonly mean: number; readonly max: number }>>;
}

/** What a collector needs to know about the target it samples. */
export interface CollectTarget {
  /** PIDs whose CPU, RSS and FDs are summed (the entry service's process group). */
  readonly pids: readonly number[];
  /** Ports whose sockets are counted (the entry service's listening port, and its database's). */
  readonly ports: readonly number[];
  /** The entry port: new connections are counted on it. */
  readonly entryPort: number;
  /** Prometheus text endpoint of the entry service, when it has one. */
  readonly metricsUrl?: string;
  /** Which series carry the pool figures; defaults to {@link defaultPoolMetricNames}. */
  readonly metricNames?: PoolMetricNames;
  /** Native pool gauges to sample: label → series name. */
  readonly nativeGauges?: Readonly<Record<string, string>>;
}

/** A running sampler; stop it to get the figures. */
export interface RunningCollector extends AsyncDisposable {
  /** Marks the start of the measured window (samples before it are warm-up). */
  markMeasureStart(): void;
  stop(): Promise<ServerFigures>;
}
