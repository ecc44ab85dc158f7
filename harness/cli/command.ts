import type { ExitCodeValue } from '../errors.ts';

/** What a command decided: its exit code. */
export interface CommandResult {
  readonly code: ExitCodeValue;
}
