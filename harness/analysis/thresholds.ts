// Thresholds and tolerances that the method, the probes and the report share. They live here, below
// all three, so that each reads the same number without importing another's module.

/** Pool use above this share of its maximum at peak leaves too little headroom (the guide's alert line). */
export const utilisationAlert = 0.8;

/** An idle timeout is acceptable when its churn is within this share of the never-close churn (plus 0.5/s). */
export const churnTolerance = 0.25;
/** Connections per second added to the churn tolerance, so a near-zero reference still leaves room. */
export const churnSlackPerSec = 0.5;
/** The idle timeout is never below this multiple of the typical per-connection gap between requests. */
export const gapMultiple = 4;

/** The highest churn an idle timeout may cost against the never-close reference (step 5's rule). */
export function acceptableChurn(referencePerSec: number): number {
  return referencePerSec * (1 + churnTolerance) + churnSlackPerSec;
}

/** Open files at peak above this share of the limit leave too little room for a spike. */
export const fdWarnShare = 0.5;
/** ... and above this share, a peak a little higher runs out. */
export const fdFailShare = 0.8;

/** CLOSE_WAIT in this many samples in a row is a socket left unclosed, not one caught mid-close. */
export const persistentCloseWaitSamples = 3;
