// The repetitions of pool sizes that step 4 compares (types only).

/** One completed repetition of a size: the trial and its throughput. */
export interface SizeRun {
  readonly id: string;
  readonly throughput: number;
  /** Where it ran in step 4's order (0 = first); what drift correction needs. */
  readonly at?: number;
}

/** A pool size with its completed repetitions, in the order they ran. */
export interface SizeRuns {
  readonly n: number;
  readonly runs: readonly SizeRun[];
}
