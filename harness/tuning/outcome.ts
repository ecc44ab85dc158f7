// The method's outcome as data: what `analysis.json` holds and the report reads. Types only, so the
// report depends on what the method decided without depending on how it ran.
import type { FleetBudget, FleetBudgetInput } from '../analysis/fleet-budget.ts';
import type { Snippet } from '../analysis/snippets.ts';
import type { PoolDefinition } from '../config/schema.ts';
import type { StepReport } from './step.ts';

/** One SLO or headroom check at peak. */
export interface PeakCheck {
  readonly name: string;
  readonly pass: boolean;
  readonly detail: string;
  /** The scenario checked, e.g. `peak@1500`. */
  readonly scenario: string;
  readonly metric: 'p99' | 'errorRate' | 'poolUse' | 'measured';
  /** The limit and the measured value, in `unit` (`ms`, or `ratio` for rates and shares). */
  readonly threshold?: number;
  readonly observed?: number;
  readonly unit: string;
  /** The trials the check was made on (filled in by {@link peakLoad}). */
  readonly trials?: readonly string[];
}

/** The role a knob plays for a pool. */
export type KnobRole = keyof PoolDefinition['knobs'];

/** One knob's recommended value, with the rule that chose it and the trials behind it. */
export interface KnobRecommendation {
  readonly role: KnobRole;
  readonly knob: string;
  readonly value: number;
  readonly unit: string;
  /** 95% bootstrap interval over repetitions, where the rule allows one. */
  readonly interval?: { readonly low: number; readonly high: number };
  readonly rule: string;
  readonly evidence: readonly string[];
}

/** What to ship for one pool. */
export interface PoolRecommendation {
  readonly pool: string;
  readonly library: string;
  readonly knobs: readonly KnobRecommendation[];
  /** Median figures at the peak rate with the recommended settings, with 95% bootstrap intervals over repetitions. */
  readonly expectedAtPeak?: {
    readonly p99Ms: number;
    readonly throughput: number;
    readonly errorRate: number;
    readonly p99Interval?: { readonly low: number; readonly high: number };
    readonly throughputInterval?: { readonly low: number; readonly high: number };
  };
  readonly peakChecksPassed?: boolean;
  /** Step 6's SLO and headroom checks, structured (the same ones are in `checks` as text). */
  readonly peakChecks?: readonly PeakCheck[];
  /** The fleet's connection budget against the database's max_connections, when the target has one. */
  readonly fleetBudget?: FleetBudget & FleetBudgetInput;
  /** Keep-alive mismatches found in this pool's trials, e.g. `keepalive-mismatch: ...`. */
  readonly keepAlive?: readonly string[];
  /** Checks with their verdicts: the fleet budget against max_connections, the SLO and headroom at peak. */
  readonly checks: readonly string[];
  readonly snippets: readonly Snippet[];
}

/** The method's outcome: every step's evidence and a recommendation per pool. */
export interface MethodOutcome {
  readonly steps: readonly StepReport[];
  readonly recommendations: readonly PoolRecommendation[];
}
