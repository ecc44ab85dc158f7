import type { TrialKey, TrialResult } from '../results/trial.ts';

/** Where progress goes: a TTY progress bar, plain log lines, or nothing (tests, --json). */
export interface Progress {
  /** A run with `total` trials starts. */
  begin(total: number, runDir: string): void;
  /** The adaptive search now expects `total` trials in all. */
  expect?(total: number): void;
  trialStart(index: number, key: TrialKey): void;
  trialEnd(index: number, result: TrialResult): void;
  /** A line of news (starting the target, writing the report, ...). */
  log(line: string): void;
  end(): void;
}

/** A progress sink that drops everything. */
export const silentProgress: Progress = {
  begin() {},
  trialStart() {},
  trialEnd() {},
  log() {},
  end() {},
};
