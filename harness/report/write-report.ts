import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { usageError } from '../errors.ts';
import { readRun } from '../results/read-run.ts';
import { runPaths, writeAtomically } from '../results/run-dir.ts';
import { renderChartSpecs, renderCharts } from './charts.ts';
import { comparablePoints } from './comparable-points.ts';
import { comparisonChartSpecs } from './compare-charts.ts';
import type { ComparisonView } from './compare-view.ts';
import { trialsCsv } from './csv.ts';
import { renderComparisonHtml, renderReportHtml } from './html.ts';
import { renderJunit } from './junit.ts';
import { renderSummaryMarkdown } from './markdown.ts';
import { buildRunSummary } from './summary.ts';
import { type RegressionSummary, type RunSummary, runSummarySchema } from './summary-schema.ts';
import { buildReportView } from './view-model.ts';

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

/**
 * Renders the comparison page from its view model (charts, then HTML, as the run report) and writes it
 * whole or not at all; resolves to its path. A file that cannot be written is a usage error.
 */
export async function writeComparisonReport(view: ComparisonView, file: string): Promise<string> {
  const html = renderComparisonHtml(view, await renderChartSpecs(comparisonChartSpecs(view)));
  const target = path.resolve(file);
  try {
    await writeAtomically(target, html);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw usageError(`cannot write the comparison report ${target} (${code})`, 'choose another --out file');
  }
  return target;
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
