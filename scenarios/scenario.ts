/** One kind of request in a scenario's mix, chosen with probability weight / sum(weights). */
export interface RequestSpec {
  readonly name: string;
  readonly method: 'GET' | 'POST';
  readonly path: string;
  readonly weight: number;
}

/** How an open-model scenario spaces its arrivals. Rates are requests per second. */
export type Arrival =
  | { readonly kind: 'constant'; readonly rate: number }
  | { readonly kind: 'poisson'; readonly rate: number }
  | { readonly kind: 'ramp'; readonly from: number; readonly to: number }
  | {
      readonly kind: 'burst';
      readonly baseRate: number;
      readonly burstRate: number;
      readonly burstMs: number;
      readonly periodMs: number;
    }
  | { readonly kind: 'idle-gaps'; readonly rate: number; readonly activeMs: number; readonly idleMs: number };

/** One stage of a closed-model scenario: N connections sending back to back for a while. */
export interface ClosedStage {
  readonly connections: number;
  readonly durationMs: number;
}

interface ScenarioBase {
  readonly name: string;
  readonly description: string;
  /** Load before measuring starts; excluded from every statistic. */
  readonly warmupMs: number;
  readonly mix: readonly RequestSpec[];
  /** A request slower than this counts as a timeout error. */
  readonly requestTimeoutMs: number;
}

/** Closed model: each connection waits for its response before sending the next request. */
export interface ClosedScenario extends ScenarioBase {
  readonly model: 'closed';
  /** Measured stages, run in order; the last (highest) stage gives the trial's headline figures. */
  readonly stages: readonly ClosedStage[];
}

/** Open model: requests arrive on a schedule whether or not earlier ones have finished. */
export interface OpenScenario extends ScenarioBase {
  readonly model: 'open';
  readonly arrival: Arrival;
  readonly durationMs: number;
  /** Starts beyond this many requests in flight are dropped (and counted), never queued. */
  readonly maxInFlight: number;
}

/** What a scenario builder takes besides its shape: warm-up, measured duration, mix (default: the bundled one). */
export interface LoadOptions {
  readonly warmupMs: number;
  readonly durationMs: number;
  readonly mix?: readonly RequestSpec[];
}

/** A load shape, declared once and runnable by any driver that supports its model. */
export type Scenario = ClosedScenario | OpenScenario;

/** The measured duration of a scenario (warm-up excluded). */
export function measuredMs(scenario: Scenario): number {
  return scenario.model === 'open'
    ? scenario.durationMs
    : scenario.stages.reduce((sum, stage) => sum + stage.durationMs, 0);
}

/** The same scenario with warm-up and measured durations multiplied by `factor` (used by `--quick`). */
export function scaleScenario(scenario: Scenario, factor: number): Scenario {
  const scale = (ms: number) => Math.max(250, Math.round(ms * factor));
  if (scenario.model === 'open') {
    return { ...scenario, warmupMs: scale(scenario.warmupMs), durationMs: scale(scenario.durationMs) };
  }
  return {
    ...scenario,
    warmupMs: scale(scenario.warmupMs),
    stages: scenario.stages.map((stage) => ({ ...stage, durationMs: scale(stage.durationMs) })),
  };
}
