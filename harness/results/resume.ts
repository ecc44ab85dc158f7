import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import type { Plan } from '../config/plan.ts';
import { usageError } from '../errors.ts';
import { readManifest, writeAtomically } from './run-dir.ts';
import type { TrialResult } from './trial.ts';
import { parseTrialLog } from './trial-log.ts';

/** The file in a run directory that says how its config was given, so `--resume` rebuilds the same plan. */
export const ORIGIN_FILE = 'origin.json';

/**
 * How a run's config was given: the config file (by path: its contents may hold secrets), the env and
 * flag layers laid over it, the working directory, and a hash of the plan they produced.
 */
const originSchema = z
  .object({
    schemaVersion: z.literal(1),
    command: z.enum(['tune', 'run', 'capacity']),
    cwd: z.string(),
    configFile: z.string().optional(),
    layers: z.object({ env: z.record(z.string(), z.unknown()), flags: z.record(z.string(), z.unknown()) }),
    planHash: z.string(),
  })
  .strict();

/** How a run's config was given (see {@link originSchema}). */
export type RunOrigin = z.output<typeof originSchema>;

/** A fingerprint of what a plan measures: the validated config and the resolved target. */
export function planHash(plan: Plan): string {
  const { outDir: _outDir, maxDuration: _maxDuration, ...measured } = plan.config;
  return createHash('sha256')
    .update(JSON.stringify({ config: measured, target: plan.target }))
    .digest('hex')
    .slice(0, 16);
}

/** Writes `origin.json` into a run directory. */
export async function writeOrigin(dir: string, origin: RunOrigin): Promise<void> {
  await writeAtomically(path.join(dir, ORIGIN_FILE), `${JSON.stringify(origin, null, 2)}\n`);
}

/** Reads a run directory's `origin.json`; a run without one cannot be resumed (usage error). */
export async function readOrigin(dir: string): Promise<RunOrigin> {
  const file = path.join(dir, ORIGIN_FILE);
  const text = await readFile(file, 'utf8').catch(() => undefined);
  if (text === undefined) {
    throw usageError(
      `cannot resume ${dir}: ${ORIGIN_FILE} not found`,
      'only a run directory written by `pooltune tune` (0.5 or later) can be resumed',
    );
  }
  const parsed = originSchema.safeParse(JSON.parse(text));
  if (!parsed.success) {
    throw usageError(`cannot resume ${dir}: ${file} is damaged`, 'start the run again without --resume');
  }
  return parsed.data;
}

/** What resuming a run starts from. */
export interface ResumeState {
  readonly dir: string;
  readonly runId: string;
  readonly createdAt: string;
  readonly origin: RunOrigin;
  /** The trials to replay: everything recorded except aborted ones, in order. */
  readonly previous: readonly TrialResult[];
  /** E.g. a torn last line that was dropped. */
  readonly warnings: readonly string[];
}

/**
 * Prepares an interrupted run directory for resuming: reads its manifest, origin and trials, drops the
 * trials the interruption cut short (aborted, or a torn last line) and rewrites `trials.jsonl` without
 * them, so the resumed run appends after the last finished trial.
 */
export async function prepareResume(dir: string): Promise<ResumeState> {
  const manifest = await readManifest(dir);
  const origin = await readOrigin(dir);
  if (manifest.command !== 'tune') {
    throw usageError(
      `cannot resume ${dir}: it is a \`pooltune ${manifest.command}\` run`,
      'only tune runs resume',
    );
  }
  const file = path.join(dir, 'trials.jsonl');
  const text = await readFile(file, 'utf8').catch(() => '');
  const { trials, warnings } = parseTrialLog(text, file);
  const previous = trials.filter((trial) => trial.status !== 'aborted');
  const firstAborted = trials.findIndex((trial) => trial.status === 'aborted');
  if (firstAborted !== -1 && firstAborted < previous.length) {
    throw usageError(
      `cannot resume ${dir}: an aborted trial (${trials[firstAborted]?.id}) is followed by finished ones`,
      'the trial log was edited or comes from two runs; start the run again',
    );
  }
  await writeAtomically(file, previous.map((trial) => `${JSON.stringify(trial)}\n`).join(''));
  return { dir, runId: manifest.runId, createdAt: manifest.createdAt, origin, previous, warnings };
}
