/** Error kinds that mean the peer closed a connection under a request (pooltune's kind and raw codes). */
export const resetKinds: readonly string[] = ['connection_reset', 'ECONNRESET', 'UND_ERR_SOCKET', 'EPIPE'];

/**
 * Below the server's idle timeout by at least this much, a client's keep-alive timeout is safe: undici
 * checks timeouts above 1 s on a coarse timer that can fire ~0.5 s late, and the server's FIN needs time
 * to arrive.
 */
export const keepAliveMarginMs = 1_000;

/** What a diagnosis of connection resets found, for the report. */
export interface KeepAliveFinding {
  /** `keep-alive-mismatch`: the client outlives the server's idle timeout. `connection-resets`: it does not, or that is unknown. */
  readonly id: 'keep-alive-mismatch' | 'connection-resets';
  /** Reset errors counted, over all reset kinds. */
  readonly resets: number;
  /** One or two sentences: the errors, why they happen and the fix. */
  readonly message: string;
  /** A client keep-alive timeout below the server's, when the server's is known. */
  readonly suggestedKeepAliveMs?: number;
}

/** What {@link diagnoseKeepAlive} looks at. Timeouts in ms; undefined when not known, 0 when never. */
export interface KeepAliveInput {
  /** Pool errors by kind over the window (e.g. `ServerFigures.pool.errors`). */
  readonly errorsByKind: Readonly<Record<string, number>>;
  /** How long the client pool keeps an idle connection (undici `keepAliveTimeout`). */
  readonly clientKeepAliveMs: number | undefined;
  /** How long the server (or a load balancer in front of it) keeps an idle connection. */
  readonly upstreamKeepAliveMs: number | undefined;
}

/** A client timeout safely below the server's: the margin under it, or half of it when it is short. */
export function safeKeepAliveMs(upstreamKeepAliveMs: number): number {
  return upstreamKeepAliveMs > 2 * keepAliveMarginMs
    ? upstreamKeepAliveMs - keepAliveMarginMs
    : Math.max(1, Math.floor(upstreamKeepAliveMs / 2));
}

const fixHeaders = 'or have the server send `Keep-Alive: timeout=N` (undici honours it, minus 2 s)';

/**
 * Explains connection resets on a pool (pure). Undefined when there were none. When the client keeps
 * idle connections at least as long as the server (less {@link keepAliveMarginMs}), the resets are the
 * keep-alive race: a request goes out on a connection the server has just closed.
 */
export function diagnoseKeepAlive(input: KeepAliveInput): KeepAliveFinding | undefined {
  const counted = resetKinds
    .map((kind) => [kind, input.errorsByKind[kind] ?? 0] as const)
    .filter(([, count]) => count > 0);
  const resets = counted.reduce((sum, [, count]) => sum + count, 0);
  if (resets === 0) return undefined;
  const named = `${resets} connection reset${resets === 1 ? '' : 's'} (${counted.map(([kind, count]) => `${kind} ${count}`).join(', ')})`;
  const client = input.clientKeepAliveMs;
  const upstream = input.upstreamKeepAliveMs;

  if (upstream === undefined || upstream === 0) {
    const clientText = client === undefined ? '' : ` (${client} ms)`;
    return {
      id: 'connection-resets',
      resets,
      message:
        `${named}: if the server or a load balancer in front of it closes idle connections sooner than the pool's keepAliveTimeout${clientText}, requests go out on connections already closed. ` +
        `Find that idle timeout and set keepAliveTimeout at least ${keepAliveMarginMs} ms below it, ${fixHeaders}.`,
    };
  }
  const suggested = safeKeepAliveMs(upstream);
  if (client === undefined || client > upstream - keepAliveMarginMs) {
    const clientText = client === undefined ? 'an unknown time' : `${client} ms`;
    return {
      id: 'keep-alive-mismatch',
      resets,
      message:
        `${named}: the pool keeps idle connections for ${clientText} but the server closes them after ${upstream} ms, so a request reusing one the server just closed fails. ` +
        `Set keepAliveTimeout below the server's, e.g. ${suggested} ms, ${fixHeaders}.`,
      suggestedKeepAliveMs: suggested,
    };
  }
  return {
    id: 'connection-resets',
    resets,
    message:
      `${named} although the pool's keepAliveTimeout (${client} ms) is below the server's idle timeout (${upstream} ms), so it is not the keep-alive race: ` +
      'look for restarts, crashes or a load balancer with a shorter idle cutoff between them.',
  };
}
