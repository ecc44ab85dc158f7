import type { KnobValues } from '../results/trial.ts';
import { isMeasured, type TrialResult } from '../results/trial.ts';
import type { CapacityOutcome, CapacityProbe, CapacityResult, CapacityStop } from '../tuning/outcome.ts';
import { pointStats } from './point-stats.ts';
import { maxGeneratorCpuShare, minAchievedRatio } from './tagging.ts';

// The capacity search's decisions (step 8), pure: how a probe is judged, where the bracket is, which
// rate comes next, and how the answer is said. Searched the way Nighthawk's adaptive load controller
// does: exponential steps up from the steady rate, bisection until the bracket is within 2%, then one
// longer trial at the answer. harness/tuning/capacity.ts runs the trials.

/** How the capacity search goes. */
export interface CapacityRules {
  /** The first rate offered (the steady rate), req/s. */
  readonly start: number;
  /** Each exponential step multiplies the rate by this. */
  readonly factor: number;
  /** The search never offers more than this (`tuning.capacity.maxRate`). */
  readonly maxRate: number;
  /** Bisection stops when (lowest failing − highest holding) / lowest failing is at most this. */
  readonly resolution: number;
  /** Short probes the search may run per setting; after them it validates what it has. */
  readonly maxProbes: number;
  /** Longer trials (validations) it may run per setting. */
  readonly maxLongProbes: number;
  readonly slo: { readonly p99Ms: number; readonly errorRate: number };
  /**
   * A capacity found at similar settings (step 8's first setting, for the second): the search then
   * runs longer trials only, from there (see {@link nextHintedMove}).
   */
  readonly hint?: number;
}

/** The defaults: doubling, 2%, at most 16 short probes and 5 longer trials per setting. */
export const defaultCapacityRules = {
  factor: 2,
  resolution: 0.02,
  maxProbes: 16,
  maxLongProbes: 5,
} as const;

/** The search's next move: a probe at a rate (a validation is held longer), or the end and why. */
export type CapacityMove =
  | { readonly kind: 'probe'; readonly rate: number; readonly validation: boolean }
  | { readonly kind: 'done'; readonly stoppedBy: CapacityStop; readonly why: string };

/** `2,900`: a rate rounded, thousands grouped. */
const grouped = (rate: number): string => Math.round(rate).toLocaleString('en-US');

/** `2,900 req/s` */
export const rateText = (rate: number): string => `${grouped(rate)} req/s`;

/**
 * One probe's verdict from its trial (pure). The target held when p99 and the error rate are within
 * the SLO and it completed at least 97% of the offered rate. An invalid trial whose generator fell
 * behind (its CPU saturated, or it started late without dropping anything) says nothing about the
 * target: it is `invalid`, never a failure. One that dropped starts because 2,000 requests were
 * already in flight measured the target's backlog: that is a failure.
 */
export function judgeProbe(
  trial: TrialResult,
  rate: number,
  validation: boolean,
  slo: CapacityRules['slo'],
  trials: readonly string[] = [trial.id],
): CapacityProbe {
  const base = { rate, validation, trial: trial.id, trials: [...trials] };
  if (!isMeasured(trial)) {
    return {
      ...base,
      verdict: 'fail',
      limit: 'no-data',
      why: trial.status === 'errored' ? `the trial errored: ${trial.error}` : `the trial was ${trial.status}`,
      achieved: null,
      sustained: null,
      p99Ms: null,
      errorRate: null,
    };
  }
  const { client } = trial;
  const stats = pointStats([trial]);
  const offered = client.offeredRate !== undefined && client.offeredRate > 0 ? client.offeredRate : rate;
  const sustained = client.throughput / offered;
  const figures = {
    achieved: client.throughput,
    sustained,
    p99Ms: client.latency.p99,
    errorRate: stats?.errorRate ?? 0,
  };
  const dropped = client.droppedStarts ?? 0;
  const generatorBusy =
    client.generatorCpu.share / (client.generatorCpu.processes ?? 1) >= maxGeneratorCpuShare;
  const judged = (
    verdict: CapacityProbe['verdict'],
    limit: CapacityProbe['limit'],
    why: string,
  ): CapacityProbe => ({ ...base, ...figures, verdict, limit, why });
  if (trial.status === 'invalid' && (generatorBusy || dropped === 0)) {
    return judged('invalid', 'generator', trial.reason);
  }
  if (figures.p99Ms > slo.p99Ms) {
    return judged('fail', 'p99', `p99 ${figures.p99Ms.toFixed(1)} ms > ${slo.p99Ms} ms`);
  }
  if (figures.errorRate > slo.errorRate) {
    const rates = `${(figures.errorRate * 100).toFixed(2)}% > ${(slo.errorRate * 100).toFixed(2)}%`;
    return judged('fail', 'errors', `error rate ${rates}`);
  }
  if (sustained < minAchievedRatio) {
    const drops = dropped > 0 ? `, ${dropped} starts dropped with the in-flight cap reached` : '';
    return judged(
      'fail',
      'sustained',
      `completed ${rateText(client.throughput)} of ${rateText(offered)} offered (${(sustained * 100).toFixed(1)}% < ${minAchievedRatio * 100}%)${drops}`,
    );
  }
  return judged(
    'pass',
    null,
    `p99 ${figures.p99Ms.toFixed(1)} ms, ${(sustained * 100).toFixed(1)}% of the offered rate completed`,
  );
}

/**
 * The probes the bracket is read from: all of them, until a validation failed. A short probe just over
 * the capacity can pass (the queue has not grown enough in it to break the SLO yet), so once a longer
 * trial failed where short ones held, only the longer trials decide.
 */
export function decidingProbes(probes: readonly CapacityProbe[]): readonly CapacityProbe[] {
  const kept = longerTrialFailed(probes) ? probes.filter((p) => p.validation) : probes;
  // A rate probed again (a failure being confirmed) counts by its latest probe.
  return kept.filter((p, i) => !kept.slice(i + 1).some((later) => later.rate === p.rate));
}

/** True once a longer trial (a validation) did not hold: from then on only longer trials decide. */
function longerTrialFailed(probes: readonly CapacityProbe[]): boolean {
  return probes.some((p) => p.validation && p.verdict !== 'pass');
}

/** The bracket the probes set: the highest rate that held below the lowest that did not. */
export function capacityBracket(probes: readonly CapacityProbe[]): {
  readonly low: number | undefined;
  readonly high: number | undefined;
  readonly highVerdict: 'fail' | 'invalid' | undefined;
} {
  const lowest = (verdict: CapacityProbe['verdict']) =>
    Math.min(...probes.filter((p) => p.verdict === verdict).map((p) => p.rate));
  const fail = lowest('fail');
  const invalid = lowest('invalid');
  const high = Math.min(fail, invalid);
  // On a noisy machine a rate above a failure can pass by luck: the bracket ends at the first failure.
  const held = probes.filter((p) => p.verdict === 'pass' && p.rate < high).map((p) => p.rate);
  return {
    low: held.length === 0 ? undefined : Math.max(...held),
    high: Number.isFinite(high) ? high : undefined,
    highVerdict: Number.isFinite(high) ? (invalid < fail ? 'invalid' : 'fail') : undefined,
  };
}

/**
 * The next move of the capacity search (pure). Short probes first: the start rate; then `factor` times
 * the highest rate that held until one fails or `maxRate` is reached; then the midpoint of the bracket
 * until it is within `resolution`; then the failure at the bracket's top once more (a rate probed again
 * counts by its latest probe: if it holds now, the search goes on above it); then one longer trial (the
 * validation) at the bracket's bottom. If
 * that holds, the search has converged. If it fails, short probes are no longer trusted: the search
 * goes on with longer trials only, stepping down by 4 × `resolution` until one holds and bisecting
 * between them, so the answer is always a rate a longer trial held. It stops at once ("doom") when
 * the first rate fails, and reports the generator as the limit when the bracket's top is an invalid
 * probe.
 */
export function nextCapacityMove(probes: readonly CapacityProbe[], rules: CapacityRules): CapacityMove {
  if (rules.hint !== undefined) return nextHintedMove(probes, rules, rules.hint);
  const first = probes[0];
  if (first === undefined) {
    return { kind: 'probe', rate: Math.min(rules.start, rules.maxRate), validation: false };
  }
  const deciding = decidingProbes(probes);
  const long = longerTrialFailed(probes);
  const { low, high, highVerdict } = capacityBracket(deciding);
  if (low === undefined && !long) {
    if (first.verdict === 'invalid') {
      return {
        kind: 'done',
        stoppedBy: 'generator-limited',
        why: `the load generator was the limit already at ${rateText(first.rate)} (${first.why})`,
      };
    }
    return {
      kind: 'done',
      stoppedBy: 'doom',
      why: `the first rate, ${rateText(first.rate)}, already failed (${first.why}): the capacity is below it`,
    };
  }
  const narrow = low !== undefined && high !== undefined && (high - low) / high <= rules.resolution;
  const validated = deciding.some((p) => p.validation && p.verdict === 'pass' && p.rate === low);
  if (validated && (narrow || !long)) {
    return {
      kind: 'done',
      stoppedBy: 'converged',
      why: `${rateText(low ?? 0)} held for the longer trial and ${high === undefined ? 'the ceiling' : rateText(high)} did not`,
    };
  }
  const longProbes = probes.filter((p) => p.validation).length;
  if (long && longProbes >= rules.maxLongProbes) {
    return {
      kind: 'done',
      stoppedBy: 'validation-failed',
      why: `${longProbes} longer trials spent with the bracket at ${low === undefined ? '?' : rateText(low)}–${high === undefined ? '?' : rateText(high)}, after a longer trial failed where short probes held`,
    };
  }
  const shortSpent = probes.length - longProbes >= rules.maxProbes;
  if (!long && shortSpent && high === undefined) {
    return {
      kind: 'done',
      stoppedBy: 'budget',
      why: `${rules.maxProbes} probes spent and ${rateText(low ?? 0)} still held`,
    };
  }
  if (long) {
    const top = high ?? first.rate;
    const next = low === undefined ? top * (1 - 4 * rules.resolution) : (low + top) / 2;
    if (low === undefined && next < rules.start) {
      return {
        kind: 'done',
        stoppedBy: 'validation-failed',
        why: `longer trials failed down to ${rateText(top)}, below which the search does not go (the steady rate)`,
      };
    }
    return { kind: 'probe', rate: Math.round(next), validation: true };
  }
  if (high === undefined) {
    if ((low ?? 0) >= rules.maxRate) {
      return {
        kind: 'done',
        stoppedBy: 'max-rate',
        why: `${rateText(low ?? 0)}, the ceiling tuning.capacity.maxRate, held: the capacity is at least that`,
      };
    }
    // Once a failure was seen (a stall that a second probe overturned), the capacity is nearer: smaller steps.
    const factor = probes.some((p) => p.verdict === 'fail') ? Math.sqrt(rules.factor) : rules.factor;
    return {
      kind: 'probe',
      rate: Math.min(Math.round((low ?? 0) * factor), rules.maxRate),
      validation: false,
    };
  }
  // Out of short probes: validate what the bracket has rather than stop without an answer.
  if (!narrow && !shortSpent) {
    return { kind: 'probe', rate: Math.round(((low ?? 0) + high) / 2), validation: false };
  }
  // Converged against one failure: on a shared machine one stall fails a probe, and every rate below
  // it then holds, so the failure that bounds the answer is probed once more before it is believed.
  const atTop = probes.filter((p) => p.rate === high && !p.validation);
  if (highVerdict === 'fail' && atTop.length === 1 && !shortSpent) {
    return { kind: 'probe', rate: high, validation: false };
  }
  if (highVerdict === 'invalid') {
    return {
      kind: 'done',
      stoppedBy: 'generator-limited',
      why: `the load generator was the limit at ${rateText(high)} while the target still held ${rateText(low ?? 0)}: the capacity is at least ${rateText(low ?? 0)}, and this machine cannot offer more`,
    };
  }
  return { kind: 'probe', rate: low ?? 0, validation: true };
}

/**
 * Longer trials a hinted search may run: twice an unhinted one's, since it runs no short probes. Near
 * the hint it takes about four; a capacity half the hint's takes about nine.
 */
export const hintedLongProbes = (rules: Pick<CapacityRules, 'maxLongProbes'>): number =>
  2 * rules.maxLongProbes;

/**
 * The next move of a hinted search (pure): the setting is close to one whose capacity is known, so
 * short probes would only climb again to where the longer trials decide anyway. Longer trials only:
 * the hint first; then away from it, up while they hold and down while they fail, by 4 × `resolution`
 * and twice as far each step (8%, 16%, 32% …); then bisection until the bracket is within
 * `resolution`. The answer is a rate a longer trial held, below one a longer trial failed.
 */
export function nextHintedMove(
  probes: readonly CapacityProbe[],
  rules: CapacityRules,
  hint: number,
): CapacityMove {
  const { low, high, highVerdict } = capacityBracket(decidingProbes(probes));
  const budget = hintedLongProbes(rules);
  const spent = probes.length >= budget;
  const range = `${low === undefined ? '?' : rateText(low)}–${high === undefined ? '?' : rateText(high)}`;
  if (probes.length === 0)
    return { kind: 'probe', rate: Math.round(Math.min(hint, rules.maxRate)), validation: true };
  if (low !== undefined && high !== undefined) {
    if (highVerdict === 'invalid') {
      return {
        kind: 'done',
        stoppedBy: 'generator-limited',
        why: `the load generator was the limit at ${rateText(high)} while the target still held ${rateText(low)}`,
      };
    }
    if ((high - low) / high <= rules.resolution) {
      return {
        kind: 'done',
        stoppedBy: 'converged',
        why: `${rateText(low)} held for the longer trial and ${rateText(high)} did not`,
      };
    }
  }
  if (spent) {
    return {
      kind: 'done',
      stoppedBy: 'budget',
      why: `${budget} longer trials spent with the bracket at ${range}`,
    };
  }
  if (low !== undefined && high !== undefined) {
    return { kind: 'probe', rate: Math.round((low + high) / 2), validation: true };
  }
  const step = 4 * rules.resolution * 2 ** (probes.length - 1);
  if (low === undefined) {
    const top = high ?? hint;
    if (highVerdict === 'invalid') {
      return {
        kind: 'done',
        stoppedBy: 'generator-limited',
        why: `the load generator was the limit already at ${rateText(top)}`,
      };
    }
    const next = top * Math.max(0, 1 - step);
    if (next < rules.start) {
      return {
        kind: 'done',
        stoppedBy: 'validation-failed',
        why: `longer trials failed down to ${rateText(top)}, below which the search does not go (the steady rate)`,
      };
    }
    return { kind: 'probe', rate: Math.round(next), validation: true };
  }
  if (low >= rules.maxRate) {
    return {
      kind: 'done',
      stoppedBy: 'max-rate',
      why: `${rateText(low)}, the ceiling tuning.capacity.maxRate, held: the capacity is at least that`,
    };
  }
  return { kind: 'probe', rate: Math.round(Math.min(low * (1 + step), rules.maxRate)), validation: true };
}

/**
 * The capacity the probes found (pure). The interval is the bracket widened by the machine's
 * run-to-run noise at 95% (±1.96 × the calibration's CV), the noise a repeated search on the same
 * machine would meet. Only a converged search with a measured noise has one.
 */
export function capacityResult(
  label: CapacityResult['label'],
  knobs: KnobValues,
  probes: readonly CapacityProbe[],
  done: { readonly stoppedBy: CapacityStop; readonly why: string },
  noiseCv: number | null,
): CapacityResult {
  const { low, high } = capacityBracket(decidingProbes(probes));
  const validated = probes.some((p) => p.validation && p.verdict === 'pass' && p.rate === low);
  const spread = 1.96 * (noiseCv ?? 0);
  const interval =
    done.stoppedBy === 'converged' && low !== undefined && high !== undefined && noiseCv !== null
      ? { low: Math.round(low * (1 - spread)), high: Math.round(high * (1 + spread)) }
      : null;
  return {
    label,
    knobs: { ...knobs },
    capacity: low ?? null,
    validated,
    bracket: { low: low ?? null, high: high ?? null },
    interval,
    stoppedBy: done.stoppedBy,
    why: done.why,
    probes: [...probes],
  };
}

/** "2,900 req/s (95% CI 2,800–3,000)" or why there is no figure. */
export function describeCapacity(result: CapacityResult): string {
  if (result.capacity === null) {
    return result.stoppedBy === 'doom'
      ? `below ${rateText(result.probes[0]?.rate ?? 0)}`
      : result.stoppedBy === 'generator-limited'
        ? 'not found: the load generator was the limit first'
        : result.stoppedBy === 'validation-failed' && result.bracket.high !== null
          ? `below ${rateText(result.bracket.high)} (longer trials failed down to there)`
          : 'not found';
  }
  const figure = rateText(result.capacity);
  switch (result.stoppedBy) {
    case 'converged':
      return result.interval === null
        ? `${figure} (bracket ${figure}–${rateText(result.bracket.high ?? result.capacity)})`
        : `${figure} (95% CI ${grouped(result.interval.low)}–${grouped(result.interval.high)})`;
    case 'generator-limited':
      return `at least ${figure} (the load generator was the limit above it)`;
    case 'max-rate':
      return `at least ${figure} (tuning.capacity.maxRate)`;
    default:
      return result.validated && result.bracket.high !== null
        ? `${figure} held for the longer trial, ${rateText(result.bracket.high)} did not (bracket not narrowed: ${result.stoppedBy})`
        : `about ${figure}, not validated (${result.stoppedBy})`;
  }
}

/** The settings' names as the report says them. */
export const labelText: Record<CapacityResult['label'], string> = {
  recommended: 'the recommended settings',
  starting: 'the starting settings',
  given: 'the given settings',
};

/** "Capacity under the SLO: 2,900 req/s at the recommended settings against 1,700 at the starting ones". */
export function capacitySentence(outcome: CapacityOutcome): string {
  const [first, second] = outcome.results;
  if (first === undefined) return 'Capacity under the SLO: not measured';
  const head = `Capacity under the SLO (p99 ≤ ${outcome.slo.p99Ms} ms, errors ≤ ${(outcome.slo.errorRate * 100).toFixed(2)}%, ≥ ${outcome.minSustained * 100}% of the offered rate completed): ${describeCapacity(first)} at ${labelText[first.label]}`;
  return second === undefined
    ? head
    : `${head} against ${describeCapacity(second)} at ${labelText[second.label]}`;
}

/**
 * True when the generator, not the target, stopped a search: this machine cannot find the capacity,
 * and the load has to come from more than one (`k6.instances`, or k6-operator).
 */
export function generatorLimited(outcome: CapacityOutcome): boolean {
  return outcome.results.some((r) => r.stoppedBy === 'generator-limited');
}

/** What the report says when the load generator saturated before the target did. */
export const GENERATOR_LIMITED_HINT =
  'The load generator saturated before the target did: this machine cannot find the capacity. Offer the load from several k6 processes (driver: k6, k6.instances: N) or from several machines with k6-operator (pooltune k6 manifest); see docs/k6-distributed.md.';

/** Step 8's outcome from each setting's result, with the rules they were searched by. */
export function capacityOutcome(
  rules: CapacityRules,
  noiseCv: number | null,
  results: readonly CapacityResult[],
): CapacityOutcome {
  return {
    slo: { p99Ms: rules.slo.p99Ms, errorRate: rules.slo.errorRate },
    minSustained: minAchievedRatio,
    resolution: rules.resolution,
    noiseCv,
    results: [...results],
  };
}
