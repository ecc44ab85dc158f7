/** Exit codes: the one table, documented in the README and used everywhere. */
export const ExitCode = {
  ok: 0,
  internal: 1,
  usage: 2,
  sloFailed: 3,
  regression: 4,
  targetFailed: 5,
  /** Stopped by SIGINT/SIGTERM; what was measured is kept (128 + SIGINT, as shells report it). */
  interrupted: 130,
} as const;

/** One of the values of {@link ExitCode}. */
export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

/**
 * An error caused by the user or their target, not by pooltune: it carries the exit code, a one-line
 * message that names the field or file, and a hint. The CLI prints it without a stack trace.
 */
export class PooltuneError extends Error {
  override readonly name = 'PooltuneError';
  readonly exitCode: ExitCodeValue;
  readonly hint: string | undefined;
  /** Extra lines shown after the message, e.g. every config problem or a service's log tail. */
  readonly details: readonly string[];

  constructor(
    message: string,
    options: { exitCode: ExitCodeValue; hint?: string; details?: readonly string[]; cause?: unknown },
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.exitCode = options.exitCode;
    this.hint = options.hint;
    this.details = options.details ?? [];
  }
}

/** A usage or config mistake (exit 2). */
export function usageError(message: string, hint?: string, details?: readonly string[]): PooltuneError {
  return new PooltuneError(message, {
    exitCode: ExitCode.usage,
    ...(hint === undefined ? {} : { hint }),
    ...(details === undefined ? {} : { details }),
  });
}

/** A target that could not be started or never became ready (exit 5). */
export function targetError(message: string, hint?: string, details?: readonly string[]): PooltuneError {
  return new PooltuneError(message, {
    exitCode: ExitCode.targetFailed,
    ...(hint === undefined ? {} : { hint }),
    ...(details === undefined ? {} : { details }),
  });
}

/** True when `error` is a {@link PooltuneError}. */
export function isPooltuneError(error: unknown): error is PooltuneError {
  return error instanceof PooltuneError;
}

/** The message of any thrown value. */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
