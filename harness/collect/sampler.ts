// The Collector: samples the target every ~250 ms while load runs and summarises the measured window.
import { Agent } from 'undici';
import type { CollectTarget, RunningCollector, ServerFigures, ServerSample } from './collector.ts';
import { defaultPoolMetricNames } from './metric-names.ts';
import { DEFAULT_TICKS_PER_SECOND, type PidStats, readProcessStats } from './proc-stats.ts';
import {
  type HistogramFigures,
  histogramQuantile,
  parsePrometheusText,
  readCounter,
  readCounterByLabel,
  readGauge,
  readHistogram,
  scrape,
} from './prometheus.ts';
import { newConnectionsPerSec, readSocketStates, type SocketStates } from './socket-states.ts';

/** How a collector samples; everything has a default. */
export interface CollectorOptions {
  /** Time from the start of one sample to the start of the next. Default 250 ms. */
  readonly intervalMs?: number;
  /** Monotonic clock in ms, injected so tests and the host module own time. Default `performance.now`. */
  readonly now?: () => number;
  /** `getconf CLK_TCK` of the host. Default 100. */
  readonly ticksPerSecond?: number;
  /** A figure not read within this long is left out of its sample. Default 1000 ms. */
  readonly sampleTimeoutMs?: number;
}

/** The label that splits the pool errors counter into kinds (see {@link defaultPoolMetricNames}). */
const ERROR_KIND_LABEL = 'kind';

/** A rate measured over [fromAt, toAt] (clock ms), so means can be weighted by time. */
interface Rate {
  readonly value: number;
  readonly fromAt: number;
  readonly toAt: number;
}

/** Counter values from one scrape; a field is absent when the target does not expose that series. */
interface CounterReading {
  readonly acquire?: HistogramFigures;
  readonly opened?: number;
  readonly errors?: Readonly<Record<string, number>>;
}

/** One sample as kept internally: clock times rather than offsets, since the mark may come later. */
interface Reading {
  readonly takenAt: number;
  readonly pool?: { readonly total: number; readonly idle: number; readonly waiting: number };
  readonly native?: Readonly<Record<string, number>>;
  readonly resources?: { readonly rssBytes: number; readonly fds: number };
  readonly cpu?: Rate;
  readonly sockets?: { readonly established: number; readonly timeWait: number; readonly closeWait: number };
  readonly connections?: Rate;
  readonly counters?: CounterReading;
}

/** Settles with the work's value, or undefined when it fails or the signal aborts first. */
function bounded<T>(work: Promise<T>, signal: AbortSignal): Promise<T | undefined> {
  return new Promise((resolve) => {
    const onAbort = () => resolve(undefined);
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, () => resolve(undefined)).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/**
 * Starts sampling `target` at once and every `intervalMs` after (a setTimeout chain: samples never
 * overlap). Samples before {@link RunningCollector.markMeasureStart} are warm-up: kept, but left out of
 * the summary. Without a mark, everything from the start is measured.
 */
export function startCollector(target: CollectTarget, options: CollectorOptions = {}): RunningCollector {
  const intervalMs = options.intervalMs ?? 250;
  const now = options.now ?? (() => performance.now());
  const ticksPerSecond = options.ticksPerSecond ?? DEFAULT_TICKS_PER_SECOND;
  const sampleTimeoutMs = options.sampleTimeoutMs ?? 1_000;
  const names = target.metricNames ?? defaultPoolMetricNames;
  const metricsUrl = target.metricsUrl;
  // One kept-alive connection of our own: scrapes then add one connection on the entry port, not one
  // per sample, and closing the agent at stop leaves nothing open into the next trial.
  const agent = metricsUrl === undefined ? undefined : new Agent({ connections: 1 });

  const startedAt = now();
  const readings: Reading[] = [];
  let markAt: number | undefined;
  let sampleSoon = false;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let inFlight: Promise<void> | undefined;
  let figures: Promise<ServerFigures> | undefined;
  let lastCpu: { readonly at: number; readonly ticks: ReadonlyMap<string, number> } | undefined;
  let lastSockets: { readonly at: number; readonly keys: ReadonlySet<string> } | undefined;

  const readMetrics = async (signal: AbortSignal) => {
    if (metricsUrl === undefined) return undefined;
    const text = await scrape(metricsUrl, signal, {
      timeoutMs: sampleTimeoutMs,
      ...(agent === undefined ? {} : { dispatcher: agent }),
    });
    return parsePrometheusText(text);
  };

  const readProcesses = async (): Promise<{ at: number; stats: PidStats[] }> => {
    const at = now();
    return { at, stats: await readProcessStats(target.pids) };
  };

  const readSockets = async (): Promise<{ at: number; states: SocketStates }> => {
    const at = now();
    // The target's own network namespace (a container has its own); any of its live pids will do.
    for (const pid of target.pids) {
      try {
        return { at, states: await readSocketStates(target.ports, target.entryPort, pid) };
      } catch {
        // That pid vanished; try the next.
      }
    }
    if (target.pids.length > 0) throw new Error('no live pid to read socket states from');
    return { at, states: await readSocketStates(target.ports, target.entryPort) };
  };

  const takeSample = async (): Promise<void> => {
    const takenAt = now();
    const deadline = AbortSignal.timeout(sampleTimeoutMs);
    const [metrics, processes, sockets] = await Promise.all([
      bounded(readMetrics(deadline), deadline),
      bounded(readProcesses(), deadline),
      bounded(readSockets(), deadline),
    ]);
    let reading: Reading = { takenAt };

    if (metrics !== undefined) {
      const total = readGauge(metrics, names.total);
      const idle = readGauge(metrics, names.idle);
      const waiting = readGauge(metrics, names.waiting);
      if (total !== undefined && idle !== undefined && waiting !== undefined) {
        reading = { ...reading, pool: { total, idle, waiting } };
      }
      const native = Object.entries(target.nativeGauges ?? {}).flatMap(([label, series]) => {
        const value = readGauge(metrics, series);
        return value === undefined ? [] : [[label, value] as const];
      });
      if (native.length > 0) reading = { ...reading, native: Object.fromEntries(native) };
      const acquire = readHistogram(metrics, names.acquireWait);
      const opened = readCounter(metrics, names.connectionsOpened);
      const errors = readCounterByLabel(metrics, names.errors, ERROR_KIND_LABEL);
      reading = {
        ...reading,
        counters: {
          ...(acquire === undefined ? {} : { acquire }),
          ...(opened === undefined ? {} : { opened }),
          ...(errors === undefined ? {} : { errors }),
        },
      };
    }

    if (processes !== undefined && processes.stats.length > 0) {
      // Keyed by pid and start time, so a reused pid is never mistaken for the process sampled before.
      const ticks = new Map(
        processes.stats.map((stat) => [`${stat.pid}:${stat.startTimeTicks}`, stat.cpuTicks]),
      );
      if (lastCpu !== undefined && processes.at > lastCpu.at) {
        let used = 0;
        let common = 0;
        for (const [key, value] of ticks) {
          const before = lastCpu.ticks.get(key);
          if (before === undefined) continue; // New since the last sample: its earlier CPU is unknown.
          used += value - before;
          common += 1;
        }
        if (common > 0) {
          const value = used / ticksPerSecond / ((processes.at - lastCpu.at) / 1000);
          reading = { ...reading, cpu: { value, fromAt: lastCpu.at, toAt: processes.at } };
        }
      }
      lastCpu = { at: processes.at, ticks };
      let rssBytes = 0;
      let fds: number | undefined = 0;
      for (const stat of processes.stats) {
        rssBytes += stat.rssBytes;
        fds = fds === undefined || stat.fds === undefined ? undefined : fds + stat.fds;
      }
      // A sum missing some process's descriptors would be a guess; leave the figure out instead.
      if (fds !== undefined) reading = { ...reading, resources: { rssBytes, fds } };
    }

    if (sockets !== undefined) {
      const { established, timeWait, closeWait, entryConnections } = sockets.states;
      reading = { ...reading, sockets: { established, timeWait, closeWait } };
      if (lastSockets !== undefined) {
        const value = newConnectionsPerSec(lastSockets.keys, entryConnections, sockets.at - lastSockets.at);
        if (value !== undefined) {
          reading = { ...reading, connections: { value, fromAt: lastSockets.at, toAt: sockets.at } };
        }
      }
      lastSockets = { at: sockets.at, keys: entryConnections };
    }

    readings.push(reading);
  };

  const runSample = (): void => {
    timer = undefined;
    sampleSoon = false;
    const began = now();
    inFlight = takeSample()
      .catch(() => {
        // A sample that fails as a whole is just missing; the next one tries again.
      })
      .finally(() => {
        inFlight = undefined;
        if (stopped) return;
        const wait = sampleSoon ? 0 : Math.max(0, intervalMs - (now() - began));
        timer = setTimeout(runSample, wait);
        // Sampling alone must not keep the process alive.
        timer.unref();
      });
  };

  const stop = (): Promise<ServerFigures> => {
    figures ??= (async () => {
      stopped = true;
      if (timer !== undefined) clearTimeout(timer);
      timer = undefined;
      await inFlight;
      await takeSample().catch(() => undefined);
      await agent?.close().catch(() => undefined);
      return summariseReadings(readings, markAt ?? startedAt);
    })();
    return figures;
  };

  runSample();

  return {
    markMeasureStart(): void {
      // The first mark wins: a second call is a caller's slip, and moving the window would silently
      // change which counters are differenced.
      if (markAt !== undefined || stopped) return;
      markAt = now();
      // Sample right away, so the counters' baseline is read as close to the mark as possible.
      if (timer !== undefined) {
        clearTimeout(timer);
        runSample();
      } else {
        sampleSoon = true;
      }
    },
    stop,
    async [Symbol.asyncDispose](): Promise<void> {
      await stop();
    },
  };
}

/** What a counter grew by over consecutive readings; a drop is a restart, counted from zero (as PromQL). */
function increase(values: readonly (number | undefined)[]): number | undefined {
  let total: number | undefined;
  let previous: number | undefined;
  for (const value of values) {
    if (value === undefined) continue;
    total = (total ?? 0) + (previous === undefined ? 0 : value >= previous ? value - previous : value);
    previous = value;
  }
  return total;
}

/** The acquire-wait histogram's growth in sum and count, with restarts detected on the count. */
function histogramIncrease(values: readonly (HistogramFigures | undefined)[]): HistogramFigures | undefined {
  let total: { sum: number; count: number; buckets: Map<number, number> } | undefined;
  let previous: HistogramFigures | undefined;
  for (const value of values) {
    if (value === undefined) continue;
    total ??= { sum: 0, count: 0, buckets: new Map() };
    if (previous !== undefined) {
      const restarted = value.count < previous.count;
      total.sum += restarted ? value.sum : value.sum - previous.sum;
      total.count += restarted ? value.count : value.count - previous.count;
      const before = new Map(previous.buckets.map((bucket) => [bucket.le, bucket.count]));
      for (const bucket of value.buckets) {
        const added = restarted ? bucket.count : bucket.count - (before.get(bucket.le) ?? 0);
        total.buckets.set(bucket.le, (total.buckets.get(bucket.le) ?? 0) + added);
      }
    }
    previous = value;
  }
  if (total === undefined) return undefined;
  const buckets = [...total.buckets.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([le, count]) => ({ le, count }));
  return { sum: total.sum, count: total.count, buckets };
}

/** `{ [key]: value * scale }`, or nothing when the value is unknown. */
function optional<K extends string>(
  key: K,
  value: number | undefined,
  scale: number,
): Partial<Record<K, number>> {
  return value === undefined ? {} : ({ [key]: value * scale } as Record<K, number>);
}

/** Errors by kind over the window; a kind absent from a scrape that has the family counts as 0 there. */
function errorsIncrease(
  values: readonly (Readonly<Record<string, number>> | undefined)[],
): Record<string, number> | undefined {
  const present = values.filter((value) => value !== undefined);
  if (present.length === 0) return undefined;
  const kinds = new Set(present.flatMap((value) => Object.keys(value)));
  const errors: Record<string, number> = {};
  for (const kind of [...kinds].sort()) {
    const grown = increase(present.map((value) => value[kind] ?? 0)) ?? 0;
    if (grown > 0) errors[kind] = grown;
  }
  return errors;
}

/**
 * Time-weighted mean of rates over the window. Rates whose interval began before the mark are mostly
 * warm-up, so they are used only when the window holds no other.
 */
function rateMean(rates: readonly Rate[], markAt: number): number | undefined {
  const inside = rates.filter((rate) => rate.fromAt >= markAt);
  const chosen = inside.length > 0 ? inside : rates;
  let weighted = 0;
  let span = 0;
  for (const rate of chosen) {
    weighted += rate.value * (rate.toAt - rate.fromAt);
    span += rate.toAt - rate.fromAt;
  }
  return span > 0 ? weighted / span : undefined;
}

function max(values: readonly number[]): number {
  return values.reduce((a, b) => Math.max(a, b), Number.NEGATIVE_INFINITY);
}

function mean(values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0) / values.length;
}

function toSample(reading: Reading, markAt: number): ServerSample {
  const { pool, native, resources, cpu, sockets, connections } = reading;
  return {
    // Floored so a warm-up sample never rounds to 0 and joins the measured window.
    atMs: Math.floor(reading.takenAt - markAt),
    ...(pool === undefined ? {} : { pool }),
    ...(native === undefined ? {} : { native }),
    ...(resources === undefined || cpu === undefined
      ? {}
      : { process: { cpuShare: cpu.value, ...resources } }),
    ...(sockets === undefined ? {} : { sockets }),
    ...(connections === undefined ? {} : { newConnectionsPerSec: connections.value }),
  };
}

/** Summarises readings over the window starting at `markAt` (clock ms); all samples are kept. */
function summariseReadings(readings: readonly Reading[], markAt: number): ServerFigures {
  const samples = readings.map((reading) => toSample(reading, markAt));
  const window = readings.filter((reading) => reading.takenAt >= markAt);
  const defined = <T>(pick: (reading: Reading) => T | undefined): T[] =>
    window.map(pick).filter((value): value is T => value !== undefined);

  const pools = defined((reading) => reading.pool);
  const counters = window.map((reading) => reading.counters);
  const acquire = histogramIncrease(counters.map((reading) => reading?.acquire));
  const opened = increase(counters.map((reading) => reading?.opened));
  const errors = errorsIncrease(counters.map((reading) => reading?.errors));
  const pool: ServerFigures['pool'] =
    pools.length === 0 && acquire === undefined && opened === undefined && errors === undefined
      ? undefined
      : {
          ...(pools.length === 0
            ? {}
            : {
                totalMax: max(pools.map((p) => p.total)),
                idleMean: mean(pools.map((p) => p.idle)),
                waitingMean: mean(pools.map((p) => p.waiting)),
                waitingMax: max(pools.map((p) => p.waiting)),
              }),
          ...(acquire === undefined || acquire.count === 0
            ? {}
            : {
                acquireWaitMeanMs: (acquire.sum / acquire.count) * 1000,
                ...optional('acquireWaitP99Ms', histogramQuantile(acquire.buckets, 0.99), 1000),
              }),
          ...(errors === undefined ? {} : { errors }),
          ...(opened === undefined ? {} : { connectionsOpened: opened }),
        };

  const resources = defined((reading) => reading.resources);
  const cpuShareMean = rateMean(
    defined((reading) => reading.cpu),
    markAt,
  );
  const processFigures: ServerFigures['process'] =
    resources.length === 0 || cpuShareMean === undefined
      ? undefined
      : {
          cpuShareMean,
          rssMaxBytes: max(resources.map((r) => r.rssBytes)),
          fdsMax: max(resources.map((r) => r.fds)),
        };

  const sockets = defined((reading) => reading.sockets);
  const socketFigures: ServerFigures['sockets'] =
    sockets.length === 0
      ? undefined
      : {
          establishedMax: max(sockets.map((s) => s.established)),
          timeWaitMax: max(sockets.map((s) => s.timeWait)),
          closeWaitMax: max(sockets.map((s) => s.closeWait)),
        };
  const newConnectionsPerSecMean = rateMean(
    defined((reading) => reading.connections),
    markAt,
  );

  const natives = defined((reading) => reading.native);
  const labels = [...new Set(natives.flatMap((values) => Object.keys(values)))];
  const native = Object.fromEntries(
    labels.map((label) => {
      const values = natives.flatMap((values) => (values[label] === undefined ? [] : [values[label]]));
      return [label, { mean: mean(values), max: max(values) }];
    }),
  );

  return {
    samples,
    ...(pool === undefined ? {} : { pool }),
    ...(labels.length === 0 ? {} : { native }),
    ...(processFigures === undefined ? {} : { process: processFigures }),
    ...(socketFigures === undefined ? {} : { sockets: socketFigures }),
    ...(newConnectionsPerSecMean === undefined ? {} : { newConnectionsPerSecMean }),
  };
}
