// TCP socket states on the target's ports, read from /proc/net/tcp and /proc/net/tcp6.
//
// Only the SERVER side of each connection is counted: a socket whose LOCAL port is one of the target's
// ports. The client side of the same connection (the load generator's, or the entry service's socket to
// its database) has the target port as its REMOTE port and is ignored, so a connection between two
// processes on this host is counted once, not twice. The price: TIME_WAIT left on the client side (when
// the client closed first) is not seen here.
import { readFile } from 'node:fs/promises';

/** Kernel TCP state codes (include/net/tcp_states.h) as written in /proc/net/tcp. */
export const TcpState = {
  established: 0x01,
  synSent: 0x02,
  synRecv: 0x03,
  finWait1: 0x04,
  finWait2: 0x05,
  timeWait: 0x06,
  close: 0x07,
  closeWait: 0x08,
  lastAck: 0x09,
  listen: 0x0a,
  closing: 0x0b,
  newSynRecv: 0x0c,
} as const;

/** Server-side socket counts on the target's ports, and the connections seen on the entry port. */
export interface SocketStates {
  readonly established: number;
  readonly timeWait: number;
  readonly closeWait: number;
  readonly listen: number;
  /**
   * Keys (`local>remote`, as the kernel writes them in hex) of the connections on the entry port, in any
   * state but LISTEN and CLOSE. A key absent from the previous sample is a new connection; keeping
   * TIME_WAIT and the closing states in the set means a connection that opened and closed between two
   * samples is still caught while it lingers server-side. One closed by the client first and gone within
   * a sample interval is missed, so rates from it are a lower bound.
   */
  readonly entryConnections: ReadonlySet<string>;
}

/** The port in a `/proc/net/tcp` address (`0100007F:1F90` or 32 hex digits for IPv6, then `:port`). */
function portOf(address: string): number {
  return Number.parseInt(address.slice(address.lastIndexOf(':') + 1), 16);
}

/**
 * Parses the text of `/proc/net/tcp` and/or `/proc/net/tcp6` (concatenated is fine: header lines are
 * skipped) and counts server-side sockets whose local port is in `ports`. Pure.
 */
export function parseProcNetTcp(text: string, ports: Iterable<number>, entryPort: number): SocketStates {
  const portSet = new Set(ports);
  let established = 0;
  let timeWait = 0;
  let closeWait = 0;
  let listen = 0;
  const entryConnections = new Set<string>();
  for (const line of text.split('\n')) {
    // "  12: 0100007F:1F90 0100007F:C350 01 00000000:00000000 ..."; the header has no "<n>:" first.
    const fields = line.trim().split(/\s+/);
    const [slot, local, remote, stateHex] = fields;
    if (slot === undefined || !/^\d+:$/.test(slot) || local === undefined || remote === undefined) continue;
    if (stateHex === undefined || !/^[0-9A-Fa-f]{2}$/.test(stateHex)) continue;
    const localPort = portOf(local);
    if (!portSet.has(localPort) && localPort !== entryPort) continue;
    const state = Number.parseInt(stateHex, 16);
    if (portSet.has(localPort)) {
      if (state === TcpState.established) established += 1;
      else if (state === TcpState.timeWait) timeWait += 1;
      else if (state === TcpState.closeWait) closeWait += 1;
      else if (state === TcpState.listen) listen += 1;
    }
    if (localPort === entryPort && state !== TcpState.listen && state !== TcpState.close) {
      entryConnections.add(`${local}>${remote}`);
    }
  }
  return { established, timeWait, closeWait, listen, entryConnections };
}

/** New connections per second between two samples' `entryConnections`, `elapsedMs` apart. */
export function newConnectionsPerSec(
  previous: ReadonlySet<string>,
  current: ReadonlySet<string>,
  elapsedMs: number,
): number | undefined {
  if (!(elapsedMs > 0)) return undefined;
  let fresh = 0;
  for (const key of current) if (!previous.has(key)) fresh += 1;
  return fresh / (elapsedMs / 1000);
}

/**
 * Reads the socket states from `/proc/<pid>/net/tcp{,6}` when `pid` is given (the target's network
 * namespace, which differs from ours for a container), else from our own `/proc/net`. Rejects when the
 * IPv4 table cannot be read (e.g. the pid vanished); a missing IPv6 table (IPv6 disabled) counts as empty.
 */
export async function readSocketStates(
  ports: Iterable<number>,
  entryPort: number,
  pid?: number,
): Promise<SocketStates> {
  const base = pid === undefined ? '/proc/net' : `/proc/${pid}/net`;
  const [tcp, tcp6] = await Promise.all([
    readFile(`${base}/tcp`, 'utf8'),
    readFile(`${base}/tcp6`, 'utf8').catch(() => ''),
  ]);
  return parseProcNetTcp(`${tcp}\n${tcp6}`, ports, entryPort);
}
