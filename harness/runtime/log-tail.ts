import { createWriteStream, type WriteStream } from 'node:fs';
import { maskText } from '../results/mask.ts';

/** Keeps the last lines a service printed (for error messages) and, optionally, all of them in a file. */
export class LogTail {
  readonly #lines: string[] = [];
  readonly #limit: number;
  readonly #file: WriteStream | undefined;
  readonly #listeners = new Set<(line: string) => void>();
  #partial = '';

  constructor(limit = 40, file?: string) {
    this.#limit = limit;
    this.#file = file === undefined ? undefined : createWriteStream(file, { flags: 'a', mode: 0o600 });
  }

  /** Feeds a chunk of output; complete lines go to the tail, the file and the listeners. */
  write(chunk: Buffer | string): void {
    const text = this.#partial + chunk.toString();
    const parts = text.split('\n');
    this.#partial = parts.pop() ?? '';
    for (const line of parts) {
      this.#push(line);
      // Masked as it is written (passwords in URLs, NAME=value secrets), so even the log of a run that
      // is SIGKILLed holds none; the run's own secret values are masked once its services stop.
      this.#file?.write(`${maskText(line)}\n`);
    }
  }

  #push(line: string): void {
    this.#lines.push(line);
    if (this.#lines.length > this.#limit) this.#lines.shift();
    for (const listener of this.#listeners) listener(line);
  }

  /** Calls `listener` for every line from now on; returns a function that stops it. */
  onLine(listener: (line: string) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** The last lines, oldest first, including an unterminated last line. */
  lines(): string[] {
    return this.#partial === '' ? [...this.#lines] : [...this.#lines, this.#partial];
  }

  /** Closes the log file, if any. */
  async close(): Promise<void> {
    const file = this.#file;
    if (file === undefined) return;
    if (this.#partial !== '') file.write(maskText(this.#partial));
    await new Promise<void>((resolve) => file.end(resolve));
  }
}
