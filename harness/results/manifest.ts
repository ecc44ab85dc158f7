import type { KnobValues } from './trial.ts';

/** What a run was asked to do, and with what: written once, before the first trial. */
export interface Manifest {
  readonly schemaVersion: 1;
  readonly runId: string;
  readonly createdAt: string;
  readonly command: 'tune' | 'run';
  readonly target: {
    readonly name: string;
    readonly description: string;
    readonly services: readonly string[];
    readonly entry: string;
  };
  readonly scenario: string;
  readonly driver: string;
  readonly runtime: 'process';
  /** The knob being swept and the values planned for it (tune), or none (run). */
  readonly sweep?: { readonly knob: string; readonly values: readonly number[] };
  /** Knob values held fixed across the run. */
  readonly fixedKnobs: KnobValues;
  readonly repetitions: number;
  readonly quick: boolean;
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
  };
}
