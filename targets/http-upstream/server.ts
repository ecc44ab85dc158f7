// The API of the http-upstream target: every call makes one request to the upstream through ONE undici
// Pool built from env knobs. Like http-pg it stands in for a user's service, and it exposes what the
// harness cannot see from outside: the pool's connections, its churn, its errors by kind and how long
// connecting (TCP, plus the TLS handshake) takes.
//
// Pool metric mapping (names from harness/collect/metric-names.ts):
//   pool_total_connections  = pool.stats.connected  (connected sockets)
//   pool_idle_connections   = pool.stats.free       (connected and able to take a request; with
//                                                    pipelining > 1 a socket with a free slot counts)
//   pool_waiting_clients    = pool.stats.pending    (requests not yet written to a socket: undici's
//                                                    `pending` already includes the pool's `queued`)
//   pool_acquire_wait_seconds  time from creating a request to writing its headers: queueing plus any
//                              connect and TLS handshake
import diagnostics from 'node:diagnostics_channel';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import client from 'prom-client';
import { buildConnector, Pool } from 'undici';
import { boolEnv, intEnv } from './env.ts';

const env = process.env;

const port = intEnv('PORT', 3000);
const upstreamPort = intEnv('UPSTREAM_PORT', 3001);
const tls = boolEnv('UPSTREAM_TLS', false);
const connections = Math.max(1, intEnv('POOL_CONNECTIONS', 10));
// undici rejects 0; the knob's minimum is 1.
const keepAliveTimeout = Math.max(1, intEnv('POOL_KEEP_ALIVE_TIMEOUT_MS', 4_000));
const connectTimeout = intEnv('POOL_CONNECT_TIMEOUT_MS', 10_000);
const pipelining = intEnv('POOL_PIPELINING', 1);
const keepAlive = boolEnv('POOL_KEEP_ALIVE', true);
const requestTimeout = intEnv('POOL_REQUEST_TIMEOUT_MS', 300_000);
const slowMs = intEnv('SLOW_MS', 200);

const registry = new client.Registry();
const errorKinds = [
  'connection_reset',
  'connect_timeout',
  'connect_error',
  'timeout',
  'tls_error',
  'other',
] as const;
type ErrorKind = (typeof errorKinds)[number] | 'upstream_status';
const errors = new client.Counter({
  name: 'pool_errors_total',
  help: 'Failed upstream requests by kind',
  labelNames: ['kind'],
  registers: [registry],
});
// Every kind shows as 0 from the start, so a scrape before the first error still has the series.
for (const kind of errorKinds) errors.inc({ kind }, 0);
const resetsOnReused = new client.Counter({
  name: 'pool_reused_connection_resets_total',
  help: 'connection_reset errors on a connection that had served a request before (the keep-alive race)',
  registers: [registry],
});
const opened = new client.Counter({
  name: 'pool_connections_opened_total',
  help: 'Connections the pool opened (undici connect events)',
  registers: [registry],
});
const closed = new client.Counter({
  name: 'pool_connections_closed_total',
  help: 'Connections the pool lost or closed (undici disconnect events)',
  registers: [registry],
});
const acquireWait = new client.Histogram({
  name: 'pool_acquire_wait_seconds',
  help: 'Time from creating an upstream request to writing it on a connection (queue + connect)',
  buckets: [0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  registers: [registry],
});
const handshake = new client.Histogram({
  name: 'upstream_handshake_seconds',
  help: 'Time to open a connection to the upstream: TCP connect, plus the TLS handshake with TLS',
  buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  registers: [registry],
});

// Times every connect, TCP and TLS alike, around undici's own connector (which also enforces the timeout).
const baseConnector = buildConnector({
  timeout: connectTimeout,
  ...(tls ? { ca: readFileSync(env.UPSTREAM_CA_FILE ?? '') } : {}),
});
const timedConnector: buildConnector.connector = (options, callback) => {
  const started = performance.now();
  baseConnector(options, (...args: Parameters<buildConnector.Callback>) => {
    if (args[0] === null) handshake.observe((performance.now() - started) / 1000);
    callback(...args);
  });
};

const origin = `${tls ? 'https' : 'http'}://127.0.0.1:${upstreamPort}`;
const pool = new Pool(origin, {
  connections,
  keepAliveTimeout,
  pipelining,
  headersTimeout: requestTimeout,
  bodyTimeout: requestTimeout,
  connect: timedConnector,
});
pool.on('connect', () => opened.inc());
pool.on('disconnect', () => closed.inc());

const gauge = (name: string, help: string, read: () => number) =>
  new client.Gauge({
    name,
    help,
    registers: [registry],
    collect() {
      this.set(read());
    },
  });
gauge(
  'pool_total_connections',
  'Connections the pool holds (pool.stats.connected)',
  () => pool.stats.connected,
);
gauge('pool_idle_connections', 'Connections able to take a request (pool.stats.free)', () => pool.stats.free);
gauge(
  'pool_waiting_clients',
  'Requests not yet written to a connection (pool.stats.pending, which includes queued)',
  () => pool.stats.pending,
);
gauge(
  'pool_running_requests',
  'Requests written and awaiting their response (pool.stats.running)',
  () => pool.stats.running,
);
gauge('pool_max_connections', 'The pool size setting', () => connections);

// undici publishes each request's life on diagnostics channels; this process has one dispatcher, so
// every request seen there is the pool's. They give the acquire wait and whether a socket was reused.
const createdAt = new WeakMap<object, number>();
const writtenOn = new WeakMap<object, { readonly reused: boolean }>();
const requestsPerSocket = new WeakMap<object, number>();
/** Errors undici reported for a request written on a reused socket. */
const failedOnReused = new WeakSet<object>();
const requestOf = (message: unknown): object | undefined => {
  const request = (message as { request?: unknown }).request;
  return typeof request === 'object' && request !== null ? request : undefined;
};
diagnostics.subscribe('undici:request:create', (message) => {
  const request = requestOf(message);
  if (request !== undefined) createdAt.set(request, performance.now());
});
diagnostics.subscribe('undici:client:sendHeaders', (message) => {
  const request = requestOf(message);
  const socket = (message as { socket?: unknown }).socket;
  if (request === undefined || typeof socket !== 'object' || socket === null) return;
  const served = requestsPerSocket.get(socket) ?? 0;
  requestsPerSocket.set(socket, served + 1);
  writtenOn.set(request, { reused: served > 0 });
  const created = createdAt.get(request);
  if (created !== undefined) acquireWait.observe((performance.now() - created) / 1000);
});
diagnostics.subscribe('undici:request:error', (message) => {
  const request = requestOf(message);
  const error = (message as { error?: unknown }).error;
  if (request === undefined || typeof error !== 'object' || error === null) return;
  if (writtenOn.get(request)?.reused === true) failedOnReused.add(error);
});

/** The kind a failed upstream request counts as. */
function classify(error: unknown): ErrorKind {
  const code = (error as { code?: unknown }).code;
  const message = error instanceof Error ? error.message : String(error);
  switch (code) {
    case 'UND_ERR_CONNECT_TIMEOUT':
      return 'connect_timeout';
    case 'UND_ERR_HEADERS_TIMEOUT':
    case 'UND_ERR_BODY_TIMEOUT':
      return 'timeout';
    // UND_ERR_SOCKET is undici's "other side closed" / "closed": the upstream ended the connection
    // under a request, as ECONNRESET and EPIPE say at the socket level.
    case 'ECONNRESET':
    case 'EPIPE':
    case 'UND_ERR_SOCKET':
      return 'connection_reset';
    case 'ECONNREFUSED':
    case 'EHOSTUNREACH':
    case 'EADDRNOTAVAIL':
      return 'connect_error';
  }
  if (
    (typeof code === 'string' && (code.startsWith('ERR_TLS') || code.startsWith('ERR_SSL'))) ||
    /certificate|self[- ]signed/i.test(message)
  ) {
    return 'tls_error';
  }
  return 'other';
}

/** Sends one request to the upstream; resolves to the upstream's status, or rejects with undici's error. */
async function callUpstream(path: string): Promise<number> {
  // `reset: true` sends `connection: close`, so with keep-alive off every call opens a new connection.
  // GET is idempotent so `pipelining` works. undici does not retry the request a reset hits (only
  // requests pipelined behind it are sent again), so a reset surfaces here as an error.
  const response = await pool.request({ path, method: 'GET', ...(keepAlive ? {} : { reset: true }) });
  // Read the body to the end: only then does undici hand the connection back to the pool.
  await response.body.text();
  return response.statusCode;
}

async function call(path: string, res: ServerResponse): Promise<void> {
  let kind: ErrorKind | undefined;
  try {
    const status = await callUpstream(path);
    if (status < 200 || status >= 300) kind = 'upstream_status';
  } catch (error) {
    kind = classify(error);
    errors.inc({ kind });
    if (
      kind === 'connection_reset' &&
      typeof error === 'object' &&
      error !== null &&
      failedOnReused.has(error)
    ) {
      resetsOnReused.inc();
    }
  }
  if (kind === undefined) {
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
    return;
  }
  res.writeHead(502, { 'content-type': 'application/json' }).end(JSON.stringify({ error: kind }));
}

/**
 * API paths and the upstream request each makes. Besides /call and /call-slow it answers the paths of the
 * bundled scenarios' default mix (written for http-pg), so every bundled scenario runs against it
 * unchanged; /sleep waits 10 ms upstream as http-pg's pg_sleep does.
 */
const routes: Readonly<Record<string, string>> = {
  '/call': '/work',
  '/call-slow': `/work?ms=${slowMs}`,
  '/read': '/work',
  '/write': '/work',
  '/aggregate': '/work?ms=5',
  '/sleep': '/work?ms=10',
};

async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = req.url ?? '/';
  if (url === '/metrics') {
    res.writeHead(200, { 'content-type': registry.contentType });
    res.end(await registry.metrics());
    return;
  }
  // Drain any request body before answering so keep-alive connections stay usable.
  req.resume();
  if (url === '/healthz') {
    // Ready only when the upstream answers through the pool: a TLS or port mistake fails readiness.
    const status = await callUpstream('/healthz').catch(() => 0);
    res
      .writeHead(status === 200 ? 200 : 503, { 'content-type': 'text/plain' })
      .end(status === 200 ? 'ok' : 'upstream down');
    return;
  }
  const upstreamPath = routes[url];
  if (upstreamPath !== undefined) return call(upstreamPath, res);
  res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
}

const server = createServer((req, res) => {
  handle(req, res).catch((error: unknown) => {
    if (!res.headersSent) res.writeHead(500).end(String(error));
  });
});
server.listen(port, '127.0.0.1', () => {
  process.stdout.write(
    `http-upstream api listening on 127.0.0.1:${port} -> ${origin} (connections ${connections}, ` +
      `keepAliveTimeout ${keepAliveTimeout} ms, pipelining ${pipelining}, keep-alive ${keepAlive ? 'on' : 'off'})\n`,
  );
});

async function shutdown(): Promise<void> {
  server.close();
  server.closeAllConnections();
  await pool.destroy().catch(() => undefined);
  process.exit(0);
}
process.on('SIGTERM', () => void shutdown());
process.on('SIGINT', () => void shutdown());
