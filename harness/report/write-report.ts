import { readFile } from 'node:fs/promises';
import { usageError } from '../errors.ts';
import type { ProbeResult } from '../probes/probe.ts';
import { readProbeResults } from '../probes/results-file.ts';
import type { Manifest } from '../results/manifest.ts';
import { maskSecrets } from '../results/mask.ts';
import { readManifest, runPaths, writeAtomically } from '../results/run-dir.ts';
import type { TrialResult } from '../results/trial.ts';
import { readTrialLog } from '../results/trial-log.ts';
import type { MethodOutcome } from '../tuning/method.ts';
import { renderCharts } from './charts.ts';
import { comparablePoints } from './comparable-points.ts';
import { trialsCsv } from './csv.ts';
import { renderReportHtml } from './html.ts';
import { renderJunit } from './junit.ts';
import { renderSummaryMarkdown } from './markdown.ts';
import { buildRunSummary } from './summary.ts';
import { type RegressionSummary, type RunSummary, runSummarySchema } from './summary-schema.ts';
import { buildReportView } from './view-model.ts';

/** A run directory's contents as the report needs them. */
export interface RunContents {
  readonly manifest: Manifest;
  readonly trials: readonly TrialResult[];
  /** Problems that did not stop reading, e.g. a torn last line. */
  readonly warnings: readonly string[];
  /** The method's steps and recommendations (`analysis.json`), when the run has them. */
  readonly analysis?: MethodOutcome;
  /** The resilience probes' results (`probes.json`), when they ran. */
  readonly probes?: readonly ProbeResult[];
}

/** Options for {@link writeRunOutputs}. */
export interface WriteReportOptions {
  /** Told about each problem that did not stop the report (they are also shown in the page). */
  readonly onWarning?: (message: string) => void;
  /**
   * The comparison with a baseline, when there is one. When absent, the regression recorded in an
   * existing `summary.json` is kept, so re-rendering a run does not drop its verdict.
   */
  readonly regression?: RegressionSummary;
}

/** The files a run's outputs were written to, and the summary they hold. */
export interface RunOutputs {
  readonly report: string;
  readonly summaryJson: string;
  readonly junit: string;
  readonly summaryMd: string;
  readonly trialsCsv: string;
  readonly summary: RunSummary;
}

/**
 * Reads a run directory and writes everything built from it: `report.html`, `summary.json`,
 * `junit.xml`, `summary.md` and `trials.csv`. Each file is written whole or not at all.
 */
export async function writeRunOutputs(runDir: string, options: WriteReportOptions = {}): Promise<RunOutputs> {
  const run = await readRun(runDir);
  for (const warning of run.warnings) options.onWarning?.(warning);
  const paths = runPaths(runDir);
  const regression = options.regression ?? (await previousRegression(paths.summaryJson));
  const summary = buildRunSummary(run, comparablePoints(run.trials), regression);
  const view = buildReportView(run.manifest, run.trials, {
    warnings: run.warnings,
    summary,
    ...(run.analysis === undefined ? {} : { analysis: run.analysis }),
  });
  const html = renderReportHtml(view, await renderCharts(view));
  await writeAtomically(paths.trialsCsv, trialsCsv(run.trials));
  await writeAtomically(paths.summaryJson, `${JSON.stringify(summary, null, 2)}\n`);
  await writeAtomically(paths.junit, renderJunit(summary));
  await writeAtomically(paths.summaryMd, renderSummaryMarkdown(summary, { reportPath: paths.report }));
  await writeAtomically(paths.report, html);
  return {
    report: paths.report,
    summaryJson: paths.summaryJson,
    junit: paths.junit,
    summaryMd: paths.summaryMd,
    trialsCsv: paths.trialsCsv,
    summary,
  };
}

/** Renders a run's outputs (see {@link writeRunOutputs}); resolves to the report's path. */
export async function writeReport(runDir: string, options: WriteReportOptions = {}): Promise<string> {
  return (await writeRunOutputs(runDir, options)).report;
}

/** The regression verdict an earlier render recorded in `summary.json`, if any. */
async function previousRegression(file: string): Promise<RegressionSummary | undefined> {
  const text = await readFile(file, 'utf8').catch(() => undefined);
  if (text === undefined) return undefined;
  try {
    const parsed = runSummarySchema.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data.regression : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Reads a run directory's manifest and trial log (blank lines skipped; a torn last line dropped with a
 * warning) and checks each trial's shape, so a foreign line is named instead of breaking the renderer.
 * Secrets are masked in everything it returns.
 */
export async function readRun(runDir: string): Promise<RunContents> {
  const paths = runPaths(runDir);
  const manifest = await readManifest(runDir);
  if (manifest.schemaVersion !== 1) {
    throw usageError(`${paths.manifest}: schemaVersion ${String(manifest.schemaVersion)} is not 1`);
  }
  const { trials, warnings } = await readTrialLog(paths.trials);
  trials.forEach((trial: unknown, index) => {
    checkTrialShape(trial, `${paths.trials}: trial ${index + 1}`);
  });
  const analysis = await readAnalysis(paths.analysis);
  const probes = await readProbeResults(runDir);
  // Masked again as read, so no rendered output carries a secret, even from a run written before masking.
  return maskSecrets({
    manifest,
    trials,
    warnings,
    ...(analysis === undefined ? {} : { analysis }),
    ...(probes === undefined ? {} : { probes }),
  });
}

/** The run's analysis.json, when the run has one (a `pooltune run` does not). */
async function readAnalysis(file: string): Promise<MethodOutcome | undefined> {
  const text = await readFile(file, 'utf8').catch(() => undefined);
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as MethodOutcome;
  } catch {
    throw usageError(
      `${file} is not valid JSON`,
      'delete it to render the report without the analysis, or re-run the tune',
    );
  }
}

const STATUSES: ReadonlySet<unknown> = new Set<TrialResult['status']>([
  'completed',
  'invalid',
  'errored',
  'aborted',
]);

function checkTrialShape(value: unknown, where: string): void {
  if (
    !isRecord(value) ||
    typeof value.id !== 'string' ||
    !STATUSES.has(value.status) ||
    !isRecord(value.knobs)
  ) {
    throw usageError(
      `${where} is not a trial result`,
      'expected an object with an id, a known status and knobs',
    );
  }
  const measured = value.status === 'completed' || value.status === 'invalid';
  if (measured && !(isRecord(value.client) && isRecord(value.server))) {
    throw usageError(
      `${where} (${value.id}) is ${String(value.status)} but has no client and server figures`,
    );
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
