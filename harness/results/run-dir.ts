import { randomUUID } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { usageError } from '../errors.ts';
import type { Manifest } from './manifest.ts';

/** The files of a run directory. */
export interface RunPaths {
  readonly dir: string;
  readonly manifest: string;
  readonly trials: string;
  readonly report: string;
  readonly analysis: string;
  readonly summaryJson: string;
  readonly junit: string;
  readonly summaryMd: string;
  readonly trialsCsv: string;
  /** The comparison with a baseline (`tune --baseline`, `pooltune compare`). */
  readonly comparison: string;
  readonly logs: string;
}

/** The paths of the files in a run directory. */
export function runPaths(dir: string): RunPaths {
  return {
    dir,
    manifest: path.join(dir, 'manifest.json'),
    trials: path.join(dir, 'trials.jsonl'),
    report: path.join(dir, 'report.html'),
    analysis: path.join(dir, 'analysis.json'),
    summaryJson: path.join(dir, 'summary.json'),
    junit: path.join(dir, 'junit.xml'),
    summaryMd: path.join(dir, 'summary.md'),
    trialsCsv: path.join(dir, 'trials.csv'),
    comparison: path.join(dir, 'comparison.html'),
    logs: path.join(dir, 'logs'),
  };
}

/** A run id that sorts by time and says what ran: `20261124-142501-http-pg`. */
export function makeRunId(date: Date, target: string, suffix: string): string {
  const stamp = date.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  return `${stamp}-${target.replace(/[^a-zA-Z0-9_-]/g, '_')}${suffix === '' ? '' : `-${suffix}`}`;
}

/** Creates a new run directory with user-only permissions. */
export async function createRunDir(outDir: string, runId: string): Promise<RunPaths> {
  const paths = runPaths(path.join(outDir, runId));
  try {
    await mkdir(outDir, { recursive: true });
    await mkdir(paths.dir, { mode: 0o700 });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EACCES' || code === 'EROFS' || code === 'EPERM') {
      throw usageError(
        `cannot write to output directory ${outDir} (${code})`,
        'choose another --out directory',
      );
    }
    throw error;
  }
  return paths;
}

/** Writes the manifest of a run directory. */
export async function writeManifest(paths: RunPaths, manifest: Manifest): Promise<void> {
  await writeFile(paths.manifest, `${JSON.stringify(manifest, null, 2)}\n`, { mode: 0o600 });
}

/** Writes the analysis (the method's steps and recommendations) of a run directory. */
export async function writeAnalysis(paths: RunPaths, analysis: unknown): Promise<void> {
  await writeFile(
    paths.analysis,
    `${JSON.stringify({ schemaVersion: 1, ...(analysis as object) }, null, 2)}\n`,
    { mode: 0o600 },
  );
}

/** Reads a run directory's manifest; a missing or unreadable one is a usage error naming the file. */
export async function readManifest(dir: string): Promise<Manifest> {
  const file = runPaths(dir).manifest;
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    throw usageError(
      `not a run directory: ${file} not found`,
      'pass a directory under reports/out/ that `pooltune tune` wrote',
    );
  }
  try {
    return JSON.parse(text) as Manifest;
  } catch {
    throw usageError(`${file} is not valid JSON`, 'the run directory is damaged; re-run the tune');
  }
}

/** Writes a file whole or not at all: to a temporary name beside it, then renamed over it. */
export async function writeAtomically(file: string, text: string): Promise<void> {
  const temporary = `${file}.${randomUUID().slice(0, 8)}.tmp`;
  await writeFile(temporary, text, 'utf8');
  await rename(temporary, file);
}
