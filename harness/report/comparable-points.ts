import { decodeHistogram, encodeHistogram, mergeHistograms } from '../analysis/histogram.ts';
import type { CompletedTrial, KnobValues, TrialResult } from '../results/trial.ts';
import type { ComparablePoint } from './summary-schema.ts';

/**
 * The key that makes points comparable across runs: `scenario|knob=value,...`, knobs sorted by name.
 * The step is not part of it: the same scenario at the same settings measures the same thing.
 */
export function pointKey(scenario: string, knobs: KnobValues): string {
  const pairs = Object.keys(knobs)
    .sort()
    .map((name) => `${name}=${String(knobs[name])}`);
  return `${scenario}|${pairs.join(',')}`;
}

/**
 * A run's completed trials grouped by scenario and knob values, in the order each point was first
 * measured, with every repetition's figures and their latency histograms merged (pure). Invalid,
 * errored and aborted trials are left out, as they are from the run's own statistics. A point that
 * several steps measured keeps the step that measured it first.
 */
export function comparablePoints(trials: readonly TrialResult[]): ComparablePoint[] {
  const groups = new Map<string, CompletedTrial[]>();
  for (const trial of trials) {
    if (trial.status !== 'completed') continue;
    const key = pointKey(trial.scenario, trial.knobs);
    const group = groups.get(key);
    if (group === undefined) groups.set(key, [trial]);
    else group.push(trial);
  }
  return [...groups].map(([key, group]) => {
    const first = group[0] as CompletedTrial;
    return {
      key,
      scenario: first.scenario,
      step: first.step,
      knobs: { ...first.knobs },
      trials: group.map((trial) => trial.id),
      throughputs: group.map((trial) => trial.client.throughput),
      p99Ms: group.map((trial) => trial.client.latency.p99),
      errorRates: group.map(errorRate),
      histogram: encodeHistogram(
        mergeHistograms(group.map((trial) => decodeHistogram(trial.client.histogram))),
      ),
    };
  });
}

/**
 * Failed requests over attempts, as the run's own statistics count them (`analysis/point-stats.ts`):
 * non-2xx responses are in `requests` and under `status:NNN`; transport errors got no response, so
 * they add to the attempts.
 */
function errorRate(trial: CompletedTrial): number {
  let transport = 0;
  for (const [kind, count] of Object.entries(trial.client.errors)) {
    if (!kind.startsWith('status:')) transport += count;
  }
  const attempts = trial.client.requests + transport;
  return attempts === 0 ? 0 : (trial.client.requests - trial.client.ok + transport) / attempts;
}
