import { GENERATOR_LIMITED_HINT } from '../analysis/capacity-search.ts';
import type { KnobValue, TrialResult } from '../results/trial.ts';
import { isMeasured } from '../results/trial.ts';
import type { CheckStatus, Recommendation, RunSummary } from './summary-schema.ts';

/** A status as the page shows it: the word and the CSS class. */
export interface StatusView {
  readonly status: CheckStatus;
  readonly label: string;
}

/** One knob of the settings diff. */
export interface SettingRow {
  readonly knob: string;
  readonly current: string;
  readonly recommended: string;
  readonly changed: boolean;
  readonly interval: string;
  readonly rule: string;
  readonly evidence: readonly string[];
}

/** One pool's settings diff and what to expect from it. */
export interface SettingsView {
  readonly pool: string;
  readonly library: string;
  readonly rows: readonly SettingRow[];
  readonly expected: string;
  /** Recommended against the starting settings at the steady rate, one line per figure. */
  readonly gains: readonly string[];
  /** How the pool size was chosen: its uncertainty, the plateau, the noise, the headroom checks. */
  readonly sizing: readonly string[];
}

/** A check with its status and evidence (SLO checks, checklist items). */
export interface CheckView extends StatusView {
  readonly title: string;
  readonly evidence: string;
  readonly trials: readonly string[];
}

/** A risk: severity, what and the trials behind it. */
export interface RiskView {
  readonly severity: 'warn' | 'fail';
  readonly message: string;
  readonly trials: readonly string[];
}

/** A file of the run directory, linked from the report. */
export interface RawFile {
  readonly name: string;
  readonly description: string;
}

/** The verdicts, the settings to ship, the checklist, the risks and the raw files: from `summary.json`. */
export interface OutcomeView {
  readonly verdict: StatusView & { readonly sentence: string; readonly exitCode: number };
  readonly slo: StatusView & { readonly line: string; readonly checks: readonly CheckView[] };
  readonly settings: readonly SettingsView[];
  readonly checklist: readonly CheckView[];
  readonly risks: readonly RiskView[];
  readonly regression: string | null;
  /** Step 8's capacities, and what to do when the generator was the limit; null when it did not run. */
  readonly capacity: { readonly line: string; readonly hint: string | null } | null;
  /** Generator CPU share over the completed trials: is the load generator a limit? */
  readonly generatorCpu: string;
  readonly rawFiles: readonly RawFile[];
}

const labels: Record<CheckStatus, string> = {
  pass: 'pass',
  warn: 'warn',
  fail: 'fail',
  'not-checked': 'not checked',
};

const status = (value: CheckStatus): StatusView => ({ status: value, label: labels[value] });

/** The files a run directory holds, in the order the raw-data section lists them. */
export const RAW_FILES: readonly RawFile[] = [
  { name: 'trials.jsonl', description: 'every trial as it finished, one JSON object per line' },
  { name: 'trials.csv', description: 'one row per trial with its key figures, for a spreadsheet' },
  {
    name: 'summary.json',
    description: 'recommendation, verdicts and key figures (JSON Schema in the package)',
  },
  { name: 'junit.xml', description: 'SLO checks and checklist items as JUnit test cases' },
  { name: 'summary.md', description: 'a short Markdown summary for CI step summaries and PR comments' },
  { name: 'manifest.json', description: 'what was asked: target, config (secrets masked), environment' },
  { name: 'analysis.json', description: "the method's steps and recommendations" },
];

/** The outcome part of the report, from the run's summary and trials. Pure. */
export function buildOutcomeView(summary: RunSummary, trials: readonly TrialResult[]): OutcomeView {
  const failedSlo = summary.slo.checks.filter((check) => check.status === 'fail').length;
  return {
    verdict: { ...status(summary.verdict), exitCode: summary.exitCode, sentence: verdictSentence(summary) },
    slo: {
      ...status(summary.slo.status),
      line:
        summary.slo.checks.length === 0
          ? summary.capacity === undefined
            ? 'no SLO check was made (no trial completed)'
            : 'no check at fixed settings: the capacity search judged every probe by the SLO (see Capacity)'
          : `p99 <= ${summary.slo.p99Ms} ms and error rate <= ${percent(summary.slo.errorRate, 2)}: ${summary.slo.checks.length - failedSlo} of ${summary.slo.checks.length} checks hold`,
      checks: summary.slo.checks.map((check) => ({
        ...status(check.status),
        title: check.pool === '' ? check.name : `${check.pool}: ${check.name}`,
        evidence: check.detail,
        trials: check.trials,
      })),
    },
    settings: summary.recommendations.map(settingsView),
    checklist: summary.checklist.map((entry) => ({
      ...status(entry.status),
      title: entry.title,
      evidence: entry.evidence,
      trials: entry.trials,
    })),
    risks: summary.risks.map((risk) => ({
      severity: risk.severity,
      message: risk.message,
      trials: risk.trials,
    })),
    regression:
      summary.regression === undefined
        ? null
        : summary.regression.regressed
          ? `regressed against ${summary.regression.baseline}: ${summary.regression.regressions.join('; ')}`
          : `no regression against ${summary.regression.baseline} (${summary.regression.compared} points compared)`,
    capacity:
      summary.capacity === undefined
        ? null
        : {
            line: summary.capacity.text,
            hint: summary.capacity.generatorLimited ? GENERATOR_LIMITED_HINT : null,
          },
    generatorCpu: generatorCpu(trials),
    rawFiles: RAW_FILES,
  };
}

function verdictSentence(summary: RunSummary): string {
  const code = `exit code ${summary.exitCode}`;
  if (summary.exitCode === 3) return `The SLO failed at the recommended settings (${code}).`;
  if (summary.exitCode === 4) return `A regression against the baseline was found (${code}).`;
  if (summary.verdict === 'warn')
    return `The SLO holds; some checklist items or risks need a look (${code}).`;
  return `The SLO holds and nothing in the checklist fails (${code}).`;
}

/** "8", "8 and 16", "8, 16 and 32". */
function listSizes(sizes: readonly number[]): string {
  return sizes.length <= 1 ? sizes.join('') : `${sizes.slice(0, -1).join(', ')} and ${sizes.at(-1)}`;
}

/** Plateau sizes above the last one validated at peak that step 6 did not get to. */
function untriedAbove(sizing: NonNullable<Recommendation['sizing']>): number[] {
  const validated = new Set(sizing.validations.map((v) => v.n));
  const last = sizing.validations.at(-1)?.n ?? 0;
  return sizing.plateau.filter((n) => n > last && !validated.has(n));
}

/** Drift corrections below this share are not worth a line in the report. */
const DRIFT_WORTH_SAYING = 0.02;

/**
 * The pool size's story in a few lines: "max = 16 (12–16); anything from 8 to 32 gives the same
 * throughput within ±5%", then the noise, the headroom validations, outliers and the order.
 */
export function sizingLines(rec: Recommendation): string[] {
  const sizing = rec.sizing;
  const size = rec.settings.find((setting) => setting.role === 'size');
  if (sizing === undefined || size === undefined) return [];
  const margin = percent(sizing.margin, 0);
  const first = sizing.plateau[0];
  const last = sizing.plateau.at(-1);
  const uncertainty =
    size.interval === undefined
      ? ''
      : ` (${size.interval.low}–${size.interval.high}${sizing.otherChoiceShare === null ? '' : `: another size in ${percent(sizing.otherChoiceShare, 0)} of resamples`})`;
  const plateau =
    first === undefined || last === undefined
      ? 'no plateau was found'
      : first === last
        ? `only ${first} was shown to reach the best throughput within ±${margin}`
        : `anything from ${first} to ${last} gives the same throughput within ±${margin}`;
  const lines = [`${size.knob} = ${size.recommended}${uncertainty}; ${plateau}.`];
  if (sizing.undecided.length > 0) {
    lines.push(
      `Undecided: ${listSizes(sizing.undecided)} could not be told apart from the best (${sizing.best}) at this noise, either way; more repetitions (tuning.maxGrowTrials, tuning.maxRepetitions) would decide.`,
    );
  }
  if (sizing.noiseCv !== null) {
    const resolvable =
      sizing.resolvable === null
        ? ''
        : `: differences under ${percent(sizing.resolvable, 1)} between two sizes are not resolvable on this machine`;
    lines.push(`Noise: run-to-run CV ${percent(sizing.noiseCv, 1)}${resolvable}.`);
  }
  if (sizing.drift !== null && sizing.drift !== undefined && sizing.drift >= DRIFT_WORTH_SAYING) {
    lines.push(
      `Drift: the machine's throughput drifted by up to ${percent(sizing.drift, 0)} during step 4 (background load); sizes were compared with the drift taken out.`,
    );
  }
  if (sizing.validations.length > 0) {
    const held = sizing.validations
      .map((v) => `${v.n} ${v.passed ? 'held' : 'did not hold'}`)
      .join(', then ');
    const untried = untriedAbove(sizing);
    const why =
      untried.length > 0
        ? `${listSizes(untried)} on the plateau ${untried.length === 1 ? 'was' : 'were'} not validated;`
        : 'no size on the plateau kept its headroom,';
    const needed = sizing.needed === null ? '' : `; ${why} the load would need about ${sizing.needed}`;
    lines.push(`At peak and in bursts: ${held}${needed}.`);
  }
  if (sizing.outliers.length > 0) {
    lines.push(`Outliers re-run once and left out of the figures: ${sizing.outliers.join(', ')}.`);
  }
  lines.push(`Order: ${sizing.order}.`);
  return lines;
}

function settingsView(rec: Recommendation): SettingsView {
  const expected = rec.expectedAtPeak;
  return {
    pool: rec.pool,
    library: rec.library,
    rows: rec.settings.map((setting) => ({
      knob: setting.knob,
      current: setting.current === undefined ? '—' : withUnit(setting.current, setting.unit),
      recommended: withUnit(setting.recommended, setting.unit),
      changed: setting.changed,
      interval: setting.interval === undefined ? '—' : `${setting.interval.low}–${setting.interval.high}`,
      rule: setting.rule,
      evidence: setting.evidence,
    })),
    expected:
      expected === undefined
        ? 'not measured'
        : `${expected.throughput.value.toFixed(0)} req/s${range(expected.throughput, 0)} at p99 ${expected.p99Ms.value.toFixed(1)} ms${range(expected.p99Ms, 1)}, error rate ${percent(expected.errorRate, 2)}`,
    sizing: sizingLines(rec),
    gains: (rec.gains ?? []).map((gain) => {
      if (gain.metric === 'errorRate') {
        return `error rate ${percent(gain.before, 3)} → ${percent(gain.after, 3)}`;
      }
      const unit = gain.metric === 'throughput' ? ' req/s' : ' ms';
      const name = { throughput: 'throughput', p50Ms: 'p50', p99Ms: 'p99', p999Ms: 'p99.9' }[gain.metric];
      const digits = gain.metric === 'throughput' ? 0 : 1;
      const interval =
        gain.change.low === undefined || gain.change.high === undefined
          ? ''
          : ` (95% CI ${signedPercent(gain.change.low)} to ${signedPercent(gain.change.high)})`;
      return `${name} ${gain.before.toFixed(digits)} → ${gain.after.toFixed(digits)}${unit}: ${signedPercent(gain.change.value)}${interval}`;
    }),
  };
}

function generatorCpu(trials: readonly TrialResult[]): string {
  const shares = trials.filter(isMeasured).map((trial) => trial.client.generatorCpu.share);
  if (shares.length === 0) return '—';
  const mean = shares.reduce((a, b) => a + b, 0) / shares.length;
  return `${percent(mean, 0)} of one core on average, ${percent(Math.max(...shares), 0)} at most (it shares the machine with the target)`;
}

function withUnit(value: KnobValue, unit: string): string {
  return unit === '' ? String(value) : `${String(value)} ${unit}`;
}

function range(estimate: { low?: number | undefined; high?: number | undefined }, digits: number): string {
  return estimate.low === undefined || estimate.high === undefined
    ? ''
    : ` (95% CI ${estimate.low.toFixed(digits)}–${estimate.high.toFixed(digits)})`;
}

function percent(ratio: number, digits: number): string {
  return `${(ratio * 100).toFixed(digits)}%`;
}

function signedPercent(ratio: number): string {
  return `${ratio >= 0 ? '+' : ''}${(ratio * 100).toFixed(1)}%`;
}
