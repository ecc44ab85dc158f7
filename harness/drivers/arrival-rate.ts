import type { Histogram } from 'hdr-histogram-js';
import { type Dispatcher, Pool } from 'undici';
import type { OpenScenario, RequestSpec } from '../../scenarios/scenario.ts';
import { arrivalSchedule, requestPicker, seededRandom } from '../../scenarios/schedule.ts';
import { createLatencyHistogram, encodeHistogram, summarize } from '../analysis/histogram.ts';
import { usageError } from '../errors.ts';
import type { CpuUsage } from '../host/host.ts';
import { loopbackTarget } from '../loopback.ts';
import type { Driver, DriverRequest, DriverResult, GeneratorCpu, InProcessDriverOptions } from './driver.ts';

/** A start later than this past its intended time counts as late. */
const LATE_START_MS = 1;
/** After the window ends, requests still in flight get the request timeout plus this to finish. */
const DRAIN_GRACE_MS = 1_000;
/** undici error codes that mean the request ran out of time. */
const TIMEOUT_CODES = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'UND_ERR_CONNECT_TIMEOUT']);

/** Open-model driver: starts requests on an undici Pool at their scheduled times, never waiting for responses. */
export function createArrivalRateDriver(options: InProcessDriverOptions): Driver {
  return {
    name: 'arrival-rate',
    unsupported(scenario) {
      return scenario.model === 'open'
        ? undefined
        : 'the arrival-rate driver runs open-model scenarios (a schedule of arrivals); ' +
            'use the autocannon driver for closed-model stages';
    },
    run: (request) => {
      const { scenario } = request;
      if (scenario.model !== 'open') {
        return Promise.reject(
          usageError(`scenario ${scenario.name}: the arrival-rate driver runs open-model scenarios only`),
        );
      }
      return runOpen(request, scenario, options.cpuUsage);
    },
  };
}

async function runOpen(
  request: DriverRequest,
  scenario: OpenScenario,
  cpuUsage: CpuUsage,
): Promise<DriverResult> {
  const { signal } = request;
  signal.throwIfAborted();
  if (!(scenario.maxInFlight >= 1))
    throw usageError(`scenario ${scenario.name}: maxInFlight must be at least 1`);
  const target = loopbackTarget(request.url, request.remote);
  const random = seededRandom(request.seed);
  // Warm-up gets its own segment of the same shape, so a ramp or burst warms up the way it will run.
  const warmup =
    scenario.warmupMs > 0
      ? arrivalSchedule(scenario.arrival, scenario.warmupMs, random)
      : new Float64Array(0);
  const measured = arrivalSchedule(scenario.arrival, scenario.durationMs, random);
  const times = new Float64Array(warmup.length + measured.length);
  times.set(warmup);
  for (let i = 0; i < measured.length; i++) times[warmup.length + i] = (measured[i] ?? 0) + scenario.warmupMs;

  // The request mix uses its own random stream so it does not shift the arrival times.
  const pickSpec = requestPicker(
    dispatchOptions(scenario.mix, target.pathPrefix),
    seededRandom((request.seed ^ 0x5bd1e995) >>> 0),
  );
  // requestPicker returns elements of the array it was given, which are all PreparedRequest here.
  const pick = pickSpec as () => PreparedRequest;
  const timeoutMs = scenario.requestTimeoutMs;
  const pool = new Pool(target.origin, {
    connections: scenario.maxInFlight,
    pipelining: 1,
    // Backstops only: undici runs these on a coarse timer that fires up to a second late, so the run
    // enforces the request timeout itself (OpenRun.sweep).
    headersTimeout: timeoutMs,
    bodyTimeout: timeoutMs,
    connect: { timeout: timeoutMs },
  });
  const run = new OpenRun({
    pool,
    times,
    firstMeasured: warmup.length,
    measureAtMs: scenario.warmupMs,
    endAtMs: scenario.warmupMs + scenario.durationMs,
    maxInFlight: scenario.maxInFlight,
    drainMs: timeoutMs + DRAIN_GRACE_MS,
    timeoutMs,
    pick,
    onMeasureStart: request.onMeasureStart,
    cpuUsage,
  });
  const onAbort = (): void => run.stop(signal.reason);
  signal.addEventListener('abort', onAbort, { once: true });
  let outcome: RunOutcome;
  try {
    outcome = await run.done;
  } finally {
    signal.removeEventListener('abort', onAbort);
    // close() lets in-flight requests finish, destroy() cuts them off: after an abort or a drain that
    // timed out nothing more is counted, so nothing is worth waiting for.
    if (run.inFlight > 0 || signal.aborted) await pool.destroy();
    else await pool.close();
  }
  signal.throwIfAborted();

  const seconds = scenario.durationMs / 1000;
  // The window is the scheduled one, stretched if the generator fell behind and started requests after it.
  const windowMs = Math.max(scenario.durationMs, outcome.lastStartMs);
  const perSecond = (count: number): number => (windowMs > 0 ? count / (windowMs / 1000) : 0);
  return {
    driver: 'arrival-rate',
    durationMs: windowMs,
    requests: outcome.responses,
    ok: outcome.ok,
    errors: Object.fromEntries(outcome.errors),
    throughput: perSecond(outcome.ok),
    // What the schedule offered (a Poisson draw varies around rate x duration; compare with the draw).
    offeredRate: seconds > 0 ? measured.length / seconds : 0,
    achievedRate: perSecond(outcome.started),
    lateStarts: outcome.late,
    droppedStarts: outcome.dropped,
    latency: summarize(outcome.histogram),
    histogram: encodeHistogram(outcome.histogram),
    generatorCpu: outcome.cpu,
  };
}

/** A mix entry as the frozen dispatch options it is sent with: built once, reused for every request. */
interface PreparedRequest extends RequestSpec {
  readonly options: Dispatcher.DispatchOptions;
}

function dispatchOptions(mix: readonly RequestSpec[], pathPrefix: string): PreparedRequest[] {
  return mix.map((spec) => ({
    ...spec,
    // Frozen so that if undici ever wrote to shared options it would fail loudly rather than leak state.
    options: Object.freeze({ path: pathPrefix + spec.path, method: spec.method }),
  }));
}

interface OpenRunConfig {
  readonly pool: Pool;
  /** Intended start times in ms after the run's start: warm-up first, then the measured window. */
  readonly times: Float64Array;
  /** Index of the first measured arrival. */
  readonly firstMeasured: number;
  readonly measureAtMs: number;
  readonly endAtMs: number;
  readonly maxInFlight: number;
  readonly drainMs: number;
  readonly timeoutMs: number;
  readonly pick: () => PreparedRequest;
  readonly onMeasureStart: (() => void) | undefined;
  readonly cpuUsage: CpuUsage;
}

/** What one run measured over its window (warm-up excluded). */
interface RunOutcome {
  readonly started: number;
  readonly late: number;
  readonly dropped: number;
  readonly responses: number;
  readonly ok: number;
  readonly errors: ReadonlyMap<string, number>;
  /** Latency from intended start to the end of the response, in microseconds. */
  readonly histogram: Histogram;
  readonly cpu: GeneratorCpu;
  /** When the last measured arrival actually started, in ms after the window's nominal start. */
  readonly lastStartMs: number;
}

/** The scheduler and bookkeeping of one open-model run. */
class OpenRun {
  /** Settles when the window has ended and its requests have finished (or the drain timed out). */
  readonly done: Promise<RunOutcome>;
  inFlight = 0;

  private readonly config: OpenRunConfig;
  private readonly count: number;
  private readonly startedAt: number;
  private next = 0;
  private timer: NodeJS.Timeout | undefined;
  private sweepTimer: NodeJS.Timeout | undefined;
  /** Requests in start order, so the oldest (the first to time out) is at `pendingHead`. */
  private pending: PendingRequest[] = [];
  private pendingHead = 0;
  private drainTimer: NodeJS.Timeout | undefined;
  /** Set while a microtask to fire due arrivals is queued, so completions queue at most one. */
  private fireQueued = false;
  private measuring = false;
  private scheduleEnded = false;
  /** False once the run is over: late callbacks (e.g. from destroying the pool) are ignored. */
  private counting = true;
  private resolve!: (outcome: RunOutcome) => void;
  private reject!: (reason: unknown) => void;

  private measureStartedAt = 0;
  private cpuStart: NodeJS.CpuUsage | undefined;
  private measuredInFlight = 0;
  private started = 0;
  private late = 0;
  private dropped = 0;
  private responses = 0;
  private ok = 0;
  private lastStartAt = 0;
  private readonly errors = new Map<string, number>();
  private readonly histogram = createLatencyHistogram();

  constructor(config: OpenRunConfig) {
    this.config = config;
    this.count = config.times.length;
    this.done = new Promise<RunOutcome>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
    this.startedAt = performance.now();
    this.tick();
  }

  /** Stops starting requests and rejects `done` with `reason`; the caller tears the pool down. */
  stop(reason: unknown): void {
    if (!this.counting) return;
    this.counting = false;
    clearTimeout(this.timer);
    clearTimeout(this.sweepTimer);
    clearTimeout(this.drainTimer);
    this.reject(reason);
  }

  /**
   * The scheduler loop: fires every arrival whose time has come, then sleeps until the next one.
   * Node timers have millisecond granularity, so at high rates each wake fires a small batch; completions
   * also fire due arrivals (see `settle`), which keeps starts close to on time without a busy loop.
   */
  private readonly tick = (): void => {
    this.timer = undefined;
    if (!this.counting) return;
    const now = performance.now();
    const elapsed = now - this.startedAt;
    if (!this.measuring && elapsed >= this.config.measureAtMs) this.beginMeasure(now);
    this.fireDue();
    if (!this.counting) return;
    if (this.next >= this.count && elapsed >= this.config.endAtMs) {
      this.endSchedule();
      return;
    }
    let wakeAt = this.next < this.count ? (this.config.times[this.next] ?? 0) : this.config.endAtMs;
    if (!this.measuring) wakeAt = Math.min(wakeAt, this.config.measureAtMs);
    const waitMs = wakeAt - (performance.now() - this.startedAt);
    this.timer = setTimeout(this.tick, Math.max(1, Math.floor(waitMs)));
  };

  private readonly fireQueuedArrivals = (): void => {
    this.fireQueued = false;
    if (this.counting) this.fireDue();
  };

  /** Starts every arrival whose intended time has passed. */
  private fireDue(): void {
    const { times, firstMeasured, maxInFlight, pool, pick } = this.config;
    while (this.next < this.count) {
      const index = this.next;
      const intended = this.startedAt + (times[index] ?? 0);
      const now = performance.now();
      if (intended > now) return;
      this.next++;
      const measured = index >= firstMeasured;
      if (measured && !this.measuring) this.beginMeasure(now);
      if (!this.counting) return;
      // At the in-flight cap a start is dropped and counted, never queued: queueing would hide overload.
      if (this.inFlight >= maxInFlight) {
        if (measured) this.dropped++;
        continue;
      }
      if (measured) {
        this.started++;
        this.measuredInFlight++;
        this.lastStartAt = now;
        if (now - intended > LATE_START_MS) this.late++;
      }
      this.inFlight++;
      const request = new PendingRequest(this, intended, now + this.config.timeoutMs, measured);
      this.pending.push(request);
      this.sweepTimer ??= setTimeout(this.sweep, this.config.timeoutMs);
      pool.dispatch(pick().options, request);
    }
  }

  /**
   * Times out requests older than the request timeout. All share one timeout, so start order is deadline
   * order: one timer, aimed at the oldest request, replaces a timer per request.
   */
  private readonly sweep = (): void => {
    this.sweepTimer = undefined;
    if (!this.counting) return;
    const now = performance.now();
    this.dropSettled();
    let oldest = this.pending[this.pendingHead];
    while (oldest !== undefined && oldest.deadline <= now) {
      this.pendingHead++;
      if (!oldest.settled) oldest.timeOut();
      oldest = this.pending[this.pendingHead];
    }
    this.dropSettled();
    oldest = this.pending[this.pendingHead];
    if (oldest !== undefined)
      this.sweepTimer = setTimeout(this.sweep, Math.max(1, Math.ceil(oldest.deadline - now)));
  };

  /** Forgets settled requests at the front of `pending`, compacting it now and then. */
  private dropSettled(): void {
    while (this.pending[this.pendingHead]?.settled) this.pendingHead++;
    if (this.pendingHead > 1024 && this.pendingHead * 2 > this.pending.length) {
      this.pending = this.pending.slice(this.pendingHead);
      this.pendingHead = 0;
    }
  }

  /** Called by a request when its response has ended (`error` undefined) or failed. */
  settle(request: PendingRequest, error: Error | undefined): void {
    this.inFlight--;
    if (!this.counting) return;
    if (this.pending[this.pendingHead] === request) this.dropSettled();
    if (request.measured) {
      this.measuredInFlight--;
      if (request.timedOut) {
        increment(this.errors, 'timeout');
      } else if (error !== undefined) {
        increment(this.errors, errorKind(error));
      } else {
        this.responses++;
        const status = request.status;
        if (status >= 200 && status < 300) this.ok++;
        else increment(this.errors, `status:${status}`);
        // From the intended start, not the actual one: time the generator was late is the target's too.
        const micros = Math.round((performance.now() - request.intendedAt) * 1000);
        this.histogram.recordValue(micros > 0 ? micros : 1);
      }
    }
    if (this.scheduleEnded) {
      if (this.inFlight === 0) this.finish();
      return;
    }
    // The loop is awake anyway: start anything now due rather than waiting for the next timer. A microtask,
    // because dispatching from inside undici's response callback would re-enter its parser.
    if (!this.fireQueued && this.next < this.count) {
      const intended = this.startedAt + (this.config.times[this.next] ?? 0);
      if (intended <= performance.now()) {
        this.fireQueued = true;
        queueMicrotask(this.fireQueuedArrivals);
      }
    }
  }

  private beginMeasure(now: number): void {
    this.measuring = true;
    try {
      this.config.onMeasureStart?.();
    } catch (error) {
      this.stop(error);
      return;
    }
    this.measureStartedAt = now;
    this.cpuStart = this.config.cpuUsage();
  }

  private endSchedule(): void {
    this.scheduleEnded = true;
    if (this.inFlight === 0) {
      this.finish();
      return;
    }
    this.drainTimer = setTimeout(() => {
      // The sweep should have ended these; whatever is still out is counted as timed out.
      if (this.measuredInFlight > 0) increment(this.errors, 'timeout', this.measuredInFlight);
      this.finish();
    }, this.config.drainMs);
  }

  private finish(): void {
    if (!this.counting) return;
    this.counting = false;
    clearTimeout(this.sweepTimer);
    clearTimeout(this.drainTimer);
    const wallMs = performance.now() - this.measureStartedAt;
    const usage = this.config.cpuUsage(this.cpuStart);
    const userMs = usage.user / 1000;
    const systemMs = usage.system / 1000;
    this.resolve({
      started: this.started,
      late: this.late,
      dropped: this.dropped,
      responses: this.responses,
      ok: this.ok,
      errors: this.errors,
      histogram: this.histogram,
      cpu: { userMs, systemMs, share: wallMs > 0 ? (userMs + systemMs) / wallMs : 0 },
      lastStartMs: this.started > 0 ? this.lastStartAt - (this.startedAt + this.config.measureAtMs) : 0,
    });
  }
}

/** One request in flight; undici's dispatch handler, kept to a few fields since there is one per request. */
class PendingRequest implements Dispatcher.DispatchHandler {
  status = 0;
  settled = false;
  /** Set when the run gave up on it: whatever undici reports afterwards counts as a timeout. */
  timedOut = false;
  private controller: Dispatcher.DispatchController | undefined;
  readonly run: OpenRun;
  /** performance.now() time the request was meant to start. */
  readonly intendedAt: number;
  /** performance.now() time past which it counts as timed out (from its actual start). */
  readonly deadline: number;
  readonly measured: boolean;

  constructor(run: OpenRun, intendedAt: number, deadline: number, measured: boolean) {
    this.run = run;
    this.intendedAt = intendedAt;
    this.deadline = deadline;
    this.measured = measured;
  }

  /** Marks it timed out and aborts it, which makes undici report an error and free the connection. */
  timeOut(): void {
    this.timedOut = true;
    this.controller?.abort(new Error('request timed out'));
  }

  // undici treats a handler without onRequestStart as the deprecated callback style.
  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
  }

  onResponseStart(_controller: Dispatcher.DispatchController, statusCode: number): void {
    this.status = statusCode;
  }

  onResponseData(): void {}

  onResponseEnd(): void {
    this.finish(undefined);
  }

  onResponseError(_controller: Dispatcher.DispatchController, error: Error): void {
    this.finish(error);
  }

  private finish(error: Error | undefined): void {
    if (this.settled) return;
    this.settled = true;
    this.run.settle(this, error);
  }
}

/** The error kind for a failed request: `timeout`, or the error's code (e.g. `ECONNRESET`). */
function errorKind(error: Error): string {
  const code = (error as NodeJS.ErrnoException).code;
  if (typeof code !== 'string') return error.name;
  return TIMEOUT_CODES.has(code) ? 'timeout' : code;
}

function increment(counts: Map<string, number>, key: string, by = 1): void {
  counts.set(key, (counts.get(key) ?? 0) + by);
}
