/**
 * The k6 script template for pooltune scenarios, typed against @types/k6.
 *
 * harness/drivers/k6-script.ts replaces the `declare const POOLTUNE_PLAN` line below with the plan as a
 * typed literal and bundles the result to plain JavaScript (k6 before v0.52 runs no TypeScript).
 * Everything here runs inside k6 (goja): it may import only k6 modules and pure pooltune modules that
 * esbuild inlines, and no Node API (test/unit/k6-script.test.ts type-checks it without Node's types).
 *
 * The names below (scenario names, tags, env vars, the measure-start marker) are repeated in
 * harness/drivers/k6-results.ts and k6.ts, which this file cannot import; test/unit/k6-script.test.ts
 * checks that both sides agree.
 */
import exec from 'k6/execution';
import http from 'k6/http';
import type { Scenario as K6Scenario, Options, Stage } from 'k6/options';
import type { Arrival, ClosedScenario, OpenScenario, RequestSpec, Scenario } from '../scenario.ts';
import { requestPicker, seededRandom, segmentsOf } from '../schedule.ts';

/** What the generator injects: the scenario to run, the default target URL and the mix seed. */
export interface K6Plan {
  readonly scenario: Scenario;
  /** Used when the run sets no `POOLTUNE_TARGET_URL` env var. */
  readonly url: string;
  readonly seed: number;
  /** Open model: VUs k6 creates before the start; by default enough for 100 ms per request at peak. */
  readonly preAllocatedVUs?: number;
}

// The generator replaces this exact line with `const POOLTUNE_PLAN: K6Plan = {...};`.
declare const POOLTUNE_PLAN: K6Plan;

const phaseTag = 'pooltune_phase';
const stageTag = 'pooltune_stage';
const warmupScenario = 'warmup';
const measureScenario = 'measure';
const measureMarker = 'pooltune:measure-start';

/** Seconds of in-flight time per request that pre-allocated VUs cover at the peak rate (Little's law). */
const preAllocateSeconds = 0.1;

const ms = (value: number): string => `${Math.max(0, Math.round(value))}ms`;

/** Closed model: warm-up, then one `constant-vus` scenario per stage, back to back via `startTime`. */
function closedScenarios(scenario: ClosedScenario): Record<string, K6Scenario> {
  // gracefulStop lets an in-flight request finish (at most the request timeout) instead of cutting it,
  // so no slow response is lost from the figures; the next stage starts on time regardless.
  const gracefulStop = ms(scenario.requestTimeoutMs);
  const scenarios: Record<string, K6Scenario> = {};
  const first = scenario.stages[0];
  if (scenario.warmupMs > 0 && first !== undefined) {
    scenarios[warmupScenario] = {
      executor: 'constant-vus',
      vus: first.connections,
      duration: ms(scenario.warmupMs),
      gracefulStop,
      tags: { [phaseTag]: 'warmup' },
    };
  }
  let offset = scenario.warmupMs;
  scenario.stages.forEach((stage, index) => {
    scenarios[`stage_${index}`] = {
      executor: 'constant-vus',
      vus: stage.connections,
      duration: ms(stage.durationMs),
      startTime: ms(offset),
      gracefulStop,
      tags: { [phaseTag]: 'measure', [stageTag]: String(index) },
    };
    offset += stage.durationMs;
  });
  return scenarios;
}

/** The rates an arrival shape uses, for choosing a time unit and the VU budget. */
function ratesOf(arrival: Arrival): number[] {
  switch (arrival.kind) {
    case 'constant':
    case 'poisson':
      return [arrival.rate];
    case 'ramp':
      return [arrival.from, arrival.to];
    case 'burst':
      return [arrival.baseRate, arrival.burstRate];
    case 'idle-gaps':
      return [arrival.rate, 0];
  }
}

/** The rate warm-up runs at: the shape's resting rate. */
function warmupRate(arrival: Arrival): number {
  switch (arrival.kind) {
    case 'ramp':
      return arrival.from;
    case 'burst':
      return arrival.baseRate;
    default:
      return arrival.rate;
  }
}

/** k6 takes integer rates per `timeUnit`: the smallest unit of 1, 10, 100 or 1000 s that makes them whole. */
function rateUnit(rates: readonly number[]): { readonly timeUnit: string; readonly scale: number } {
  for (const scale of [1, 10, 100, 1000]) {
    if (rates.every((rate) => Math.abs(rate * scale - Math.round(rate * scale)) < 1e-9)) {
      return { timeUnit: `${scale}s`, scale };
    }
  }
  return { timeUnit: '1000s', scale: 1000 };
}

/**
 * Open model: warm-up at the resting rate, then one measured scenario. Constant -> `constant-arrival-rate`;
 * poisson is APPROXIMATED by `constant-arrival-rate` (k6 has no Poisson executor: arrivals are evenly
 * spaced, so the queueing seen is milder than true Poisson arrivals); ramp, burst and idle-gaps ->
 * `ramping-arrival-rate` stages (a 0 s stage jumps to a rate at once, the next holds it).
 * A VU runs one request at a time, so maxVUs = maxInFlight caps requests in flight and k6 counts the
 * starts it could not make in `dropped_iterations`.
 */
function openScenarios(
  scenario: OpenScenario,
  preAllocatedVUs: number | undefined,
): Record<string, K6Scenario> {
  const { arrival } = scenario;
  const { timeUnit, scale } = rateUnit(ratesOf(arrival));
  const perUnit = (rate: number): number => Math.round(rate * scale);
  const maxVUs = Math.max(1, scenario.maxInFlight);
  const budget = (rate: number): number =>
    Math.min(maxVUs, preAllocatedVUs ?? Math.max(1, Math.ceil(rate * preAllocateSeconds)));
  const peak = Math.max(...ratesOf(arrival));
  const gracefulStop = ms(scenario.requestTimeoutMs);
  const scenarios: Record<string, K6Scenario> = {};
  const restRate = warmupRate(arrival);
  if (scenario.warmupMs > 0 && perUnit(restRate) > 0) {
    scenarios[warmupScenario] = {
      executor: 'constant-arrival-rate',
      rate: perUnit(restRate),
      timeUnit,
      duration: ms(scenario.warmupMs),
      preAllocatedVUs: budget(restRate),
      maxVUs,
      gracefulStop,
      tags: { [phaseTag]: 'warmup' },
    };
  }
  const common = {
    startTime: ms(scenario.warmupMs),
    timeUnit,
    preAllocatedVUs: budget(peak),
    maxVUs,
    gracefulStop,
    tags: { [phaseTag]: 'measure' },
  };
  if (arrival.kind === 'constant' || arrival.kind === 'poisson') {
    scenarios[measureScenario] = {
      executor: 'constant-arrival-rate',
      rate: perUnit(arrival.rate),
      duration: ms(scenario.durationMs),
      ...common,
    };
  } else if (arrival.kind === 'ramp') {
    scenarios[measureScenario] = {
      executor: 'ramping-arrival-rate',
      startRate: perUnit(arrival.from),
      stages: [{ target: perUnit(arrival.to), duration: ms(scenario.durationMs) }],
      ...common,
    };
  } else {
    const parts = segmentsOf(arrival, scenario.durationMs).map((segment) => ({
      rate: segment.rate,
      lengthMs: segment.endMs - segment.startMs,
    }));
    const stages: Stage[] = [];
    let current = parts[0]?.rate ?? 0;
    for (const part of parts) {
      if (part.rate !== current) stages.push({ target: perUnit(part.rate), duration: '0s' });
      stages.push({ target: perUnit(part.rate), duration: ms(part.lengthMs) });
      current = part.rate;
    }
    scenarios[measureScenario] = {
      executor: 'ramping-arrival-rate',
      startRate: perUnit(parts[0]?.rate ?? 0),
      stages,
      ...common,
    };
  }
  return scenarios;
}

/**
 * Always-true thresholds: their only job is to make k6 keep sub-metrics of the measured window (and of
 * each closed stage) so the end-of-test summary reports them apart from warm-up.
 */
function measuredThresholds(scenario: Scenario): Record<string, string[]> {
  const phase = `${phaseTag}:measure`;
  const thresholds: Record<string, string[]> = {
    [`http_reqs{${phase}}`]: ['count>=0'],
    [`http_req_duration{${phase}}`]: ['max>=0'],
    [`http_req_failed{${phase}}`]: ['rate>=0'],
    [`iterations{${phase}}`]: ['count>=0'],
  };
  if (scenario.model === 'open') {
    // dropped_iterations carries the scenario name but not the scenario's own tags.
    thresholds[`dropped_iterations{scenario:${measureScenario}}`] = ['count>=0'];
  } else {
    scenario.stages.forEach((_stage, index) => {
      const stage = `${stageTag}:${index}`;
      thresholds[`http_reqs{${stage}}`] = ['count>=0'];
      thresholds[`http_req_duration{${stage}}`] = ['max>=0'];
      thresholds[`http_req_failed{${stage}}`] = ['rate>=0'];
    });
  }
  return thresholds;
}

/** The k6 options for a plan. */
function k6Options(plan: K6Plan): Options {
  const { scenario } = plan;
  return {
    scenarios:
      scenario.model === 'closed' ? closedScenarios(scenario) : openScenarios(scenario, plan.preAllocatedVUs),
    thresholds: measuredThresholds(scenario),
    summaryTrendStats: ['count', 'avg', 'min', 'med', 'max', 'p(90)', 'p(95)', 'p(99)', 'p(99.9)'],
    // Fewer tags keep the `--out json` file small; `scenario` must stay (warm-up is told apart by it).
    systemTags: ['scenario', 'status', 'method', 'name', 'error_code', 'expected_response'],
    discardResponseBodies: true,
  };
}

/** The k6 options: scenarios mapped from the pooltune scenario. */
export const options: Options = k6Options(POOLTUNE_PLAN);

const firstMeasured = POOLTUNE_PLAN.scenario.model === 'closed' ? 'stage_0' : measureScenario;
const baseUrl = (__ENV.POOLTUNE_TARGET_URL || POOLTUNE_PLAN.url).replace(/\/+$/, '');
const timeout = ms(POOLTUNE_PLAN.scenario.requestTimeoutMs);
let pick: (() => RequestSpec) | undefined;

/** One iteration: one request drawn from the mix by weight, with the scenario's timeout. */
export default function iteration(): void {
  if (exec.scenario.name === firstMeasured && exec.scenario.iterationInTest === 0) {
    // The driver watches stderr for this line to align collectors with the measured window.
    console.log(measureMarker);
  }
  // Each VU draws from its own seeded stream, so runs with the same seed send the same mix.
  pick ??= requestPicker(
    POOLTUNE_PLAN.scenario.mix,
    seededRandom((POOLTUNE_PLAN.seed ^ Math.imul(exec.vu.idInTest, 0x9e3779b1)) >>> 0),
  );
  const spec = pick();
  http.request(spec.method, `${baseUrl}${spec.path}`, spec.method === 'POST' ? '' : null, {
    timeout,
    tags: { name: spec.name },
  });
}

/** Writes the summary data as JSON to `POOLTUNE_SUMMARY_PATH` (to stdout when it is not set). */
export function handleSummary(data: Record<string, unknown>): Record<string, string> {
  const path = __ENV.POOLTUNE_SUMMARY_PATH;
  const json = JSON.stringify(data);
  return path ? { [path]: json } : { stdout: `${json}\n` };
}
