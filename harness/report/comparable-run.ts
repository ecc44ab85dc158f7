import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import type { ComparableRun } from '../analysis/compare.ts';
import { formatIssue } from '../config/issues.ts';
import { usageError } from '../errors.ts';
import type { Manifest } from '../results/manifest.ts';
import { readRun } from '../results/read-run.ts';
import { runPaths } from '../results/run-dir.ts';
import { comparablePoints } from './comparable-points.ts';
import { type RunSummary, runSummarySchema } from './summary-schema.ts';

/** A run loaded for comparison, with where it came from. */
export interface LoadedRun extends ComparableRun {
  /** `run-dir`: points built from `trials.jsonl`; `summary`: read from a `summary.json`. */
  readonly source: 'run-dir' | 'summary';
  /** The run directory or summary file, resolved. */
  readonly path: string;
  /** Where its comparison report goes unless told otherwise: `comparison.html` beside it. */
  readonly comparisonPath: string;
}

const HINT = 'pass a run directory written by `pooltune tune` (reports/out/<run-id>) or its summary.json';

/**
 * Loads a run for `pooltune compare` / `tune --baseline` from a run directory (points built from its
 * completed trials) or a `summary.json` (validated against its schema). Anything else is a usage error
 * that names the path.
 */
export async function loadComparableRun(file: string): Promise<LoadedRun> {
  const resolved = path.resolve(file);
  const info = await stat(resolved).catch((error: unknown) => {
    const code = (error as NodeJS.ErrnoException).code;
    throw usageError(
      `${resolved}: ${code === 'ENOENT' ? 'no such file or directory' : `cannot read (${code})`}`,
      HINT,
    );
  });
  return info.isDirectory() ? loadRunDir(resolved) : loadSummary(resolved);
}

async function loadRunDir(dir: string): Promise<LoadedRun> {
  const run = await readRun(dir);
  const poolSizeKnob = manifestPoolSizeKnob(run.manifest);
  return {
    runId: run.manifest.runId,
    label: run.manifest.runId,
    ...(poolSizeKnob === undefined ? {} : { poolSizeKnob }),
    points: comparablePoints(run.trials),
    source: 'run-dir',
    path: dir,
    comparisonPath: runPaths(dir).comparison,
  };
}

async function loadSummary(file: string): Promise<LoadedRun> {
  const text = await readFile(file, 'utf8').catch(() => {
    throw usageError(`${file}: cannot read`, HINT);
  });
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw usageError(`${file} is not valid JSON`, HINT);
  }
  const parsed = runSummarySchema.safeParse(json);
  if (!parsed.success) {
    const issues = parsed.error.issues;
    throw usageError(
      `${file} is not a valid pooltune summary.json (${issues.length} problem${issues.length === 1 ? '' : 's'})`,
      HINT,
      [
        ...issues.slice(0, 5).map(formatIssue),
        ...(issues.length > 5 ? [`... and ${issues.length - 5} more`] : []),
      ],
    );
  }
  const summary = parsed.data;
  const poolSizeKnob = summaryPoolSizeKnob(summary);
  return {
    runId: summary.runId,
    label: summary.runId,
    ...(poolSizeKnob === undefined ? {} : { poolSizeKnob }),
    points: summary.points,
    source: 'summary',
    path: file,
    comparisonPath: path.join(path.dirname(file), 'comparison.html'),
  };
}

/** The swept knob, else the first pool's size knob. */
function manifestPoolSizeKnob(manifest: Manifest): string | undefined {
  return (
    manifest.sweep?.knob ?? manifest.target.pools?.find((pool) => pool.knobs.size !== undefined)?.knobs.size
  );
}

/** The knob a recommendation sets in the `size` role. */
function summaryPoolSizeKnob(summary: RunSummary): string | undefined {
  for (const recommendation of summary.recommendations) {
    const size = recommendation.settings.find((setting) => setting.role === 'size');
    if (size !== undefined) return size.knob;
  }
  return undefined;
}
