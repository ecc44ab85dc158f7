// The bundled http-pg target: an HTTP API over a node-postgres Pool. It stands in for a user's service,
// so it is written the way such a service is (env for settings, one pool, Prometheus metrics), and it
// exposes what the harness cannot see from outside: the time callers wait to get a pooled client.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import pg from 'pg';
import client from 'prom-client';

const env = process.env;
const intEnv = (name: string, fallback: number): number => {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0) throw new Error(`${name} must be a whole number, got "${raw}"`);
  return value;
};

const boolEnv = (name: string, fallback: boolean): boolean => {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (raw === '1' || raw === 'true') return true;
  if (raw === '0' || raw === 'false') return false;
  throw new Error(`${name} must be 1, 0, true or false, got "${raw}"`);
};

const port = intEnv('PORT', 3000);
const rows = intEnv('SEED_ROWS', 10_000);
const sleepMs = intEnv('SLEEP_MS', 10);
const statementTimeout = intEnv('PG_STATEMENT_TIMEOUT_MS', 30_000);

// Variants the resilience probes (harness/probes/) are tested on. The defaults are the plain service.
/** 1: a failed request never gives its client back (the error-path leak the leak probe must catch). */
const leakOnError = boolEnv('LEAK_ON_ERROR', false);
/**
 * 0: checked-out clients get no 'error' listener, so a connection that dies while a request holds it
 * (mid-transaction, say) crashes the process: node-postgres' classic failure on a database restart.
 */
const handleClientErrors = boolEnv('HANDLE_CLIENT_ERRORS', true);
/** 1: on SIGTERM stop accepting, let in-flight requests finish (up to DRAIN_TIMEOUT_MS), then close the pool. */
const gracefulShutdown = boolEnv('GRACEFUL_SHUTDOWN', false);
// Under pooltune's runtime grace (5 s before SIGKILL); an orchestrator's is often 30 s.
const drainTimeoutMs = intEnv('DRAIN_TIMEOUT_MS', 4_000);
/** 1: database calls go through a circuit breaker (see {@link CircuitBreaker}). */
const circuitBreaker = boolEnv('CIRCUIT_BREAKER', false);

const pool = new pg.Pool({
  connectionString: env.DATABASE_URL,
  max: intEnv('PG_POOL_MAX', 10),
  idleTimeoutMillis: intEnv('PG_IDLE_TIMEOUT_MS', 10_000),
  connectionTimeoutMillis: intEnv('PG_CONNECTION_TIMEOUT_MS', 5_000),
  maxLifetimeSeconds: intEnv('PG_MAX_LIFETIME_S', 0),
  ...(statementTimeout > 0 ? { statement_timeout: statementTimeout } : {}),
});

const registry = new client.Registry();
const errors = new client.Counter({
  name: 'pool_errors_total',
  help: 'Pool and query errors by kind',
  labelNames: ['kind'],
  registers: [registry],
});
const opened = new client.Counter({
  name: 'pool_connections_opened_total',
  help: 'Connections the pool opened',
  registers: [registry],
});
const closed = new client.Counter({
  name: 'pool_connections_closed_total',
  help: 'Connections the pool closed',
  registers: [registry],
});
const acquireWait = new client.Histogram({
  name: 'pool_acquire_wait_seconds',
  help: 'Time from asking the pool for a client to getting one',
  buckets: [0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  registers: [registry],
});
const queryDuration = new client.Histogram({
  name: 'pool_query_duration_seconds',
  help: 'Time a request held its pooled client',
  labelNames: ['endpoint'],
  buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  registers: [registry],
});
const gauge = (name: string, help: string, read: () => number) =>
  new client.Gauge({
    name,
    help,
    registers: [registry],
    collect() {
      this.set(read());
    },
  });
gauge('pool_total_connections', 'Connections held by the pool', () => pool.totalCount);
gauge('pool_idle_connections', 'Idle connections in the pool', () => pool.idleCount);
gauge('pool_waiting_clients', 'Callers waiting for a connection', () => pool.waitingCount);
gauge('pool_max_connections', 'The pool size setting', () => pool.options.max);

pool.on('connect', (connected) => {
  opened.inc();
  // A connection that dies while checked out emits 'error' on its client, which the pool does not
  // listen to then; unhandled, that error would crash the process. The query running on it fails
  // with the same error and is counted where it is answered.
  if (handleClientErrors) connected.on('error', () => undefined);
});
pool.on('remove', () => closed.inc());
// An idle client that errors (e.g. the server went away) is removed by the pool; count it, don't crash.
pool.on('error', () => errors.inc({ kind: 'connection_error' }));

/** An error this service raises itself, with the kind and status it answers with. */
class ServiceError extends Error {
  constructor(
    readonly kind: string,
    readonly status: number,
  ) {
    super(kind);
  }
}

/**
 * A consecutive-failure circuit breaker: after `threshold` failed calls in a row (a call slower than
 * `callTimeoutMs` counts as failed) it opens and rejects calls at once for `resetMs`; then one trial call
 * decides whether it closes again.
 */
class CircuitBreaker {
  #failures = 0;
  #openUntil = 0;
  #trialRunning = false;

  constructor(
    readonly threshold: number,
    readonly resetMs: number,
    readonly callTimeoutMs: number,
  ) {}

  get open(): boolean {
    return performance.now() < this.#openUntil || this.#trialRunning;
  }

  async call(work: () => Promise<void>): Promise<void> {
    if (this.open) throw new ServiceError('circuit_open', 503);
    const trial = this.#openUntil > 0;
    this.#trialRunning = trial;
    let timer: NodeJS.Timeout | undefined;
    try {
      // The call is abandoned, not cancelled: it keeps its client until the query ends.
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new ServiceError('circuit_timeout', 504)), this.callTimeoutMs);
      });
      await Promise.race([work(), timeout]);
      this.#failures = 0;
      this.#openUntil = 0;
    } catch (error) {
      this.#failures += 1;
      if (trial || this.#failures >= this.threshold) this.#openUntil = performance.now() + this.resetMs;
      throw error;
    } finally {
      clearTimeout(timer);
      if (trial) this.#trialRunning = false;
    }
  }
}

const breaker = circuitBreaker
  ? new CircuitBreaker(
      Math.max(1, intEnv('CB_FAILURE_THRESHOLD', 5)),
      intEnv('CB_RESET_MS', 5_000),
      intEnv('CB_CALL_TIMEOUT_MS', 1_000),
    )
  : undefined;
if (breaker !== undefined)
  gauge('circuit_breaker_open', 'Whether the circuit breaker is open', () => Number(breaker.open));

/** The error kinds the harness reads, and the status each answers with. */
function classify(error: unknown): { kind: string; status: number } {
  if (error instanceof ServiceError) return { kind: error.kind, status: error.status };
  const message = error instanceof Error ? error.message : String(error);
  const code = (error as { code?: unknown }).code;
  if (message.includes('timeout exceeded when trying to connect'))
    return { kind: 'acquire_timeout', status: 503 };
  if (code === '57014') return { kind: 'statement_timeout', status: 504 };
  if (code === '53300') return { kind: 'too_many_connections', status: 503 };
  return { kind: 'connection_error', status: 500 };
}

type Work = (db: pg.PoolClient) => Promise<unknown>;

const endpoints: Record<string, Work> = {
  '/read': (db) => db.query('SELECT id, value, payload FROM items WHERE id = $1', [randomId()]),
  '/write': async (db) => {
    await db.query('BEGIN');
    try {
      const id = randomId();
      await db.query('UPDATE items SET value = value + 1 WHERE id = $1', [id]);
      await db.query('INSERT INTO events (item_id) VALUES ($1)', [id]);
      await db.query('COMMIT');
    } catch (error) {
      await db.query('ROLLBACK').catch(() => undefined);
      throw error;
    }
  },
  '/aggregate': (db) =>
    db.query('SELECT count(*), avg(value), max(length(payload)) FROM items WHERE id % 7 = $1', [
      randomId() % 7,
    ]),
  '/sleep': (db) => db.query('SELECT pg_sleep($1)', [sleepMs / 1000]),
};

function randomId(): number {
  return 1 + Math.floor(Math.random() * rows);
}

async function withClient(endpoint: string, work: Work): Promise<void> {
  const asked = performance.now();
  const db = await pool.connect();
  const got = performance.now();
  acquireWait.observe((got - asked) / 1000);
  let failed: unknown;
  try {
    await work(db);
  } catch (error) {
    failed = error;
    throw error;
  } finally {
    // A connection-level failure must not go back into the pool: release(err) destroys it.
    // (LEAK_ON_ERROR is the bug the leak probe must catch: a failed request keeps its client.)
    if (!(leakOnError && failed !== undefined))
      db.release(
        failed instanceof Error && classify(failed).kind === 'connection_error' ? failed : undefined,
      );
    queryDuration.observe({ endpoint }, (performance.now() - got) / 1000);
  }
}

async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = req.url ?? '/';
  if (url === '/metrics') {
    res.writeHead(200, { 'content-type': registry.contentType });
    res.end(await registry.metrics());
    return;
  }
  if (url === '/healthz') {
    await pool.query('SELECT 1');
    res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
    return;
  }
  const work = endpoints[url];
  if (work === undefined) {
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
    return;
  }
  // Drain any request body before answering so keep-alive connections stay usable.
  req.resume();
  try {
    await (breaker === undefined ? withClient(url, work) : breaker.call(() => withClient(url, work)));
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
  } catch (error) {
    const { kind, status } = classify(error);
    errors.inc({ kind });
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify({ error: kind }));
  }
}

async function prepare(): Promise<void> {
  const db = await pool.connect();
  try {
    // Advisory lock: two instances starting at once seed the table once.
    await db.query('SELECT pg_advisory_lock(42)');
    await db.query(
      'CREATE TABLE IF NOT EXISTS items (id integer PRIMARY KEY, value integer NOT NULL, payload text NOT NULL)',
    );
    await db.query('CREATE TABLE IF NOT EXISTS events (id bigserial PRIMARY KEY, item_id integer NOT NULL)');
    await db.query(
      `INSERT INTO items (id, value, payload)
       SELECT g, g % 100, repeat(md5(g::text), 4) FROM generate_series(1, $1::integer) AS g
       ON CONFLICT (id) DO NOTHING`,
      [rows],
    );
    await db.query('SELECT pg_advisory_unlock(42)');
  } finally {
    db.release();
  }
}

await prepare();
/** Responses not yet finished: a graceful shutdown waits for them. */
const inFlight = new Set<ServerResponse>();
let draining = false;
const server = createServer((req, res) => {
  inFlight.add(res);
  res.on('close', () => inFlight.delete(res));
  // While draining, every answer closes its connection, so keep-alive clients go elsewhere.
  if (draining) res.shouldKeepAlive = false;
  handle(req, res).catch((error: unknown) => {
    if (!res.headersSent) res.writeHead(500).end(String(error));
  });
});
server.keepAliveTimeout = 5_000;
server.listen(port, '127.0.0.1', () => {
  process.stdout.write(`http-pg listening on 127.0.0.1:${port}\n`);
});

/** Resolves once no response is in flight, or after `ms`. */
async function drained(ms: number): Promise<void> {
  const until = performance.now() + ms;
  while (inFlight.size > 0 && performance.now() < until)
    await new Promise((resolve) => setTimeout(resolve, 10));
}

let stopping = false;
async function shutdown(): Promise<void> {
  if (stopping) return;
  stopping = true;
  if (gracefulShutdown) {
    draining = true;
    for (const res of inFlight) res.shouldKeepAlive = false;
    // Stops accepting and closes idle keep-alive connections; requests in flight carry on.
    server.close();
    await drained(drainTimeoutMs);
  } else {
    server.close();
  }
  server.closeAllConnections();
  await pool.end().catch(() => undefined);
  process.exit(0);
}
process.on('SIGTERM', () => void shutdown());
process.on('SIGINT', () => void shutdown());
