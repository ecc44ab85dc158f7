/** A stream the CLI writes to. */
export interface OutStream {
  write(text: string): void;
  readonly isTTY: boolean;
  readonly columns: number;
}

/**
 * Everything pooltune takes from the process: arguments, environment, streams, clock, signals. Only
 * `node-host.ts` builds one from the real process; tests build their own and run the CLI in-process.
 */
export interface Host {
  readonly argv: readonly string[];
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly cwd: string;
  readonly stdout: OutStream;
  readonly stderr: OutStream;
  readonly now: () => Date;
  readonly tmpDir: string;
  /** The node binary and its version. */
  readonly execPath: string;
  readonly nodeVersion: string;
  /** Calls `handler` on SIGINT/SIGTERM; returns a function that removes it. */
  onInterrupt(handler: (signal: 'SIGINT' | 'SIGTERM') => void): () => void;
}
