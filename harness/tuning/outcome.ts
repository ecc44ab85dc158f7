// The method's outcome as data: what `analysis.json` holds and the report reads. Types only, so the
// report depends on what the method decided without depending on how it ran.
import type { DriftCorrection } from '../analysis/drift.ts';
import type { FleetBudget, FleetBudgetInput } from '../analysis/fleet-budget.ts';
import type { SizeEvidence } from '../analysis/plateau.ts';
import type { RecommendationUncertainty } from '../analysis/pool-size.ts';
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
  /** The trials the check was made on (filled in by step 6). */
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
  /**
   * The choice's own uncertainty, where the rule allows one: for the pool size, the 2.5%–97.5% range of
   * the sizes the rule picks when the repetitions are resampled.
   */
  readonly interval?: { readonly low: number; readonly high: number };
  /** Pool size only: the plateau's range, sizes that give the best's throughput within the margin. */
  readonly plateau?: { readonly low: number; readonly high: number };
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
  /** The calibration's measure of the machine's noise, when it ran. */
  readonly noise?: NoiseCalibration;
  /** Step 4's analysis per pool: what the report draws and states, never recomputed there. */
  readonly sizes?: readonly SizeAnalysis[];
  /** Step 8: the highest arrival rate each setting sustained under the SLO, when it ran. */
  readonly capacity?: CapacityOutcome;
}

/** One probe of the capacity search: an open-model trial at one arrival rate, judged against the SLO. */
export interface CapacityProbe {
  /** The arrival rate offered, req/s. */
  readonly rate: number;
  /** The longer trial at the answer that confirms it. */
  readonly validation: boolean;
  /** pass: the SLO held and the target kept up; fail: it did not; invalid: the generator was the limit. */
  readonly verdict: 'pass' | 'fail' | 'invalid';
  /** What failed, or what limited an invalid probe; null for a pass. */
  readonly limit: 'p99' | 'errors' | 'sustained' | 'generator' | 'no-data' | null;
  readonly why: string;
  /** Completed requests per second, and that over the rate the schedule offered. */
  readonly achieved: number | null;
  readonly sustained: number | null;
  readonly p99Ms: number | null;
  readonly errorRate: number | null;
  /** The trial judged (the re-run, when the first was invalid). */
  readonly trial: string;
  /** Every trial of the probe. */
  readonly trials: readonly string[];
}

/** Why the capacity search stopped. */
export type CapacityStop =
  | 'converged'
  | 'doom'
  | 'generator-limited'
  | 'max-rate'
  | 'budget'
  | 'validation-failed'
  | 'aborted';

/** The capacity of one setting. */
export interface CapacityResult {
  /** Which settings: the recommended ones, the starting ones, or those `pooltune capacity` was given. */
  readonly label: 'recommended' | 'starting' | 'given';
  readonly knobs: Readonly<Record<string, number | boolean | string>>;
  /**
   * The highest rate that held (validated when `validated`); null when even the first failed, or the
   * generator was the limit before anything held.
   */
  readonly capacity: number | null;
  readonly validated: boolean;
  /** The bracket: the highest rate that held and the lowest that failed (or was invalid) above it. */
  readonly bracket: { readonly low: number | null; readonly high: number | null };
  /** The bracket widened by the machine's run-to-run noise (95%); null without a converged bracket. */
  readonly interval: { readonly low: number; readonly high: number } | null;
  readonly stoppedBy: CapacityStop;
  readonly why: string;
  readonly probes: readonly CapacityProbe[];
}

/** Step 8's outcome: the rules it searched by, and each setting's capacity. */
export interface CapacityOutcome {
  readonly slo: { readonly p99Ms: number; readonly errorRate: number };
  /** Completed over offered at or above which the target kept up (0.97). */
  readonly minSustained: number;
  /** The bisection stops when the bracket is this narrow, relative to its top (0.02). */
  readonly resolution: number;
  /** The calibration's run-to-run CV the interval is widened by; null when unknown. */
  readonly noiseCv: number | null;
  readonly results: readonly CapacityResult[];
}

/** The machine's run-to-run noise, from back-to-back trials at one setting. */
export interface NoiseCalibration {
  readonly throughputs: readonly number[];
  /** Coefficient of variation of their throughput; null with fewer than two. */
  readonly cv: number | null;
  /** The smallest relative difference between two sizes of `repetitions` trials this noise lets a test find. */
  readonly resolvable: number | null;
  readonly repetitions: number;
}

/** The USL curve fitted to every kept repetition of step 4, with its bootstrap band on a grid of sizes. */
export interface UslBand {
  readonly quality: 'good' | 'poor';
  /** Why the fit is poor; null when it is good. */
  readonly reason: string | null;
  readonly rSquared: number;
  readonly lambda: number;
  readonly sigma: number;
  readonly kappa: number;
  /** N* where the curve peaks (Infinity without a coherency cost). */
  readonly peakN: number;
  /** The fitted throughput and the 2.5% / 97.5% quantiles of the refitted curves at each grid size. */
  readonly curve: readonly {
    readonly n: number;
    readonly fit: number;
    readonly low: number;
    readonly high: number;
  }[];
  /** Bootstrap refits behind the band. */
  readonly resamples: number;
}

/** One size of step 4 as recorded. */
export interface SizeRecord extends SizeEvidence {
  readonly phase: 'geometric' | 'refine';
}

/** Step 4's analysis for one pool, and how step 6's headroom checks shaped the choice. */
export interface SizeAnalysis {
  readonly pool: string;
  readonly knob: string;
  readonly sizes: readonly SizeRecord[];
  /** The size with the highest mean throughput. */
  readonly best: number | null;
  /** The sizes whose pooled runs the smaller sizes were tested against: the best and larger ones. */
  readonly reference: readonly number[];
  /** Sizes shown equivalent to the reference within ±margin (TOST), with the best: ascending. */
  readonly plateau: readonly number[];
  /** Sizes the test left undecided at the repetition cap. */
  readonly undecided: readonly number[];
  /** The equivalence margin used: `tuning.minGain`, widened to the machine's resolvable difference. */
  readonly margin: number;
  /** The configured margin (`tuning.minGain`). */
  readonly requestedMargin: number;
  /** The smallest difference two sizes of the base repetitions can show at the pooled noise. */
  readonly resolvable: number | null;
  /** The pooled relative noise the test used. */
  readonly noise: { readonly cv: number; readonly df: number } | null;
  /** The slow drift taken out of the runs before the test; null when none was estimated. */
  readonly drift: DriftCorrection | null;
  readonly fit: UslBand | null;
  /** The knee by Kneedle on the fitted curve (log x), and by the marginal-gain rule on the medians. */
  readonly kneedle: number | null;
  readonly marginalKnee: number | null;
  /** Sizes validated at peak in order, and whether each held (pool use and SLO). */
  readonly validations: readonly {
    readonly n: number;
    readonly passed: boolean;
    readonly needed: number | null;
  }[];
  /** The recommended size; null when none could be chosen. */
  readonly recommended: number | null;
  /** How the recommendation moves when the repetitions are resampled. */
  readonly uncertainty: RecommendationUncertainty | null;
  /** When no validated size held: the size the load would need, by its demand (null when unknown). */
  readonly needed: number | null;
  /** How the repetitions were ordered, and what the restarts cost. */
  readonly order: {
    readonly blocks: number;
    readonly trials: number;
    /** Trials that followed a change of this pool's size (its service restarted before them). */
    readonly restarts: number;
    readonly description: string;
  };
  readonly stoppedBy: string;
  readonly why: string;
}
