import { describe, expect, it } from 'vitest';
import { diagnoseKeepAlive, safeKeepAliveMs } from '../../harness/analysis/keep-alive.ts';

describe('diagnoseKeepAlive', () => {
  it('finds nothing without resets, whatever the timeouts', () => {
    expect(
      diagnoseKeepAlive({
        errorsByKind: { timeout: 3, connection_reset: 0 },
        clientKeepAliveMs: 30_000,
        upstreamKeepAliveMs: 1_000,
      }),
    ).toBeUndefined();
  });

  it('names the resets and the mismatch when the client outlives the server', () => {
    const finding = diagnoseKeepAlive({
      errorsByKind: { connection_reset: 7, timeout: 1 },
      clientKeepAliveMs: 30_000,
      upstreamKeepAliveMs: 5_000,
    });
    expect(finding).toEqual({
      id: 'keep-alive-mismatch',
      resets: 7,
      suggestedKeepAliveMs: 4_000,
      message:
        '7 connection resets (connection_reset 7): the pool keeps idle connections for 30000 ms but the server closes them after 5000 ms, so a request reusing one the server just closed fails. ' +
        "Set keepAliveTimeout below the server's, e.g. 4000 ms, or have the server send `Keep-Alive: timeout=N` (undici honours it, minus 2 s).",
    });
  });

  it('counts raw reset codes too, and treats a client within the margin as a mismatch', () => {
    const finding = diagnoseKeepAlive({
      errorsByKind: { ECONNRESET: 2, UND_ERR_SOCKET: 1 },
      clientKeepAliveMs: 4_500,
      upstreamKeepAliveMs: 5_000,
    });
    expect(finding?.id).toBe('keep-alive-mismatch');
    expect(finding?.resets).toBe(3);
    expect(finding?.message.startsWith('3 connection resets (ECONNRESET 2, UND_ERR_SOCKET 1): ')).toBe(true);
  });

  it('suggests half of a short server timeout', () => {
    const finding = diagnoseKeepAlive({
      errorsByKind: { connection_reset: 1 },
      clientKeepAliveMs: 4_000,
      upstreamKeepAliveMs: 1_000,
    });
    expect(finding?.suggestedKeepAliveMs).toBe(500);
    expect(finding?.message.startsWith('1 connection reset (connection_reset 1): ')).toBe(true);
    expect(safeKeepAliveMs(2_000)).toBe(1_000);
    expect(safeKeepAliveMs(2_001)).toBe(1_001);
    expect(safeKeepAliveMs(1)).toBe(1);
  });

  it('does not blame keep-alive when the client closes idle connections first', () => {
    expect(
      diagnoseKeepAlive({
        errorsByKind: { connection_reset: 4 },
        clientKeepAliveMs: 4_000,
        upstreamKeepAliveMs: 5_000,
      }),
    ).toEqual({
      id: 'connection-resets',
      resets: 4,
      message:
        "4 connection resets (connection_reset 4) although the pool's keepAliveTimeout (4000 ms) is below the server's idle timeout (5000 ms), so it is not the keep-alive race: " +
        'look for restarts, crashes or a load balancer with a shorter idle cutoff between them.',
    });
  });

  it('asks for the server timeout when it is unknown', () => {
    const finding = diagnoseKeepAlive({
      errorsByKind: { connection_reset: 2 },
      clientKeepAliveMs: 4_000,
      upstreamKeepAliveMs: undefined,
    });
    expect(finding).toEqual({
      id: 'connection-resets',
      resets: 2,
      message:
        "2 connection resets (connection_reset 2): if the server or a load balancer in front of it closes idle connections sooner than the pool's keepAliveTimeout (4000 ms), requests go out on connections already closed. " +
        'Find that idle timeout and set keepAliveTimeout at least 1000 ms below it, or have the server send `Keep-Alive: timeout=N` (undici honours it, minus 2 s).',
    });
  });
});
