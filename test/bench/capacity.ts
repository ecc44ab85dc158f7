import { judgeProbe } from '../../harness/analysis/capacity-search.ts';
import { validateConfig } from '../../harness/config/layers.ts';
import { resolvePlan } from '../../harness/config/plan.ts';
import { calibrate } from '../../harness/tuning/calibrate.ts';
import { capacityRules, findCapacity } from '../../harness/tuning/capacity.ts';
import { stepIds } from '../../harness/tuning/step.ts';
import { capacityFor } from '../../harness/tuning/step-scenarios.ts';
import { scenarios } from '../../scenarios/index.ts';
import { bundledTargets } from '../../targets/index.ts';
import { withBenchSession } from './bench-session.ts';

/** The linear sweep never runs more than this many probes (it stops at its first failure before). */
const maxLinearProbes = 120;

/**
 * The capacity search (step 8) on the bundled http-pg against a linear rate sweep at 2% steps on the
 * same started target (asserts nothing): trials and wall time of each, their ratio, and how far apart
 * the two answers are. The linear sweep goes up from the steady rate by 2% of the capacity the search
 * found until its first probe fails, so it resolves the capacity as finely as the search's bracket,
 * then holds its answer with longer trials, 2% lower each time, until one holds, as the search does.
 */
export async function benchCapacity(log: (line: string) => void): Promise<Record<string, number>> {
  const plan = resolvePlan(validateConfig({}, 'bench'), { targets: bundledTargets, scenarios });
  const rules = capacityRules(plan);
  return withBenchSession(plan, plan.config.repetitions, async (session) => {
    const calibration = await calibrate(session, plan.knobs);
    const searchStart = performance.now();
    const before = session.trials.length;
    const found = await findCapacity(session, plan.knobs, 'given', calibration.noise.cv);
    const searchSeconds = (performance.now() - searchStart) / 1000;
    const searchTrials = session.trials.length - before;
    log(
      `search: ${found.capacity ?? '?'} req/s (${found.stoppedBy}; bracket ${found.bracket.low}–${found.bracket.high}), ${searchTrials} trials, ${searchSeconds.toFixed(1)} s`,
    );
    log(
      `  probes: ${found.probes.map((p) => `${p.rate}${p.validation ? ' (long)' : ''} ${p.verdict}`).join(', ')}`,
    );
    const capacity = found.capacity ?? rules.start;
    const step = rules.resolution * capacity;
    const linearStart = performance.now();
    let linearTrials = 0;
    let linearAnswer: number | undefined;
    const holds = async (rate: number, validation: boolean) => {
      const point = await session.point({
        step: stepIds.capacity,
        knobs: plan.knobs,
        scenario: capacityFor(plan, rate, validation),
        repetitions: 1,
        rerunInvalid: false,
      });
      linearTrials += point.trials.length;
      const trial = point.trials.at(-1);
      return trial !== undefined && judgeProbe(trial, rate, validation, rules.slo).verdict === 'pass';
    };
    for (let i = 0; i < maxLinearProbes; i++) {
      const rate = Math.round(rules.start + i * step);
      if (!(await holds(rate, false))) break;
      linearAnswer = rate;
    }
    // The same criterion as the search's answer: a longer trial must hold it, 2% steps down until one does.
    const shortAnswer = linearAnswer;
    for (let i = 0; linearAnswer !== undefined && i < maxLinearProbes; i++) {
      if (await holds(linearAnswer, true)) break;
      const lower = Math.round(linearAnswer - step);
      linearAnswer = lower >= rules.start ? lower : undefined;
    }
    const linearSeconds = (performance.now() - linearStart) / 1000;
    log(
      `linear sweep at 2% steps (${Math.round(step)} req/s): short probes held up to ${shortAnswer ?? '?'} req/s, a longer trial held ${linearAnswer ?? '?'} req/s; ${linearTrials} trials, ${linearSeconds.toFixed(1)} s`,
    );
    const agreement = linearAnswer === undefined ? Number.NaN : capacity / linearAnswer;
    log(
      `trials search / linear: ${(searchTrials / linearTrials).toFixed(2)}; wall time ${(searchSeconds / linearSeconds).toFixed(2)}; answers search / linear ${agreement.toFixed(3)}`,
    );
    return {
      capacitySearchTrials: searchTrials,
      capacitySearchSeconds: searchSeconds,
      capacityLinearTrials: linearTrials,
      capacityTrialsRatio: searchTrials / linearTrials,
      capacityTimeRatio: searchSeconds / linearSeconds,
      capacityAnswerRatio: agreement,
    };
  });
}
