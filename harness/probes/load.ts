// Bounded closed-model load for the probes: N clients sending one kind of request back to back, each
// request recorded with its own start and end, so a probe can tell what happened before, during and
// after the fault it injects. Loopback only; bounded in time and in count.
import { setMaxListeners } from 'node:events';
import { Pool } from 'undici';
import type { RequestSpec } from '../../scenarios/scenario.ts';
import { loopbackTarget } from '../loopback.ts';

/** A monotonic clock in ms, injected so only the host module owns time. */
export interface ProbeClock {
  now(): number;
}

/** The request a probe's load sends: one kind of request of the scenario's mix. */
export type ProbeRequest = Pick<RequestSpec, 'method' | 'path'>;

/** After a request got no response at all (e.g. connection refused), its client waits this long. */
const NO_RESPONSE_PAUSE_MS = 20;
/** After an error response, its client waits this long: a fast-failing target is not hammered flat out. */
const ERROR_PAUSE_MS = 5;

/** What to send, for how long and how much at most. */
export interface LoadOptions {
  /** The entry service's base URL; must be loopback. */
  readonly url: string;
  readonly request: ProbeRequest;
  /** Clients sending back to back. */
  readonly concurrency: number;
  /** No request starts after this long. */
  readonly durationMs: number;
  /** No more than this many requests in all. */
  readonly maxRequests: number;
  /** A request without a full response by then ends as `timeout`. */
  readonly requestTimeoutMs: number;
  /** Aborting it ends every request at once. */
  readonly signal: AbortSignal;
  readonly clock: ProbeClock;
}

/** One request as the client saw it. */
export interface RequestRecord {
  /** Clock ms when it was sent and when it ended (answered, failed or timed out). */
  readonly startMs: number;
  readonly endMs: number;
  /** The HTTP status; 0 when no response came. */
  readonly status: number;
  /** Why no response came: `timeout`, `ECONNREFUSED`, `UND_ERR_SOCKET`, ... */
  readonly error?: string;
}

/** Load in progress. */
export interface RunningLoad extends AsyncDisposable {
  /** The requests that ended so far. */
  records(): readonly RequestRecord[];
  /** Settles with every record once the load has ended by itself (time or count) or been stopped. */
  readonly done: Promise<readonly RequestRecord[]>;
  /** Stops starting requests, lets those in flight end (each within its timeout), and returns every record. */
  stop(): Promise<readonly RequestRecord[]>;
}

/** Starts load at once; it ends by itself after `durationMs` or `maxRequests`, or when stopped. */
export function startLoad(options: LoadOptions): RunningLoad {
  const { origin, pathPrefix } = loopbackTarget(options.url);
  const { clock, requestTimeoutMs } = options;
  const pool = new Pool(origin, {
    connections: options.concurrency,
    pipelining: 1,
    headersTimeout: requestTimeoutMs,
    bodyTimeout: requestTimeoutMs,
    connect: { timeout: requestTimeoutMs },
  });
  const path = `${pathPrefix}${options.request.path}`;
  const records: RequestRecord[] = [];
  const stopping = new AbortController();
  // One signal of our own that every request in flight listens to (the caller's gets one listener).
  const cancel = new AbortController();
  setMaxListeners(options.concurrency + 10, cancel.signal);
  const forward = () => cancel.abort(options.signal.reason);
  if (options.signal.aborted) forward();
  else options.signal.addEventListener('abort', forward, { once: true });
  const until = clock.now() + options.durationMs;
  let started = 0;

  const send = async (): Promise<RequestRecord> => {
    const startMs = clock.now();
    const signal = AbortSignal.any([cancel.signal, AbortSignal.timeout(requestTimeoutMs)]);
    try {
      const response = await pool.request({ method: options.request.method, path, signal });
      await response.body.dump();
      return { startMs, endMs: clock.now(), status: response.statusCode };
    } catch (error) {
      return { startMs, endMs: clock.now(), status: 0, error: errorCode(error) };
    }
  };

  const client = async (): Promise<void> => {
    while (!stopping.signal.aborted && !cancel.signal.aborted) {
      if (started >= options.maxRequests || clock.now() >= until) return;
      started += 1;
      const record = await send();
      records.push(record);
      if (record.status === 0) await pause(NO_RESPONSE_PAUSE_MS, stopping.signal);
      else if (record.status >= 400) await pause(ERROR_PAUSE_MS, stopping.signal);
    }
  };

  const done = Promise.all(Array.from({ length: options.concurrency }, client))
    .finally(() => {
      options.signal.removeEventListener('abort', forward);
      return pool.destroy().catch(() => undefined);
    })
    .then(() => records);
  const stop = () => {
    stopping.abort();
    return done;
  };
  return {
    records: () => records,
    done,
    stop,
    async [Symbol.asyncDispose]() {
      await stop();
    },
  };
}

/** A short name for why a request got no response. */
function errorCode(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  if (error.name === 'TimeoutError') return 'timeout';
  const code = (error as { code?: unknown }).code;
  const causeCode = (error.cause as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' ? code : typeof causeCode === 'string' ? causeCode : error.name;
}

/** Waits `ms`, or less when the signal aborts first; never rejects. */
function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}
