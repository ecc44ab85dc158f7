import { type CompareOptions, compareRuns, type RunComparison } from '../analysis/compare.ts';
import { usageError } from '../errors.ts';
import { type LoadedRun, loadComparableRun } from './comparable-run.ts';
import { buildComparisonView } from './compare-view.ts';
import type { RegressionSummary } from './summary-schema.ts';
import { writeComparisonReport } from './write-report.ts';

// Composition only: loading is comparable-run.ts, the verdict analysis/compare.ts, the page's view model
// compare-view.ts, its charts compare-charts.ts, rendering html.ts and writing write-report.ts.

/** What {@link compareRunPaths} produced. */
export interface ComparisonOutcome {
  readonly comparison: RunComparison;
  readonly baseline: LoadedRun;
  readonly current: LoadedRun;
  /** The comparison report written. */
  readonly report: string;
  /** For the current run's `summary.json` (`writeRunOutputs(dir, { regression })`). */
  readonly regression: RegressionSummary;
}

/** Options for {@link compareRunPaths}: the comparison's, plus where to write the report. */
export interface CompareRunPathsOptions extends CompareOptions {
  /** The report file; default `comparison.html` in the current run directory (or beside its summary.json). */
  readonly out?: string;
}

/**
 * Loads two runs (run directories or `summary.json` files), compares them and writes the comparison
 * report. What `pooltune compare` and `tune --baseline` call; a path that is not a run is a usage error,
 * and so is a pair of runs without a single point in common. A baseline already loaded (say, checked
 * with {@link loadComparableRun} before a tune starts) can be passed instead of its path.
 */
export async function compareRunPaths(
  baselinePath: string | LoadedRun,
  currentPath: string | LoadedRun,
  options: CompareRunPathsOptions = {},
): Promise<ComparisonOutcome> {
  const load = (run: string | LoadedRun) => (typeof run === 'string' ? loadComparableRun(run) : run);
  const baseline = await load(baselinePath);
  const current = await load(currentPath);
  const { out, ...compareOptions } = options;
  const comparison = compareRuns(baseline, current, compareOptions);
  if (comparison.points.length === 0) {
    throw usageError(
      `nothing to compare: no point of ${current.path} (${current.points.length} points) was measured in ${baseline.path} (${baseline.points.length} points)`,
      'compare runs of the same target and scenarios; points match on scenario and every knob value',
    );
  }
  const view = buildComparisonView(comparison, baseline, current);
  const report = await writeComparisonReport(view, out ?? current.comparisonPath);
  return { comparison, baseline, current, report, regression: regressionSummary(comparison) };
}

/** The comparison as `summary.json` records it. */
export function regressionSummary(comparison: RunComparison): RegressionSummary {
  return {
    baseline: comparison.baseline.runId,
    regressed: comparison.regressed,
    compared: comparison.points.length,
    regressions: [...comparison.regressions],
  };
}
