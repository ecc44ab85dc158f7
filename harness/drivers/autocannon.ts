import autocannon from 'autocannon';
import { type Histogram, JsHistogram } from 'hdr-histogram-js';
import type { ClosedScenario, RequestSpec } from '../../scenarios/scenario.ts';
import { requestPicker, seededRandom } from '../../scenarios/schedule.ts';
import {
  createLatencyHistogram,
  decodeHistogram,
  encodeHistogram,
  summarize,
} from '../analysis/histogram.ts';
import { usageError } from '../errors.ts';
import type { CpuUsage } from '../host/host.ts';
import { loopbackTarget } from '../loopback.ts';
import type {
  Driver,
  DriverRequest,
  DriverResult,
  GeneratorCpu,
  InProcessDriverOptions,
  StageResult,
} from './driver.ts';

/**
 * autocannon stops only on its sample tick, so the tick bounds how far a stage overruns its duration and
 * how long an abort takes; 100 ms keeps both small for ten cheap callbacks a second.
 */
const SAMPLE_INTERVAL_MS = 100;
/** autocannon rejects timeouts under one second. */
const MIN_AUTOCANNON_TIMEOUT_MS = 1_000;
/** Past its duration plus this, a stage is told to stop; past twice this it is given up on. */
const STAGE_GRACE_MS = 2_000;

/** What autocannon hands back with `skipAggregateResult: true` (its typings only describe the aggregate). */
interface RawResult {
  /** Compressed base64 HdrHistogram of latencies in whole milliseconds. */
  readonly latencies: string;
  readonly statusCodeStats: Readonly<Record<string, { readonly count: number }>>;
}

/** One autocannon run reduced to what the driver reports. */
interface StageOutcome {
  readonly connections: number;
  readonly durationMs: number;
  /** Responses of any status. */
  readonly requests: number;
  readonly ok: number;
  readonly errors: ReadonlyMap<string, number>;
  /** Latency in microseconds. */
  readonly histogram: Histogram;
}

/** Options shared by every autocannon run of one driver run. */
type BaseOptions = Omit<autocannon.Options, 'connections' | 'duration'>;

/** Closed-model driver on autocannon's programmatic API: warm-up, then each stage in order. */
export function createAutocannonDriver(options: InProcessDriverOptions): Driver {
  return {
    name: 'autocannon',
    unsupported(scenario) {
      return scenario.model === 'closed'
        ? undefined
        : 'autocannon is a closed-model generator (each connection waits for its response); ' +
            'use the arrival-rate driver for open-model scenarios';
    },
    run: (request) => {
      const { scenario } = request;
      if (scenario.model !== 'closed') {
        return Promise.reject(
          usageError(`scenario ${scenario.name}: the autocannon driver runs closed-model scenarios only`),
        );
      }
      return runClosed(request, scenario, options.cpuUsage);
    },
  };
}

async function runClosed(
  request: DriverRequest,
  scenario: ClosedScenario,
  cpuUsage: CpuUsage,
): Promise<DriverResult> {
  const { signal } = request;
  signal.throwIfAborted();
  const first = scenario.stages[0];
  if (first === undefined)
    throw usageError(`scenario ${scenario.name}: a closed scenario needs at least one stage`);
  const target = loopbackTarget(request.url, request.remote);
  const timeoutMs = scenario.requestTimeoutMs;
  const options: BaseOptions = {
    url: target.origin,
    requests: mixRequests(scenario.mix, target.pathPrefix, request.seed),
    timeout: Math.max(MIN_AUTOCANNON_TIMEOUT_MS, timeoutMs) / 1000,
    sampleInt: SAMPLE_INTERVAL_MS,
    skipAggregateResult: true,
    // autocannon refuses `ignoreCoordinatedOmission: true` unless a rate is set ("makes no sense without
    // connectionRate or overallRate"), and its broken correction (FACTS.md) only runs when a rate is set.
    // This driver never sets one, so every response is recorded once, uncorrected. A rate added here must
    // come with `ignoreCoordinatedOmission: true`.
  };

  if (scenario.warmupMs > 0) await runStage(options, first.connections, scenario.warmupMs, timeoutMs, signal);
  request.onMeasureStart?.();
  const cpuStart = cpuUsage();
  const wallStart = performance.now();
  const outcomes: StageOutcome[] = [];
  for (const stage of scenario.stages) {
    outcomes.push(await runStage(options, stage.connections, stage.durationMs, timeoutMs, signal));
  }
  const wallMs = performance.now() - wallStart;
  const generatorCpu = cpuShare(cpuUsage(cpuStart), wallMs);

  const last = outcomes[outcomes.length - 1];
  if (last === undefined) throw new Error('unreachable: a closed scenario has at least one stage');
  const stages = outcomes.map(toStageResult);
  const errors: Record<string, number> = {};
  let requests = 0;
  let ok = 0;
  for (const outcome of outcomes) {
    requests += outcome.requests;
    ok += outcome.ok;
    for (const [kind, count] of outcome.errors) errors[kind] = (errors[kind] ?? 0) + count;
  }
  const headline = toStageResult(last);
  return {
    driver: 'autocannon',
    durationMs: wallMs,
    requests,
    ok,
    errors,
    throughput: headline.throughput,
    latency: headline.latency,
    histogram: encodeHistogram(last.histogram),
    generatorCpu,
    stages,
  };
}

/** Runs autocannon once; resolves when it stops (duration reached or aborted) with what it measured. */
function runStage(
  options: BaseOptions,
  connections: number,
  durationMs: number,
  timeoutMs: number,
  signal: AbortSignal,
): Promise<StageOutcome> {
  return new Promise<StageOutcome>((resolve, reject) => {
    if (signal.aborted) {
      reject(signal.reason);
      return;
    }
    const errors = new Map<string, number>();
    // Responses slower than a sub-second timeout: autocannon cannot time them out, so they are re-counted.
    const late = new Map<number, number>();
    const startedAt = performance.now();
    let settled = false;
    let stopTimer: NodeJS.Timeout | undefined;
    let giveUpTimer: NodeJS.Timeout | undefined;
    let instance: autocannon.Instance | undefined;
    const stop = (): void => instance?.stop();

    const settle = (error: unknown, result: unknown): void => {
      if (settled) return;
      settled = true;
      clearTimeout(stopTimer);
      clearTimeout(giveUpTimer);
      signal.removeEventListener('abort', stop);
      if (signal.aborted) reject(signal.reason);
      else if (error !== null && error !== undefined) reject(error);
      else resolve(toOutcome(result as RawResult, connections, performance.now() - startedAt, errors, late));
    };
    instance = autocannon({ ...options, connections, duration: durationMs / 1000 }, settle);
    // A bad option is reported through the callback before autocannon returns.
    if (settled) return;

    instance.on('reqError', (error: unknown) => increment(errors, errorKind(error)));
    if (timeoutMs < MIN_AUTOCANNON_TIMEOUT_MS) {
      instance.on('response', (_client, statusCode, _bytes, responseTime) => {
        if (responseTime > timeoutMs) increment(late, statusCode);
      });
    }
    signal.addEventListener('abort', stop, { once: true });
    if (signal.aborted) stop();
    // autocannon stops on its own; these bound a stage even if it somehow does not.
    stopTimer = setTimeout(stop, durationMs + STAGE_GRACE_MS);
    giveUpTimer = setTimeout(
      () =>
        settle(new Error(`autocannon did not stop within ${durationMs + 2 * STAGE_GRACE_MS} ms`), undefined),
      durationMs + 2 * STAGE_GRACE_MS,
    );
  });
}

function toOutcome(
  raw: RawResult,
  connections: number,
  durationMs: number,
  errors: Map<string, number>,
  late: ReadonlyMap<number, number>,
): StageOutcome {
  let requests = 0;
  let ok = 0;
  for (const [code, stats] of Object.entries(raw.statusCodeStats)) {
    const status = Number(code);
    requests += stats.count;
    const lateCount = late.get(status) ?? 0;
    const onTime = stats.count - lateCount;
    if (lateCount > 0) increment(errors, 'timeout', lateCount);
    if (status >= 200 && status < 300) ok += onTime;
    else if (onTime > 0) increment(errors, `status:${code}`, onTime);
  }
  return { connections, durationMs, requests, ok, errors, histogram: millisToMicros(raw.latencies) };
}

function toStageResult(outcome: StageOutcome): StageResult {
  return {
    connections: outcome.connections,
    durationMs: outcome.durationMs,
    requests: outcome.requests,
    throughput: outcome.durationMs > 0 ? outcome.ok / (outcome.durationMs / 1000) : 0,
    latency: summarize(outcome.histogram),
  };
}

/**
 * autocannon's latencies are truncated to whole milliseconds; each is recorded at the middle of its
 * millisecond so means and sub-millisecond latencies are not biased low by up to 1 ms.
 */
function millisToMicros(encoded: string): Histogram {
  const millis = decodeHistogram(encoded);
  const micros = createLatencyHistogram();
  if (!(millis instanceof JsHistogram)) throw new Error('expected a JS histogram from decodeHistogram');
  const values = millis.recordedValuesIterator;
  values.reset();
  while (values.hasNext()) {
    const step = values.next();
    micros.recordValueWithCount(step.valueIteratedTo * 1000 + 500, step.countAtValueIteratedTo);
  }
  return micros;
}

/** autocannon request templates for a mix: one static request, or a per-request weighted pick. */
function mixRequests(mix: readonly RequestSpec[], pathPrefix: string, seed: number): autocannon.Request[] {
  const prefixed = mix.map((spec) => ({ ...spec, path: pathPrefix + spec.path }));
  const only = prefixed[0];
  // One kind of request needs no choice: a static request is built once instead of once per request.
  if (prefixed.length === 1 && only !== undefined) return [{ method: only.method, path: only.path }];
  const pick = requestPicker(prefixed, seededRandom(seed));
  return [
    {
      // Hot path: autocannon calls this for every request and builds the request bytes from the result.
      setupRequest: (request) => {
        const spec = pick();
        request.method = spec.method;
        request.path = spec.path;
        return request;
      },
    },
  ];
}

/** The error kind for a failed autocannon request: a socket error code, or `timeout`. */
function errorKind(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (typeof code === 'string') return code;
    // autocannon reports a timeout as a plain Error with this message and no code.
    if (error.message === 'request timed out') return 'timeout';
  }
  return 'error';
}

function increment<K>(counts: Map<K, number>, key: K, by = 1): void {
  counts.set(key, (counts.get(key) ?? 0) + by);
}

function cpuShare(usage: NodeJS.CpuUsage, wallMs: number): GeneratorCpu {
  const userMs = usage.user / 1000;
  const systemMs = usage.system / 1000;
  return { userMs, systemMs, share: wallMs > 0 ? (userMs + systemMs) / wallMs : 0 };
}
