// A MethodSession that measures nothing: each trial's figures come from a planted function, so the
// method's decisions can be driven with exact, noisy or hostile data in a unit test. It stands in for
// the real session (which starts a target and sends load) only where a test says what it plants.

import type { Plan } from '../../harness/config/plan.ts';
import type { CompletedTrial, KnobValues, TrialResult } from '../../harness/results/trial.ts';
import type { BlockRequest, MethodSession, Point, PointRequest } from '../../harness/tuning/session.ts';
import type { Scenario } from '../../scenarios/scenario.ts';

/** What the planted target answers to one trial. */
export interface PlantedFigures {
  readonly throughput: number;
  readonly p99?: number;
  /** In-use connections in each sample (the pool's size is the trial's knob). */
  readonly inUse?: readonly number[];
  readonly waiting?: number;
  /** Connections the pool opened over the trial (churn). */
  readonly opened?: number;
}

/** The planted target: figures for a trial from its knobs, scenario and index in the run. */
export type Planted = (trial: { knobs: KnobValues; scenario: Scenario; index: number }) => PlantedFigures;

/** A completed trial carrying the planted figures. */
export function plantedTrial(
  key: { id: string; step: string; knobs: KnobValues; scenario: string; repetition: number },
  figures: PlantedFigures,
  durationMs = 3_000,
): CompletedTrial {
  const p99 = figures.p99 ?? 20;
  const requests = Math.round((figures.throughput * durationMs) / 1000);
  const samples = (figures.inUse ?? []).map((used, i) => ({
    atMs: i * 250,
    pool: { total: used, idle: 0, waiting: figures.waiting ?? 0 },
  }));
  return {
    ...key,
    driver: 'autocannon',
    startedAt: '2026-12-03T00:00:00.000Z',
    finishedAt: '2026-12-03T00:00:03.000Z',
    status: 'completed',
    client: {
      driver: 'autocannon',
      durationMs,
      requests,
      ok: requests,
      errors: {},
      throughput: figures.throughput,
      latency: {
        count: requests,
        mean: p99 / 3,
        min: 1,
        max: p99 * 2,
        p50: p99 / 4,
        p90: p99 / 2,
        p99,
        p999: p99 * 1.5,
      },
      // No histogram: the decisions read the summary figures, and the report reads none of these trials.
      histogram: '',
      generatorCpu: { userMs: 0, systemMs: 0, share: 0 },
    },
    server: {
      samples,
      pool: {
        waitingMean: figures.waiting ?? 0,
        ...(figures.opened === undefined ? {} : { connectionsOpened: figures.opened }),
      },
    },
  };
}

/** A {@link MethodSession} over a planted target; `trials` holds every trial in the order asked for. */
export class FakeSession implements MethodSession {
  readonly plan: Plan;
  readonly repetitions: number;
  readonly trials: TrialResult[] = [];
  readonly lines: string[] = [];
  /** Every total the progress display was told to expect. */
  readonly expected: number[] = [];
  readonly #planted: Planted;

  constructor(plan: Plan, planted: Planted, repetitions = plan.config.repetitions) {
    this.plan = plan;
    this.#planted = planted;
    this.repetitions = repetitions;
  }

  get aborted(): boolean {
    return false;
  }

  log(line: string): void {
    this.lines.push(line);
  }

  expect(moreTrials: number): void {
    this.expected.push(this.trials.length + moreTrials);
  }

  facts(): Record<string, string | number> {
    return { max_connections: 100 };
  }

  async point(request: PointRequest): Promise<Point> {
    const trials: TrialResult[] = [];
    for (let repetition = 1; repetition <= (request.repetitions ?? this.repetitions); repetition++) {
      trials.push(this.#trial(request, repetition));
    }
    return {
      knobs: request.knobs,
      scenario: request.scenario.name,
      trials,
      completed: trials.filter((t): t is CompletedTrial => t.status === 'completed'),
    };
  }

  async block(requests: readonly BlockRequest[]): Promise<TrialResult[]> {
    return requests.map((request) => this.#trial(request, request.repetition));
  }

  #trial(request: Omit<PointRequest, 'repetitions'>, repetition: number): TrialResult {
    const index = this.trials.length;
    const figures = this.#planted({ knobs: request.knobs, scenario: request.scenario, index });
    const trial = plantedTrial(
      {
        id: `t${String(index + 1).padStart(3, '0')}`,
        step: request.step,
        knobs: request.knobs,
        scenario: request.scenario.name,
        repetition,
      },
      figures,
    );
    this.trials.push(trial);
    return trial;
  }
}
