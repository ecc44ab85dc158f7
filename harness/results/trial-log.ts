import { type FileHandle, open, readFile } from 'node:fs/promises';
import { usageError } from '../errors.ts';
import { maskSecrets } from './mask.ts';
import type { TrialResult } from './trial.ts';

/** An append-only `trials.jsonl`: each trial is written and flushed to disk as it finishes. */
export class TrialLog implements AsyncDisposable {
  readonly path: string;
  readonly #file: FileHandle;

  private constructor(path: string, file: FileHandle) {
    this.path = path;
    this.#file = file;
  }

  /** Opens (creating if needed) a trial log for appending. */
  static async open(path: string): Promise<TrialLog> {
    return new TrialLog(path, await open(path, 'a', 0o600));
  }

  /**
   * Appends one trial as a line (secrets in its knobs, error and log tail masked) and waits until it is
   * on disk, so a crash loses at most the trial in flight.
   */
  async append(trial: TrialResult): Promise<void> {
    await this.#file.appendFile(`${JSON.stringify(maskSecrets(trial))}\n`);
    await this.#file.datasync();
  }

  /** Closes the file. */
  async close(): Promise<void> {
    await this.#file.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

/** What was read back from a trial log. */
export interface ReadTrials {
  readonly trials: TrialResult[];
  /** E.g. a torn last line from a write cut mid-way, which is dropped. */
  readonly warnings: string[];
}

/** Parses `trials.jsonl` text. A torn (unparsable) last line is dropped with a warning; elsewhere it is an error. */
export function parseTrialLog(text: string, name = 'trials.jsonl'): ReadTrials {
  const lines = text.split('\n');
  const trials: TrialResult[] = [];
  const warnings: string[] = [];
  const lastContentLine = lines.findLastIndex((line) => line.trim() !== '');
  lines.forEach((line, index) => {
    if (line.trim() === '') return;
    try {
      trials.push(JSON.parse(line) as TrialResult);
    } catch {
      if (index === lastContentLine) {
        warnings.push(`${name}: line ${index + 1} is incomplete (a write was cut short) and was dropped`);
      } else {
        throw usageError(
          `${name}: line ${index + 1} is not valid JSON`,
          'the trial log is damaged in the middle; only a torn last line is repaired',
        );
      }
    }
  });
  return { trials, warnings };
}

/** Reads a trial log from disk (see {@link parseTrialLog}). A missing file reads as no trials. */
export async function readTrialLog(path: string): Promise<ReadTrials> {
  const text = await readFile(path, 'utf8').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return '';
    throw error;
  });
  return parseTrialLog(text);
}
