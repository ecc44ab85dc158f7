import type { Scenario } from '../../scenarios/scenario.ts';
import type { CpuUsage } from '../host/host.ts';
import type { RemotePolicy } from '../loopback.ts';

/** The names of the load drivers. */
export type DriverName = 'autocannon' | 'arrival-rate' | 'k6';

/** Latency percentiles in milliseconds, from an HDR histogram. */
export interface LatencySummary {
  readonly count: number;
  readonly mean: number;
  readonly min: number;
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly p999: number;
  readonly max: number;
}

/** What a driver that generates load inside pooltune needs from the host: its CPU time, for its share. */
export interface InProcessDriverOptions {
  readonly cpuUsage: CpuUsage;
}

/** CPU used by the load generator itself while it ran. On 2 cores it competes with the target. */
export interface GeneratorCpu {
  readonly userMs: number;
  readonly systemMs: number;
  /** CPU time over wall time: 1.0 means one core was busy the whole time (a Node generator's ceiling). */
  readonly share: number;
  /**
   * Generator processes that shared the load side by side (`k6.instances`); absent means one. `share`
   * is theirs together, so `share / processes` is each one's.
   */
  readonly processes?: number;
}

/** Figures for one closed-model stage. */
export interface StageResult {
  readonly connections: number;
  readonly durationMs: number;
  readonly requests: number;
  readonly throughput: number;
  readonly latency: LatencySummary;
}

/** What a driver measured over the scenario's measured window (warm-up excluded). */
export interface DriverResult {
  readonly driver: DriverName;
  /** Measured wall time in ms. */
  readonly durationMs: number;
  /** Responses received (any status). */
  readonly requests: number;
  /** 2xx responses. */
  readonly ok: number;
  /** Errors by kind, e.g. `timeout`, `status:503`, `ECONNRESET`. */
  readonly errors: Readonly<Record<string, number>>;
  /** Successful responses per second. */
  readonly throughput: number;
  /** Open model only: the rate the scenario asked for and the rate the driver actually started. */
  readonly offeredRate?: number;
  readonly achievedRate?: number;
  /** Open model only: starts later than 1 ms past their intended time, and starts dropped at maxInFlight. */
  readonly lateStarts?: number;
  readonly droppedStarts?: number;
  readonly latency: LatencySummary;
  /** Latency (microseconds) as a compressed base64 HdrHistogram, so later analysis can merge runs. */
  readonly histogram: string;
  readonly generatorCpu: GeneratorCpu;
  /** Closed model: one entry per stage; the last one is the headline. */
  readonly stages?: readonly StageResult[];
}

/** One run of a scenario against a URL. */
export interface DriverRequest {
  /** Base URL of the target's entry service, e.g. `http://127.0.0.1:41234`. Loopback unless `remote` allows its host. */
  readonly url: string;
  /** Hosts besides loopback the config allows (`allowRemote` + `allowHosts`); absent: loopback only. */
  readonly remote?: RemotePolicy;
  readonly scenario: Scenario;
  /** Aborting stops load within a second; the driver then rejects or returns what it has. */
  readonly signal: AbortSignal;
  /** Seed for arrival jitter and the request mix. */
  readonly seed: number;
  /** Called when the warm-up ends and measurement begins, so collectors can align with it. */
  readonly onMeasureStart?: () => void;
}

/** A load generator. One file per driver, each behind this interface. */
export interface Driver {
  readonly name: DriverName;
  /** Why this driver cannot run `scenario`, or undefined when it can. */
  unsupported(scenario: Scenario): string | undefined;
  /** Checks what the driver needs before any target starts (e.g. that the k6 binary exists); throws a usage error. */
  preflight?(): void;
  run(request: DriverRequest): Promise<DriverResult>;
}
