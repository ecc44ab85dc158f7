import { describe, expect, it } from 'vitest';
import {
  type CapacityMove,
  type CapacityRules,
  capacityResult,
  defaultCapacityRules,
  describeCapacity,
  judgeProbe,
  nextCapacityMove,
} from '../../harness/analysis/capacity-search.ts';
import { validateConfig } from '../../harness/config/layers.ts';
import { capacitySettings, resolvePlan } from '../../harness/config/plan.ts';
import type { CompletedTrial, InvalidTrial } from '../../harness/results/trial.ts';
import { capacityStep } from '../../harness/tuning/capacity.ts';
import type { CapacityProbe } from '../../harness/tuning/outcome.ts';
import { stepIds } from '../../harness/tuning/step.ts';
import { scenarios } from '../../scenarios/index.ts';
import { seededRandom } from '../../scenarios/schedule.ts';
import { bundledTargets } from '../../targets/index.ts';
import { FakeSession, plantedTrial } from '../helpers/fake-session.ts';

const slo = { p99Ms: 250, errorRate: 0.01 };
const rules: CapacityRules = { ...defaultCapacityRules, start: 300, maxRate: 20_000, slo };

/** A planted target: which rates hold, for a short probe and for the longer validation trial. */
type Holds = (rate: number, validation: boolean) => 'pass' | 'fail' | 'invalid';

function probe(rate: number, validation: boolean, verdict: CapacityProbe['verdict']): CapacityProbe {
  return {
    rate,
    validation,
    verdict,
    limit: verdict === 'pass' ? null : verdict === 'invalid' ? 'generator' : 'p99',
    why: verdict,
    achieved: rate,
    sustained: 1,
    p99Ms: verdict === 'pass' ? 20 : 900,
    errorRate: 0,
    trial: 't',
    trials: ['t'],
  };
}

/** Drives the pure search against a planted target until it stops (bounded by the rules' budget). */
function search(holds: Holds, given: CapacityRules = rules) {
  const probes: CapacityProbe[] = [];
  let move: CapacityMove = nextCapacityMove(probes, given);
  for (let i = 0; move.kind === 'probe' && i < 100; i++) {
    probes.push(probe(move.rate, move.validation, holds(move.rate, move.validation)));
    move = nextCapacityMove(probes, given);
  }
  if (move.kind !== 'done') throw new Error('the search did not stop');
  return { probes, done: move, result: capacityResult('recommended', {}, probes, move, 0.05) };
}

const threshold =
  (capacity: number): Holds =>
  (rate) =>
    rate <= capacity ? 'pass' : 'fail';

describe('the capacity search (pure)', () => {
  it('converges within 2% below the planted capacity, for capacities from 450 to 15,000 req/s', () => {
    const random = seededRandom(7);
    for (let i = 0; i < 200; i++) {
      const capacity = 450 + random() * 14_550;
      const { done, result, probes } = search(threshold(capacity));
      expect(done.stoppedBy).toBe('converged');
      expect(result.capacity).not.toBeNull();
      expect(result.capacity as number).toBeLessThanOrEqual(capacity);
      expect(result.capacity as number).toBeGreaterThanOrEqual(capacity * (1 - rules.resolution) - 1);
      expect(result.validated).toBe(true);
      // Exponential then bisection: a handful of probes, far fewer than a 2% linear sweep would take.
      const linear = Math.ceil((capacity - rules.start) / (rules.resolution * capacity)) + 1;
      expect(probes.length).toBeLessThan(linear);
      expect(probes.length).toBeLessThanOrEqual(rules.maxProbes + rules.maxLongProbes);
    }
  });

  it('goes up by doubling from the steady rate, then bisects, then validates once at the answer', () => {
    const { probes } = search(threshold(3_000));
    expect(probes.slice(0, 5).map((p) => p.rate)).toEqual([300, 600, 1_200, 2_400, 4_800]);
    expect(probes[5]?.rate).toBe(3_600);
    expect(probes.filter((p) => p.validation)).toHaveLength(1);
    expect(probes.at(-1)).toMatchObject({ validation: true, verdict: 'pass' });
  });

  it('stops at once ("doom") when the first rate already fails', () => {
    const { probes, done, result } = search(() => 'fail');
    expect(probes).toHaveLength(1);
    expect(done.stoppedBy).toBe('doom');
    expect(result.capacity).toBeNull();
    expect(describeCapacity(result)).toBe('below 300 req/s');
  });

  it('never takes a rate the generator limited as the capacity, and says the generator was the limit', () => {
    // The target would hold 9,000 req/s, but the generator cannot offer more than 2,000.
    const { done, result, probes } = search((rate) => (rate > 2_000 ? 'invalid' : 'pass'));
    expect(done.stoppedBy).toBe('generator-limited');
    expect(result.capacity as number).toBeLessThanOrEqual(2_000);
    expect(result.capacity as number).toBeGreaterThanOrEqual(2_000 * 0.98 - 1);
    expect(probes.some((p) => p.verdict === 'invalid' && p.rate === result.capacity)).toBe(false);
    expect(result.interval).toBeNull();
    expect(describeCapacity(result)).toMatch(/^at least .*generator/);
  });

  it('trusts only longer trials once a validation failed where short probes held', () => {
    // Short probes hold up to 3,600, but the queue a 3% overload builds breaks the SLO in a longer trial
    // above 3,300: the answer must be a rate a longer trial held, within 2% of 3,300.
    const holds: Holds = (rate, validation) => (rate <= (validation ? 3_300 : 3_600) ? 'pass' : 'fail');
    const { done, result, probes } = search(holds);
    expect(done.stoppedBy).toBe('converged');
    expect(result.capacity as number).toBeLessThanOrEqual(3_300);
    expect(result.capacity as number).toBeGreaterThanOrEqual(3_300 * 0.98 - 1);
    expect(probes.find((p) => p.rate === result.capacity && p.validation)?.verdict).toBe('pass');
  });

  it('probes the failure that bounds the answer once more, so one stall does not cap the capacity', () => {
    // The target holds 4,000 req/s, but the first probe at 2,400 hit a stall of the machine.
    let stalled = false;
    const holds: Holds = (rate) => {
      if (rate === 2_400 && !stalled) {
        stalled = true;
        return 'fail';
      }
      return rate <= 4_000 ? 'pass' : 'fail';
    };
    const { done, result, probes } = search(holds);
    expect(probes.filter((p) => p.rate === 2_400)).toHaveLength(2);
    expect(done.stoppedBy).toBe('converged');
    expect(result.capacity as number).toBeGreaterThanOrEqual(4_000 * 0.98 - 1);
    expect(result.capacity as number).toBeLessThanOrEqual(4_000);
  });

  it('validates what it has when its short probes run out, and says so when longer trials fail', () => {
    // Short probes hold up to 4,800 and fail above after one overturned stall; longer trials fail from 4,500.
    const holds: Holds = (rate, validation) => (rate <= (validation ? 4_400 : 4_800) ? 'pass' : 'fail');
    const { result, probes } = search(holds, { ...rules, maxProbes: 6 });
    expect(probes.filter((p) => !p.validation).length).toBeLessThanOrEqual(6);
    expect(probes.some((p) => p.validation)).toBe(true);
    expect(result.capacity === null || (result.capacity as number) <= 4_400).toBe(true);
    const failing = search(() => 'pass', { ...rules, maxProbes: 3 });
    expect(failing.done.stoppedBy).toBe('budget');
    expect(failing.result.capacity).toBe(1_200);
  });

  it('stops at tuning.capacity.maxRate when everything holds', () => {
    const { done, result } = search(() => 'pass', { ...rules, maxRate: 5_000 });
    expect(done.stoppedBy).toBe('max-rate');
    expect(result.capacity).toBe(5_000);
  });

  it('stops within its budget on a target that holds at random', () => {
    const random = seededRandom(3);
    const { probes, done } = search(() => (random() < 0.5 ? 'pass' : 'fail'));
    expect(probes.length).toBeLessThanOrEqual(rules.maxProbes + rules.maxLongProbes);
    expect(done.kind).toBe('done');
  });
});

describe('the hinted capacity search (pure)', () => {
  const hinted = (hint: number): CapacityRules => ({ ...rules, hint });

  it('runs longer trials only, from the hint, and converges within 2% in a few when the hint is near', () => {
    const random = seededRandom(11);
    for (let i = 0; i < 100; i++) {
      const capacity = 3_000 * (0.93 + 0.14 * random());
      const { probes, done, result } = search(threshold(capacity), hinted(3_000));
      expect(probes[0]?.rate).toBe(3_000);
      expect(probes.every((p) => p.validation)).toBe(true);
      expect(done.stoppedBy).toBe('converged');
      expect(result.capacity as number).toBeLessThanOrEqual(capacity);
      expect(result.capacity as number).toBeGreaterThanOrEqual(capacity * (1 - rules.resolution) - 1);
      // Hint, a step of 8% or 16%, and bisection: well under the dozen an unhinted search takes.
      expect(probes.length).toBeLessThanOrEqual(5);
    }
  });

  it('still converges within its budget when the hint is off by half, and holds a rate when further', () => {
    for (const capacity of [1_700, 5_500]) {
      const { probes, done, result } = search(threshold(capacity), hinted(3_000));
      expect(done.stoppedBy).toBe('converged');
      expect(result.capacity as number).toBeLessThanOrEqual(capacity);
      expect(result.capacity as number).toBeGreaterThanOrEqual(capacity * (1 - rules.resolution) - 1);
      expect(probes.length).toBeLessThanOrEqual(2 * rules.maxLongProbes);
    }
    // A third of the hint: the budget ends the search with a held rate within 5% below the capacity.
    const far = search(threshold(1_000), hinted(3_000));
    expect(far.done.stoppedBy).toBe('budget');
    expect(far.probes).toHaveLength(2 * rules.maxLongProbes);
    expect(far.result.capacity as number).toBeLessThanOrEqual(1_000);
    expect(far.result.capacity as number).toBeGreaterThan(950);
    expect(describeCapacity(far.result)).toMatch(/held for the longer trial, 1,009 req\/s did not/);
  });

  it('says the capacity is below the steady rate when longer trials fail down to it', () => {
    const { done, result } = search(() => 'fail', hinted(3_000));
    expect(done.stoppedBy).toBe('validation-failed');
    expect(result.capacity).toBeNull();
  });
});

describe('judging one probe', () => {
  const key = { id: 't001', step: stepIds.capacity, knobs: {}, scenario: 'capacity@1000', repetition: 1 };
  const trial = (figures: { throughput: number; p99?: number }): CompletedTrial => plantedTrial(key, figures);

  it('passes when p99 and errors are within the SLO and 97% of the offered rate completed', () => {
    expect(judgeProbe(trial({ throughput: 990 }), 1_000, false, slo).verdict).toBe('pass');
    expect(judgeProbe(trial({ throughput: 960 }), 1_000, false, slo)).toMatchObject({
      verdict: 'fail',
      limit: 'sustained',
    });
    expect(judgeProbe(trial({ throughput: 1_000, p99: 300 }), 1_000, false, slo)).toMatchObject({
      verdict: 'fail',
      limit: 'p99',
    });
  });

  it('calls a probe the generator fell behind on invalid, but one that hit the in-flight cap a failure', () => {
    const base = trial({ throughput: 900 });
    const behind: InvalidTrial = {
      ...base,
      status: 'invalid',
      reason: 'generator started 900 of 1000 req/s offered',
      client: { ...base.client, droppedStarts: 0 },
    };
    expect(judgeProbe(behind, 1_000, false, slo)).toMatchObject({ verdict: 'invalid', limit: 'generator' });
    const backlog: InvalidTrial = { ...behind, client: { ...behind.client, droppedStarts: 120 } };
    expect(judgeProbe(backlog, 1_000, false, slo)).toMatchObject({ verdict: 'fail', limit: 'sustained' });
  });
});

describe('step 8 in a run', () => {
  const plan = resolvePlan(validateConfig({}, 'test'), { targets: bundledTargets, scenarios });

  it('is on for tune and off for --quick unless tuning.capacity says otherwise', () => {
    expect(capacitySettings(plan.config).enabled).toBe(true);
    expect(capacitySettings(validateConfig({ quick: true }, 'test')).enabled).toBe(false);
    const forced = validateConfig({ quick: true, tuning: { capacity: { maxRate: 900 } } }, 'test');
    expect(capacitySettings(forced)).toEqual({ enabled: true, maxRate: 900 });
  });

  it('searches the recommended and then the starting settings, each to its own planted capacity', async () => {
    // The planted target holds more with a larger pool: max=16 sustains 3,200 req/s, max=10 2,000.
    const session = new FakeSession(plan, ({ knobs, scenario }) => {
      const rate =
        scenario.model === 'open' && scenario.arrival.kind === 'poisson' ? scenario.arrival.rate : 0;
      const capacity = knobs.max === 16 ? 3_200 : 2_000;
      return rate <= capacity ? { throughput: rate, p99: 30 } : { throughput: capacity, p99: 1_500 };
    });
    const starting = plan.knobs;
    const { outcome, report } = await capacityStep(session, { ...starting, max: 16 }, starting, 0.04);
    const [recommended, before] = outcome.results;
    expect(recommended?.label).toBe('recommended');
    expect(recommended?.capacity as number).toBeGreaterThanOrEqual(3_200 * 0.98 - 1);
    expect(recommended?.capacity as number).toBeLessThanOrEqual(3_200);
    expect(before?.label).toBe('starting');
    expect(before?.capacity as number).toBeLessThanOrEqual(2_000);
    expect(before?.capacity as number).toBeGreaterThanOrEqual(2_000 * 0.98 - 1);
    expect(session.trials.every((t) => t.step === stepIds.capacity)).toBe(true);
    // The validation holds the load longer than a probe.
    const validation = session.trials.find((t) => t.scenario.startsWith('capacity-validate@'));
    expect(validation).toBeDefined();
    expect(report.decided).toMatch(/at the recommended settings against .* at the starting settings/);
    expect(recommended?.interval?.low).toBeLessThan(recommended?.capacity as number);
    // The starting settings' search starts from the recommended ones' capacity, with longer trials only.
    expect(before?.probes[0]?.rate).toBe(recommended?.capacity);
    expect(before?.probes.every((p) => p.validation)).toBe(true);
    expect(before?.stoppedBy).toBe('converged');
  });

  it('runs once when the recommended settings are the starting ones', async () => {
    const session = new FakeSession(plan, () => ({ throughput: 100, p99: 1_000 }));
    const { outcome } = await capacityStep(session, plan.knobs, { ...plan.knobs }, null);
    expect(outcome.results.map((r) => r.label)).toEqual(['recommended']);
    expect(outcome.results[0]?.stoppedBy).toBe('doom');
  });
});
