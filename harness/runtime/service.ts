// The runtime's shared types: what a runtime gives each service, how it launches one, and what it returns.
import type { TargetDefinition } from '../config/schema.ts';
import type { HostSystem } from '../host/host.ts';
import type { KnobValues } from '../results/trial.ts';
import type { ChildSpec, ExitInfo, StartedChild } from './child.ts';

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

/** What the runtimes need from the host: signals and cleanup for children, the machine and user for PostgreSQL. */
export type RuntimeSystem = Pick<HostSystem, 'kill' | 'cleanup' | 'platform' | 'arch' | 'user'>;

/** Context the runtime gives every service it starts. */
export interface ServiceContext {
  /** Where per-run temp data (PostgreSQL data dirs) go: a fresh dir under the OS temp dir. */
  readonly tmpRoot: string;
  /** Where service logs are written, when the run has a directory. */
  readonly logDir?: string;
  /** Environment for child processes. */
  readonly env: Readonly<Record<string, string>>;
  /** Starts a service's process: a local child (the default) or a container (the container runtime). */
  readonly launch?: Launcher;
  readonly system: RuntimeSystem;
}

/** Resource limits a service asks for; only the container runtime can apply them. */
export interface ServiceLimits {
  readonly image?: string | undefined;
  readonly cpus?: number | undefined;
  readonly memoryMiB?: number | undefined;
}

/** How a runtime starts a service's process. */
export type Launcher = (spec: ChildSpec, limits: ServiceLimits) => Promise<StartedChild>;

/** A target whose services are running. Disposing it stops them all, in reverse order. */
export interface StartedTarget extends AsyncDisposable {
  readonly definition: TargetDefinition;
  /** The service that takes the load (it may be replaced by a restart, so read it after `apply`). */
  entry(): StartedService;
  service(name: string): StartedService;
  /** Restarts exactly the services whose rendered definition changes with these knob values (and their dependents). */
  apply(knobs: KnobValues): Promise<string[]>;
  /**
   * Stops one service and runs the very same process again on the same port (a database keeps its data
   * and password); the services that depend on it keep running. A dependency restarting under load.
   */
  restart(name: string): Promise<void>;
  /** Facts from every service (PostgreSQL version, max_connections, ...). */
  facts(): Record<string, string | number>;
  stop(): Promise<void>;
}
