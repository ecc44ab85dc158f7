import { GENERATOR_LIMITED_HINT } from '../analysis/capacity-search.ts';
import { formatFixed, formatMs } from './format.ts';
import { checkFigures } from './junit.ts';
import { sizingLines } from './outcome-view.ts';
import type { CheckStatus, Recommendation, RunSummary } from './summary-schema.ts';

/** Options of {@link renderSummaryMarkdown}. */
export interface SummaryMarkdownOptions {
  /** Where the HTML report is, shown as the last line. */
  readonly reportPath?: string;
}

/** Problems listed one per line before the rest are only counted: the summary stays short. */
const MAX_PROBLEMS = 10;
/** Evidence longer than this is cut: the report has it whole. */
const MAX_EVIDENCE = 200;

const STATUS_WORD: Readonly<Record<CheckStatus, string>> = {
  pass: 'PASS',
  warn: 'WARN',
  fail: 'FAIL',
  'not-checked': 'NOT CHECKED',
};

/**
 * The run's `summary.md`: a short Markdown summary for `$GITHUB_STEP_SUMMARY` or a PR comment: the
 * verdict, each pool's settings diff and what to expect at peak, only the checks that fail or warn,
 * the regression result and where the report is. Every string that comes from the config or the
 * target is escaped, so it cannot break the table or inject HTML. Pure.
 */
export function renderSummaryMarkdown(summary: RunSummary, options: SummaryMarkdownOptions = {}): string {
  const lines = [
    `## pooltune ${escapeMarkdown(summary.target.name)}: ${STATUS_WORD[summary.verdict]}`,
    '',
    `**${STATUS_WORD[summary.verdict]}**: ${verdictSentence(summary)} Run ${escapeMarkdown(summary.runId)} (${escapeMarkdown(summary.command)}, scenario ${escapeMarkdown(summary.scenario)}), ${trialCounts(summary)}.`,
  ];
  for (const rec of summary.recommendations) lines.push('', ...recommendationLines(rec));
  if (summary.recommendations.length === 0) lines.push('', 'No recommendation: the run tuned no pool.');
  if (summary.capacity !== undefined) {
    lines.push('', `${escapeMarkdown(summary.capacity.text)}.`);
    if (summary.capacity.generatorLimited) lines.push('', escapeMarkdown(GENERATOR_LIMITED_HINT));
  }
  lines.push('', checkCounts(summary));
  const problems = problemLines(summary);
  if (problems.length > 0) {
    lines.push('', ...problems.slice(0, MAX_PROBLEMS));
    if (problems.length > MAX_PROBLEMS)
      lines.push(`- … and ${problems.length - MAX_PROBLEMS} more in the report`);
  }
  const regression = summary.regression;
  if (regression !== undefined) {
    const baseline = escapeMarkdown(regression.baseline);
    lines.push(
      '',
      regression.regressed
        ? `**Regression** against ${baseline}: ${regression.regressions.length} of ${regression.compared} compared points regressed.`
        : `**No regression** against ${baseline} (${regression.compared} points compared).`,
    );
    if (regression.regressed) {
      const shown = regression.regressions
        .slice(0, MAX_PROBLEMS)
        .map((text) => `- ${escapeMarkdown(cut(text))}`);
      lines.push('', ...shown);
      if (regression.regressions.length > MAX_PROBLEMS) {
        lines.push(`- … and ${regression.regressions.length - MAX_PROBLEMS} more in the report`);
      }
    }
  }
  const report =
    options.reportPath === undefined ? 'report.html beside this file' : escapeMarkdown(options.reportPath);
  lines.push('', `Full report: ${report}`);
  return `${lines.join('\n')}\n`;
}

function verdictSentence(summary: RunSummary): string {
  const code = `exit code ${summary.exitCode}`;
  if (summary.slo.status === 'fail') return `the SLO failed at the recommended settings (${code}).`;
  if (summary.regression?.regressed === true) return `a regression against the baseline was found (${code}).`;
  if (summary.verdict === 'fail') return `a checklist item or risk fails (${code}).`;
  if (summary.verdict === 'warn') return `the SLO holds; some checks need a look (${code}).`;
  if (summary.slo.status === 'not-checked') return `no SLO check was made (${code}).`;
  return `the SLO holds and nothing in the checklist fails (${code}).`;
}

function trialCounts(summary: RunSummary): string {
  const { total, completed, invalid, errored, aborted } = summary.trials;
  const others = [
    invalid > 0 ? `${invalid} invalid` : undefined,
    errored > 0 ? `${errored} errored` : undefined,
    aborted > 0 ? `${aborted} aborted` : undefined,
  ].filter((part) => part !== undefined);
  return `${total} trials, ${[`${completed} completed`, ...others].join(', ')}`;
}

function recommendationLines(rec: Recommendation): string[] {
  const withUnit = (value: number | boolean | string, unit: string) =>
    escapeMarkdown(unit === '' ? String(value) : `${String(value)} ${unit}`);
  const rows = rec.settings.map((setting) => {
    const current = setting.current === undefined ? '—' : withUnit(setting.current, setting.unit);
    const recommended = withUnit(setting.recommended, setting.unit);
    const interval =
      setting.interval === undefined
        ? '—'
        : withUnit(`${setting.interval.low}–${setting.interval.high}`, setting.unit);
    return `| ${escapeMarkdown(setting.knob)} | ${current} | ${setting.changed ? `**${recommended}**` : recommended} | ${interval} |`;
  });
  const lines = [
    `**Recommended settings** for pool ${escapeMarkdown(rec.pool)} (${escapeMarkdown(rec.library)}), changes in bold:`,
    '',
    '| knob | current | recommended | interval |',
    '| --- | --- | --- | --- |',
    ...rows,
  ];
  const expected = rec.expectedAtPeak;
  lines.push(
    '',
    expected === undefined
      ? 'Expected at peak: not measured.'
      : `Expected at peak: ${formatFixed(expected.throughput.value, 0)} req/s${range(expected.throughput, (v) => formatFixed(v, 0))}, p99 ${formatMs(expected.p99Ms.value)} ms${range(expected.p99Ms, formatMs)}, error rate ${percent(expected.errorRate)}.`,
  );
  const gains = (rec.gains ?? []).filter((gain) => gain.metric === 'throughput' || gain.metric === 'p99Ms');
  if (gains.length > 0) {
    const changes = gains.map(
      (gain) => `${gain.metric === 'throughput' ? 'throughput' : 'p99'} ${signed(gain.change.value)}`,
    );
    lines.push(`Against the starting settings at the steady rate: ${changes.join(', ')}.`);
  }
  // The size's uncertainty, plateau and headroom: the first two lines say what a reader must know.
  const sizing = sizingLines(rec).slice(0, 3);
  if (sizing.length > 0) lines.push('', ...sizing.map((line) => `- ${escapeMarkdown(line)}`));
  return lines;
}

function checkCounts(summary: RunSummary): string {
  const { checks } = summary.slo;
  const holding = checks.filter((check) => check.status === 'pass' || check.status === 'warn').length;
  const slo =
    checks.length === 0
      ? 'SLO not checked (no trial completed)'
      : `SLO (p99 at most ${summary.slo.p99Ms} ms, error rate at most ${percent(summary.slo.errorRate)}): ${holding} of ${checks.length} checks hold`;
  const by = (status: CheckStatus) => summary.checklist.filter((item) => item.status === status).length;
  const checklist = `checklist: ${by('pass')} pass, ${by('warn')} warn, ${by('fail')} fail, ${by('not-checked')} not checked`;
  return `**Checks**: ${slo}; ${checklist}.`;
}

/** Failed checks first, then warnings: SLO checks, checklist items and risks. Passing ones are left out. */
function problemLines(summary: RunSummary): string[] {
  const problems: { readonly status: 'fail' | 'warn'; readonly line: string }[] = [];
  for (const check of summary.slo.checks) {
    if (check.status !== 'fail' && check.status !== 'warn') continue;
    const figures = checkFigures(check);
    const pool = check.pool === '' ? '' : `${check.pool}: `;
    const evidence = figures === '' ? check.detail : `${check.detail} (${figures})`;
    problems.push({
      status: check.status,
      line: `SLO ${escapeMarkdown(pool + check.name)}: ${escapeMarkdown(cut(evidence))}`,
    });
  }
  for (const item of summary.checklist) {
    if (item.status !== 'fail' && item.status !== 'warn') continue;
    problems.push({
      status: item.status,
      line: `${escapeMarkdown(item.title)}: ${escapeMarkdown(cut(item.evidence))}`,
    });
  }
  for (const risk of summary.risks) {
    problems.push({ status: risk.severity, line: `risk: ${escapeMarkdown(cut(risk.message))}` });
  }
  const order = (status: 'fail' | 'warn') => (status === 'fail' ? 0 : 1);
  return problems
    .map((problem, index) => ({ ...problem, index }))
    .sort((a, b) => order(a.status) - order(b.status) || a.index - b.index)
    .map((problem) => `- **${STATUS_WORD[problem.status]}** ${problem.line}`);
}

function range(
  estimate: { low?: number | undefined; high?: number | undefined },
  format: (v: number) => string,
) {
  return estimate.low === undefined || estimate.high === undefined
    ? ''
    : ` (95% CI ${format(estimate.low)}–${format(estimate.high)})`;
}

function percent(ratio: number): string {
  return `${formatFixed(ratio * 100, 2)}%`;
}

function signed(ratio: number): string {
  return `${ratio >= 0 ? '+' : '−'}${formatFixed(Math.abs(ratio) * 100, 1)}%`;
}

function cut(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length <= MAX_EVIDENCE ? flat : `${flat.slice(0, MAX_EVIDENCE - 1)}…`;
}

/**
 * Text from the config or the target, safe anywhere in a line and in a table cell: line breaks and
 * other control characters become spaces, and the characters Markdown or HTML give a meaning (`\`,
 * backtick, `*`, `_`, `[`, `]`, `<`, `>`, `|`, `~`, `&`, `#`, `!`) are backslash-escaped, which
 * CommonMark and GitHub render as the character itself.
 */
export function escapeMarkdown(text: string): string {
  return (
    text
      // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it removes
      .replace(/[\u0000-\u001f\u007f]+/g, ' ')
      .replace(/[\\`*_[\]<>|~&#!]/g, (char) => `\\${char}`)
  );
}
