import { randomUUID } from 'node:crypto';
import { mkdir, readdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { usageError } from '../errors.ts';
import type { Manifest } from './manifest.ts';
import { maskSecrets, type SecretMasker } from './mask.ts';

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

/** Creates a new run directory (and its `logs/`) with user-only permissions. */
export async function createRunDir(outDir: string, runId: string): Promise<RunPaths> {
  const paths = runPaths(path.join(outDir, runId));
  try {
    await makeDirs(outDir);
    await mkdir(paths.dir, { mode: 0o700 });
    await mkdir(paths.logs, { mode: 0o700 });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'unknown';
    throw usageError(
      `cannot write to output directory ${outDir} (${code}: ${outDirProblems[code] ?? 'not writable'})`,
      'choose another --out directory (or outDir in the config): a folder you can write to',
    );
  }
  return paths;
}

const outDirProblems: Readonly<Record<string, string>> = {
  EACCES: 'permission denied',
  EPERM: 'not permitted',
  EROFS: 'read-only file system',
  ENOTDIR: 'a part of the path is a file',
  EEXIST: 'it is a file',
  ENOENT: 'folders cannot be made there',
};

/**
 * `mkdir -p`, one level at a time. Node's own recursive mkdir never returns where the file system
 * refuses new folders with ENOENT (e.g. under /proc), so it is not used here.
 */
async function makeDirs(dir: string): Promise<void> {
  try {
    await mkdir(dir);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EEXIST' && (await stat(dir)).isDirectory()) return;
    const parent = path.dirname(dir);
    if (code !== 'ENOENT' || parent === dir) throw error;
    await makeDirs(parent);
    await mkdir(dir);
  }
}

/** Writes the manifest of a run directory, secrets masked. */
export async function writeManifest(paths: RunPaths, manifest: Manifest): Promise<void> {
  await writeFile(paths.manifest, `${JSON.stringify(maskSecrets(manifest), null, 2)}\n`, { mode: 0o600 });
}

/** Writes the analysis (the method's steps and recommendations) of a run directory, secrets masked. */
export async function writeAnalysis(paths: RunPaths, analysis: unknown): Promise<void> {
  await writeFile(
    paths.analysis,
    `${JSON.stringify(maskSecrets({ schemaVersion: 1, ...(analysis as object) }), null, 2)}\n`,
    { mode: 0o600 },
  );
}

/**
 * Masks the service logs of a finished run in place (see {@link SecretMasker}): the services wrote
 * them raw while they ran. Each file is rewritten whole or not at all.
 */
export async function maskServiceLogs(paths: RunPaths, masker: SecretMasker): Promise<void> {
  const names = await readdir(paths.logs).catch(() => []);
  for (const name of names) {
    const file = path.join(paths.logs, name);
    const text = await readFile(file, 'utf8').catch(() => undefined);
    const masked = text === undefined ? undefined : masker.mask(text);
    if (masked !== text && masked !== undefined) await writeAtomically(file, masked);
  }
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

/** Writes a file whole or not at all (user-only): to a temporary name beside it, then renamed over it. */
export async function writeAtomically(file: string, text: string): Promise<void> {
  const temporary = `${file}.${randomUUID().slice(0, 8)}.tmp`;
  await writeFile(temporary, text, { encoding: 'utf8', mode: 0o600 });
  await rename(temporary, file);
}
