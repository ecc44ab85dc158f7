/** What one step of the tuning method tried, saw and decided: the evidence the report shows. */
export interface StepReport {
  /** 1..7, the step of the method; 0 for the calibration before it, 8 for the capacity search after it. */
  readonly step: number;
  /** Stable id, also recorded on each trial the step ran, e.g. `4-grow-pool`. */
  readonly id: string;
  readonly title: string;
  /** The pool this step worked on, when it works on one. */
  readonly pool?: string;
  /** What was tried, in a sentence. */
  readonly tried: string;
  /** What was seen: one finding per line. */
  readonly saw: readonly string[];
  /** What it decided. */
  readonly decided: string;
  /** The trials that are its evidence. */
  readonly trials: readonly string[];
}

/** Step ids, so steps and trials agree on them. */
export const stepIds = {
  calibrate: '0-calibrate',
  identify: '1-identify-critical-pool',
  baseline: '2-baseline',
  impact: '3-watch-impact',
  grow: '4-grow-pool',
  idle: '5-idle-timeout',
  peak: '6-peak-load',
  repeat: '7-repeat-per-pool',
  capacity: '8-capacity',
} as const;
