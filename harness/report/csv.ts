import { maskUrl } from '../results/mask.ts';
import type { KnobValue, TrialResult } from '../results/trial.ts';
import { isMeasured } from '../results/trial.ts';

type Cell = string | number | boolean | undefined;

/** Figures of a measured trial, one column each (empty for trials without figures). */
const figureColumns: readonly [string, (trial: Extract<TrialResult, { client: unknown }>) => Cell][] = [
  ['throughput_rps', (t) => t.client.throughput],
  ['offered_rps', (t) => t.client.offeredRate],
  ['requests', (t) => t.client.requests],
  ['ok', (t) => t.client.ok],
  ['errors', (t) => Object.values(t.client.errors).reduce((a, b) => a + b, 0)],
  ['errors_by_kind', (t) => kinds(t.client.errors)],
  ['p50_ms', (t) => t.client.latency.p50],
  ['p90_ms', (t) => t.client.latency.p90],
  ['p99_ms', (t) => t.client.latency.p99],
  ['p999_ms', (t) => t.client.latency.p999],
  ['max_ms', (t) => t.client.latency.max],
  ['generator_cpu_share', (t) => t.client.generatorCpu.share],
  ['pool_total_max', (t) => t.server.pool?.totalMax],
  ['pool_idle_mean', (t) => t.server.pool?.idleMean],
  ['pool_waiting_mean', (t) => t.server.pool?.waitingMean],
  ['pool_waiting_max', (t) => t.server.pool?.waitingMax],
  ['acquire_wait_p99_ms', (t) => t.server.pool?.acquireWaitP99Ms],
  ['pool_connections_opened', (t) => t.server.pool?.connectionsOpened],
  [
    'pool_errors_by_kind',
    (t) => (t.server.pool?.errors === undefined ? undefined : kinds(t.server.pool.errors)),
  ],
  ['target_cpu_share', (t) => t.server.process?.cpuShareMean],
  ['target_rss_max_bytes', (t) => t.server.process?.rssMaxBytes],
  ['target_fds_max', (t) => t.server.process?.fdsMax],
  ['established_max', (t) => t.server.sockets?.establishedMax],
  ['time_wait_max', (t) => t.server.sockets?.timeWaitMax],
  ['close_wait_max', (t) => t.server.sockets?.closeWaitMax],
  ['new_connections_per_s', (t) => t.server.newConnectionsPerSecMean],
  // The target's own pool figures (`metrics.native`), `label=mean/max` each, `;`-separated.
  [
    'native',
    (t) =>
      t.server.native === undefined
        ? undefined
        : Object.entries(t.server.native)
            .map(([label, { mean, max }]) => `${label}=${mean}/${max}`)
            .join(';'),
  ],
];

/**
 * The trials as CSV (RFC 4180, CRLF line ends): one row per trial, one column per knob, the key client
 * and server figures, and why a trial did not complete. Pure.
 */
export function trialsCsv(trials: readonly TrialResult[]): string {
  const knobNames = [...new Set(trials.flatMap((trial) => Object.keys(trial.knobs)))].sort();
  const header = [
    'id',
    'step',
    'scenario',
    'driver',
    'repetition',
    'status',
    'started_at',
    'finished_at',
    ...knobNames.map((name) => `knob:${name}`),
    ...figureColumns.map(([name]) => name),
    'detail',
  ];
  const rows = trials.map((trial) => {
    const knobs = knobNames.map((name): Cell => trial.knobs[name] as KnobValue | undefined);
    const figures = figureColumns.map(([, read]) => (isMeasured(trial) ? read(trial) : undefined));
    const detail =
      trial.status === 'completed' ? '' : trial.status === 'errored' ? maskUrl(trial.error) : trial.reason;
    return [
      trial.id,
      trial.step,
      trial.scenario,
      trial.driver,
      trial.repetition,
      trial.status,
      trial.startedAt,
      trial.finishedAt,
      ...knobs,
      ...figures,
      detail,
    ];
  });
  return [header, ...rows]
    .map((row) => row.map(csvCell).join(','))
    .join('\r\n')
    .concat('\r\n');
}

function kinds(errors: Readonly<Record<string, number>>): string {
  return Object.entries(errors)
    .map(([kind, count]) => `${kind}=${count}`)
    .join(';');
}

/**
 * One CSV cell: quoted when it holds a comma, quote or line break; text that a spreadsheet would run as
 * a formula (`=`, `+`, `-`, `@` first) gets a leading apostrophe. Numbers are written as they are.
 */
export function csvCell(value: Cell): string {
  if (value === undefined) return '';
  if (typeof value !== 'string') return String(value);
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replaceAll('"', '""')}"` : safe;
}
