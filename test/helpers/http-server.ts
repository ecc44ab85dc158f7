import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A real HTTP server on 127.0.0.1 and a free port; `await using` closes it. */
export interface TestHttpServer extends AsyncDisposable {
  /** Base URL without a trailing slash, e.g. `http://127.0.0.1:41234`. */
  readonly url: string;
  readonly port: number;
  /** The underlying server, for tests that count connections or tune timeouts. */
  readonly server: Server;
  /** Stops listening and drops keep-alive connections so load generators cannot hold the test open. */
  close(): Promise<void>;
}

/** Starts a node:http server with `handler` on 127.0.0.1, port 0 (the OS picks a free one). */
export async function startHttpServer(handler: RequestListener): Promise<TestHttpServer> {
  const server = createServer(handler);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= new Promise<void>((resolve) => {
      server.close(() => resolve());
      // close() alone waits for idle keep-alive sockets to time out; a test should not.
      server.closeAllConnections();
    });
    return closing;
  };
  return { url: `http://127.0.0.1:${port}`, port, server, close, [Symbol.asyncDispose]: close };
}

/**
 * Counts requests by `METHOD /path` into `counts`. `/fail` answers 503, `/reset` resets the socket,
 * `/hang` never answers, `/slow` answers after 300 ms; every other path answers 200 at once.
 */
export function countingHandler(counts: Map<string, number>): RequestListener {
  return (request, response) => {
    const key = `${request.method} ${request.url}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
    request.resume();
    if (request.url === '/fail') response.statusCode = 503;
    if (request.url === '/reset') {
      request.socket.resetAndDestroy();
      return;
    }
    if (request.url === '/hang') return;
    if (request.url === '/slow') {
      setTimeout(() => response.end('slow'), 300);
      return;
    }
    response.end('ok');
  };
}

/** All requests counted by a {@link countingHandler}. */
export function totalCount(counts: ReadonlyMap<string, number>): number {
  return [...counts.values()].reduce((sum, count) => sum + count, 0);
}
