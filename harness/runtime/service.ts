import type { ExitInfo } from './child.ts';

/** A running service of a target, whatever started it. Disposing it stops it and removes its temp data. */
export interface StartedService extends AsyncDisposable {
  readonly name: string;
  readonly kind: 'process' | 'postgres' | 'external';
  /** The port it listens on (127.0.0.1). */
  readonly port: number;
  /** How clients reach it: `http://127.0.0.1:PORT` or a `postgres://` URL. */
  readonly url: string;
  /** Its process group leader, when pooltune started it. */
  readonly pid: number | undefined;
  /** The rendered definition it was started from: a different one means it must restart. */
  readonly fingerprint: string;
  /** Facts for the report, e.g. the PostgreSQL version and max_connections. */
  readonly facts: Readonly<Record<string, string | number>>;
  logTail(): string[];
  exitInfo(): ExitInfo | undefined;
  stop(): Promise<void>;
}
