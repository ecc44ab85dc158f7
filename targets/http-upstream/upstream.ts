// The upstream of the http-upstream target: a small HTTP (or HTTPS) service with a few ms of simulated
// work. It closes idle keep-alive connections itself, on its own exact timer, because Node's
// `server.keepAliveTimeout` silently adds 1 s (Node 20.20) and that would blur the mismatch this target
// exists to show. How it closes them is a switch:
//   fin    - it closes the socket (FIN), as a plain server does. A modern undici sees the FIN before it
//            reuses the socket, so only a request sent in the same instant fails.
//   silent - it forgets the connection without telling the client, as a load balancer or NAT whose idle
//            flow entry expired does; the next request on it is answered with a TCP RST (ECONNRESET).
import { readFile, rm } from 'node:fs/promises';
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { Socket } from 'node:net';
import client from 'prom-client';
import { boolEnv, intEnv } from './env.ts';

const env = process.env;

import { makeSelfSignedCert, tlsDir } from './tls.ts';

const port = intEnv('PORT', 3001);
const tls = boolEnv('TLS', false);
/** 0 = never close an idle connection. */
const keepAliveMs = intEnv('UPSTREAM_KEEP_ALIVE_MS', 5_000);
const sendKeepAliveHeader = boolEnv('UPSTREAM_KEEP_ALIVE_HEADER', true);
const idleClose =
  env.UPSTREAM_IDLE_CLOSE === undefined || env.UPSTREAM_IDLE_CLOSE === '' ? 'fin' : env.UPSTREAM_IDLE_CLOSE;
if (idleClose !== 'fin' && idleClose !== 'silent') {
  throw new Error(`UPSTREAM_IDLE_CLOSE must be fin or silent, got "${idleClose}"`);
}
const workMs = intEnv('WORK_MS', 2);
/** Upper bound on `?ms=`, so a typo cannot park a request for hours. */
const maxWorkMs = 60_000;

const registry = new client.Registry();
const opened = new client.Counter({
  name: 'upstream_connections_opened_total',
  help: 'TCP connections the upstream accepted',
  registers: [registry],
});
const requests = new client.Counter({
  name: 'upstream_requests_total',
  help: 'Requests the upstream answered or reset',
  registers: [registry],
});
const idleClosed = new client.Counter({
  name: 'upstream_idle_closes_total',
  help: 'Idle keep-alive connections the upstream gave up on, by how (fin or silent)',
  labelNames: ['how'],
  registers: [registry],
});
const resetsSent = new client.Counter({
  name: 'upstream_resets_sent_total',
  help: 'Requests that arrived on a silently expired connection and were answered with a TCP RST',
  registers: [registry],
});
idleClosed.inc({ how: idleClose }, 0);

/** Per-connection keep-alive state, keyed by the socket requests arrive on (the TLS socket with TLS). */
interface ConnectionState {
  inFlight: number;
  timer: NodeJS.Timeout | undefined;
  expired: boolean;
}
const states = new WeakMap<Socket, ConnectionState>();
/** Raw TCP sockets by remote address: with TLS only the raw socket can send a RST. */
const rawSockets = new Map<string, Socket>();
const remoteKey = (socket: Socket) => `${socket.remoteAddress}:${socket.remotePort}`;

function stateOf(socket: Socket): ConnectionState {
  let state = states.get(socket);
  if (state === undefined) {
    const created: ConnectionState = { inFlight: 0, timer: undefined, expired: false };
    socket.once('close', () => clearTimeout(created.timer));
    states.set(socket, created);
    state = created;
  }
  return state;
}

function armIdleTimer(socket: Socket, state: ConnectionState): void {
  if (keepAliveMs === 0 || socket.destroyed) return;
  clearTimeout(state.timer);
  state.timer = setTimeout(() => {
    state.timer = undefined;
    if (state.inFlight > 0 || socket.destroyed) return;
    idleClosed.inc({ how: idleClose });
    if (idleClose === 'fin') socket.destroy();
    else state.expired = true;
  }, keepAliveMs);
  state.timer.unref();
}

/** Sends a RST on the connection under `socket` (the raw TCP socket when `socket` is TLS). */
function resetConnection(socket: Socket): void {
  const raw = rawSockets.get(remoteKey(socket)) ?? socket;
  resetsSent.inc();
  raw.resetAndDestroy();
  if (raw !== socket) socket.destroy();
}

function answer(req: IncomingMessage, res: ServerResponse, status: number, type: string, body: string): void {
  const headers: Record<string, string | number> = {
    'content-type': type,
    'content-length': Buffer.byteLength(body),
  };
  // An explicit `connection: keep-alive` stops Node adding its own Keep-Alive header; ours (or none)
  // then states the timeout this server really applies.
  if ((req.headers.connection ?? '').toLowerCase() !== 'close') {
    headers.connection = 'keep-alive';
    if (sendKeepAliveHeader && keepAliveMs > 0)
      headers['keep-alive'] = `timeout=${Math.floor(keepAliveMs / 1000)}`;
  }
  res.writeHead(status, headers).end(body);
}

async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://127.0.0.1');
  if (url.pathname === '/metrics') {
    answer(req, res, 200, registry.contentType, await registry.metrics());
    return;
  }
  if (url.pathname === '/healthz') {
    answer(req, res, 200, 'text/plain', 'ok');
    return;
  }
  if (url.pathname !== '/work') {
    answer(req, res, 404, 'text/plain', 'not found');
    return;
  }
  const asked = Number(url.searchParams.get('ms') ?? workMs);
  const ms = Number.isFinite(asked) ? Math.min(maxWorkMs, Math.max(0, asked)) : workMs;
  await new Promise((resolve) => setTimeout(resolve, ms));
  answer(req, res, 200, 'application/json', '{"ok":true}');
}

const onRequest = (req: IncomingMessage, res: ServerResponse): void => {
  const socket = req.socket;
  const state = stateOf(socket);
  clearTimeout(state.timer);
  state.timer = undefined;
  requests.inc();
  if (state.expired) {
    resetConnection(socket);
    return;
  }
  state.inFlight += 1;
  res.once('close', () => {
    state.inFlight -= 1;
    if (state.inFlight === 0) armIdleTimer(socket, state);
  });
  // Drain any request body so the connection stays usable.
  req.resume();
  handle(req, res).catch((error: unknown) => {
    if (!res.headersSent) answer(req, res, 500, 'text/plain', String(error));
  });
};

const dir = env.TLS_DIR === undefined || env.TLS_DIR === '' ? tlsDir(port) : env.TLS_DIR;
const server = tls
  ? createHttpsServer(
      await makeSelfSignedCert(dir).then(async ({ certFile, keyFile }) => ({
        cert: await readFile(certFile),
        key: await readFile(keyFile),
      })),
      onRequest,
    )
  : createHttpServer(onRequest);
// 0 turns Node's own idle timer (and its Keep-Alive header) off: armIdleTimer is the only one.
server.keepAliveTimeout = 0;
server.on('connection', (socket: Socket) => {
  opened.inc();
  const key = remoteKey(socket);
  rawSockets.set(key, socket);
  socket.once('close', () => rawSockets.delete(key));
});
server.listen(port, '127.0.0.1', () => {
  process.stdout.write(
    `upstream listening on ${tls ? 'https' : 'http'}://127.0.0.1:${port} (keep-alive ${keepAliveMs} ms, ` +
      `header ${sendKeepAliveHeader ? 'on' : 'off'}, idle close ${idleClose}${tls ? `, cert in ${dir}` : ''})\n`,
  );
});

async function shutdown(): Promise<void> {
  server.close();
  server.closeAllConnections();
  if (tls) await rm(dir, { recursive: true, force: true });
  process.exit(0);
}
process.on('SIGTERM', () => void shutdown());
process.on('SIGINT', () => void shutdown());
