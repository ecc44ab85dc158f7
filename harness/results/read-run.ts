// Reading a run directory back: the manifest, the trial log, the analysis and the probes' results, each
// checked as read, so a foreign or torn file is named instead of breaking whatever reads the run.
import { readFile } from 'node:fs/promises';
import { usageError } from '../errors.ts';
import type { MethodOutcome } from '../tuning/outcome.ts';
import type { Manifest } from './manifest.ts';
import { maskSecrets } from './mask.ts';
import { type ProbeResult, readProbeResults } from './probe-results.ts';
import { readManifest, runPaths } from './run-dir.ts';
import type { TrialResult } from './trial.ts';
import { readTrialLog } from './trial-log.ts';

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
