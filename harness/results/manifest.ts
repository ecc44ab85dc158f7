import type { KnobValues } from './trial.ts';

/** What a run was asked to do, and with what: written once, before the first trial. */
export interface Manifest {
  readonly schemaVersion: 1;
  readonly runId: string;
  readonly createdAt: string;
  /** When the run was last resumed after an interruption (`tune --resume`). */
  readonly resumedAt?: string;
  readonly command: 'tune' | 'run' | 'capacity';
  readonly target: {
    readonly name: string;
    readonly description: string;
    readonly services: readonly string[];
    readonly entry: string;
    /** Each service's kind and what it depends on: the outbound connections the checklist asks pools for. */
    readonly serviceKinds?: Readonly<
      Record<
        string,
        {
          readonly kind: string;
          readonly dependsOn: readonly string[];
          /** The CPU quota the target sets for the service (applied under the container runtime only). */
          readonly cpus?: number;
        }
      >
    >;
    /** The target's pools and which knob plays which role for each. */
    readonly pools?: readonly {
      readonly name: string;
      readonly service: string;
      readonly library: string;
      readonly knobs: Readonly<Record<string, string>>;
    }[];
  };
  readonly scenario: string;
  readonly driver: string;
  readonly runtime: 'process' | 'container';
  /** Why that runtime: asked for, or what `auto` found. */
  readonly runtimeReason?: string;
  /** The knob being swept and the values planned for it (tune), or none (run). */
  readonly sweep?: { readonly knob: string; readonly values: readonly number[] };
  /** Knob values held fixed across the run. */
  readonly fixedKnobs: KnobValues;
  readonly repetitions: number;
  readonly quick: boolean;
  /** The SLO the run checks at peak (`tuning.slo`). */
  readonly slo?: { readonly p99Ms: number; readonly errorRate: number };
  /** The validated config with secrets masked. */
  readonly config: unknown;
  readonly environment: {
    readonly pooltune: string;
    readonly node: string;
    readonly platform: string;
    readonly cpus: number;
    readonly cpuModel: string;
    readonly memoryBytes: number;
    readonly postgres?: string;
    /** The soft limit on open files (RLIMIT_NOFILE) the target's processes inherit. */
    readonly openFilesLimit?: number;
  };
}
