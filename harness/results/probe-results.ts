// `probes.json` in a run directory: the probes' results, written whole once they ran and read back by
// the report (`pooltune report` rebuilds the checklist from it).
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { checkStatus } from '../analysis/check-status.ts';
import { usageError } from '../errors.ts';
import { writeAtomically } from './run-dir.ts';

/** One probe's outcome: what `probes.json` holds, one entry per probe. */
export const probeResultSchema = z
  .object({
    id: z.string().min(1),
    title: z.string(),
    status: checkStatus,
    /** One or two sentences with the numbers. */
    evidence: z.string(),
    /** The measured figures by name (ms, counts), for machines. */
    figures: z.record(z.string(), z.number()),
    /** The id of the checklist item it feeds (see harness/report/checklist.ts). */
    checklistItem: z.string().min(1),
  })
  .strict();

/** One probe's outcome (see {@link probeResultSchema}). */
export type ProbeResult = z.infer<typeof probeResultSchema>;

/** The file's name in a run directory. */
export const PROBES_FILE = 'probes.json';

const probesFileSchema = z
  .object({ schemaVersion: z.literal(1), probes: z.array(probeResultSchema) })
  .strict();

/** The path of a run directory's `probes.json`. */
export function probesPath(runDir: string): string {
  return path.join(runDir, PROBES_FILE);
}

/** Writes the probes' results to the run directory, whole or not at all. */
export async function writeProbeResults(runDir: string, probes: readonly ProbeResult[]): Promise<string> {
  const file = probesPath(runDir);
  await writeAtomically(file, `${JSON.stringify({ schemaVersion: 1, probes }, null, 2)}\n`);
  return file;
}

/**
 * The probes' results of a run directory; undefined when the run has none (probes did not run). A file
 * that is not valid JSON or not of the expected shape is a usage error naming the file and the field.
 */
export async function readProbeResults(runDir: string): Promise<ProbeResult[] | undefined> {
  const file = probesPath(runDir);
  const text = await readFile(file, 'utf8').catch(() => undefined);
  if (text === undefined) return undefined;
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw usageError(`${file} is not valid JSON`, 'delete it to render the report without the probes');
  }
  const parsed = probesFileSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue === undefined || issue.path.length === 0 ? '' : ` at ${issue.path.join('.')}`;
    throw usageError(
      `${file}${where}: ${issue?.message ?? 'not a probes file'}`,
      'delete it to render the report without the probes',
    );
  }
  return parsed.data.probes;
}
