import { formatFixed, formatMs } from './format.ts';
import type { RunSummary, SloCheck } from './summary-schema.ts';

/**
 * How one JUnit test case ended. `pass` may carry a `[warn]` note; `skipped` is a check pooltune made
 * no measurement for; `error` is a check that could not be evaluated (its point never completed).
 */
type Outcome =
  | { readonly kind: 'pass' }
  | {
      readonly kind: 'failure' | 'error';
      readonly message: string;
      readonly type: string;
      readonly body: string;
    }
  | { readonly kind: 'skipped'; readonly message: string };

interface TestCase {
  readonly name: string;
  readonly classname: string;
  readonly outcome: Outcome;
  /** `[status] evidence` lines, so a warning is visible in CI tools that show a passed test's output. */
  readonly out?: string;
}

interface TestSuite {
  readonly name: string;
  readonly cases: readonly TestCase[];
}

/**
 * The run's `junit.xml`: its verdicts as JUnit test cases, so CI systems show them natively. Pure.
 *
 * - `pooltune.slo`: one test case per SLO check (classname `pooltune.slo.<pool>`). fail → `<failure>`
 *   with threshold and observed value; a check whose point never completed (`measured`) → `<error>`;
 *   not-checked → `<skipped>`; warn (pool use above 80%: headroom, not the SLO) passes with a `[warn]`
 *   line in `<system-out>`.
 * - `pooltune.checklist`: one test case per checklist item, the same mapping.
 * - `pooltune.risks` (when there are risks): one per risk; fail → `<failure>`, warn passes with `[warn]`.
 * - `pooltune.regression` (when compared with a baseline): one test case; regressed → `<failure>` listing
 *   the regressions, nothing comparable → `<skipped>`.
 *
 * Every passing case's `<system-out>` starts with `[pass]` or `[warn]` and holds the evidence. Times
 * are 0: the checks are judged after the run; trial durations are in `trials.csv`. The timestamp is
 * `createdAt` in UTC without a zone, as the Ant JUnit schema wants.
 */
export function renderJunit(summary: RunSummary): string {
  const suites = junitSuites(summary);
  const timestamp = junitTimestamp(summary.createdAt);
  const properties: readonly (readonly [string, string])[] = [
    ['pooltune.runId', summary.runId],
    ['pooltune.target', summary.target.name],
    ['pooltune.version', summary.pooltuneVersion],
    ['pooltune.command', summary.command],
    ['pooltune.scenario', summary.scenario],
    ['pooltune.verdict', summary.verdict],
    ['pooltune.exitCode', String(summary.exitCode)],
  ];
  const totals = counts(suites.flatMap((suite) => suite.cases));
  const lines = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites${attributes({ name: 'pooltune', tests: totals.tests, failures: totals.failures, errors: totals.errors, time: 0 })}>`,
  ];
  suites.forEach((suite, id) => {
    const count = counts(suite.cases);
    const suiteAttributes = attributes({
      name: suite.name,
      tests: count.tests,
      failures: count.failures,
      errors: count.errors,
      skipped: count.skipped,
      time: 0,
      timestamp,
      id,
    });
    lines.push(`  <testsuite${suiteAttributes}>`, '    <properties>');
    for (const [name, value] of properties) lines.push(`      <property${attributes({ name, value })}/>`);
    lines.push('    </properties>');
    for (const testCase of suite.cases) lines.push(...testCaseXml(testCase));
    lines.push('  </testsuite>');
  });
  lines.push('</testsuites>');
  return `${lines.join('\n')}\n`;
}

/** An SLO check's figures, e.g. `observed 312 ms, threshold 250 ms`; empty when it has neither. */
export function checkFigures(check: SloCheck): string {
  const parts = [
    check.observed === undefined ? undefined : `observed ${formatFigure(check.observed, check.unit)}`,
    check.threshold === undefined ? undefined : `threshold ${formatFigure(check.threshold, check.unit)}`,
  ];
  return parts.filter((part) => part !== undefined).join(', ');
}

/** A figure in its unit: `ratio` as a percentage, `ms` to about three significant digits. */
export function formatFigure(value: number, unit: string): string {
  if (unit === 'ratio') return `${formatFixed(value * 100, 2)}%`;
  if (unit === 'ms') return `${formatMs(value)} ms`;
  const number = String(Number(value.toPrecision(4)));
  return unit === '' ? number : `${number} ${unit}`;
}

function junitSuites(summary: RunSummary): TestSuite[] {
  const suites: TestSuite[] = [
    { name: 'pooltune.slo', cases: sloCases(summary) },
    {
      name: 'pooltune.checklist',
      cases: summary.checklist.map((item) => ({
        name: item.title,
        classname: 'pooltune.checklist',
        ...statusCase(
          item.status,
          item.evidence,
          item.evidence,
          `pooltune.checklist.${item.id}`,
          item.trials,
        ),
      })),
    },
  ];
  if (summary.risks.length > 0) {
    suites.push({
      name: 'pooltune.risks',
      cases: summary.risks.map((risk) => ({
        name: risk.id,
        classname: 'pooltune.risks',
        ...statusCase(risk.severity, risk.message, risk.message, `pooltune.risk.${risk.id}`, risk.trials),
      })),
    });
  }
  const regression = summary.regression;
  if (regression !== undefined) {
    const compared = `${regression.compared} comparable point(s) compared with ${regression.baseline}`;
    const outcome: Outcome = regression.regressed
      ? {
          kind: 'failure',
          message: `${regression.regressions.length} regression(s) against ${regression.baseline}`,
          type: 'pooltune.regression',
          body: [compared, ...regression.regressions].join('\n'),
        }
      : regression.compared === 0
        ? { kind: 'skipped', message: `no point comparable with ${regression.baseline}` }
        : { kind: 'pass' };
    suites.push({
      name: 'pooltune.regression',
      cases: [
        {
          name: 'no regression against the baseline',
          classname: 'pooltune.regression',
          outcome,
          ...(outcome.kind === 'pass' ? { out: `[pass] ${compared}` } : {}),
        },
      ],
    });
  }
  return suites;
}

function sloCases(summary: RunSummary): TestCase[] {
  const { slo } = summary;
  if (slo.checks.length === 0) {
    return [
      {
        name: `SLO: p99 <= ${slo.p99Ms} ms, error rate <= ${formatFigure(slo.errorRate, 'ratio')}`,
        classname: 'pooltune.slo',
        outcome: { kind: 'skipped', message: 'no SLO check was made (no trial completed)' },
      },
    ];
  }
  return slo.checks.map((check) => {
    const figures = checkFigures(check);
    const evidence = figures === '' ? check.detail : `${check.detail} (${figures})`;
    const base = {
      name: check.name,
      classname: check.pool === '' ? 'pooltune.slo' : `pooltune.slo.${check.pool}`,
    };
    const type = `pooltune.slo.${check.metric}`;
    if (check.status === 'fail' && check.metric === 'measured') {
      const body = lines([`check: ${check.id}`, check.detail], check.trials);
      return { ...base, outcome: { kind: 'error', message: `${check.name}: ${check.detail}`, type, body } };
    }
    const message = `${check.name}: ${figures === '' ? check.detail : figures}`;
    return { ...base, ...statusCase(check.status, evidence, message, type, check.trials, check.id) };
  });
}

/** pass / warn → passes with the evidence in `<system-out>`; fail → `<failure>`; not-checked → `<skipped>`. */
function statusCase(
  status: RunSummary['verdict'],
  evidence: string,
  message: string,
  type: string,
  trials: readonly string[],
  id?: string,
): Pick<TestCase, 'outcome' | 'out'> {
  const head = id === undefined ? [evidence] : [`check: ${id}`, evidence];
  switch (status) {
    case 'fail':
      return { outcome: { kind: 'failure', message, type, body: lines(head, trials) } };
    case 'not-checked':
      return { outcome: { kind: 'skipped', message: evidence } };
    case 'pass':
    case 'warn':
      return { outcome: { kind: 'pass' }, out: lines([`[${status}] ${evidence}`], trials) };
  }
}

function lines(head: readonly string[], trials: readonly string[]): string {
  return [...head, ...(trials.length === 0 ? [] : [`trials: ${trials.join(', ')}`])].join('\n');
}

function testCaseXml(testCase: TestCase): string[] {
  const open = `    <testcase${attributes({ name: testCase.name, classname: testCase.classname, time: 0 })}`;
  const { outcome } = testCase;
  const children: string[] = [];
  if (outcome.kind === 'failure' || outcome.kind === 'error') {
    const failure = attributes({ message: outcome.message, type: outcome.type });
    children.push(`      <${outcome.kind}${failure}>${escapeText(outcome.body)}</${outcome.kind}>`);
  } else if (outcome.kind === 'skipped') {
    children.push(`      <skipped${attributes({ message: outcome.message })}/>`);
  }
  if (testCase.out !== undefined) children.push(`      <system-out>${escapeText(testCase.out)}</system-out>`);
  return children.length === 0 ? [`${open}/>`] : [`${open}>`, ...children, '    </testcase>'];
}

function counts(cases: readonly TestCase[]) {
  const count = (kind: Outcome['kind']) => cases.filter((testCase) => testCase.outcome.kind === kind).length;
  return {
    tests: cases.length,
    failures: count('failure'),
    errors: count('error'),
    skipped: count('skipped'),
  };
}

/**
 * `createdAt` as the JUnit schema's timestamp: an `xs:dateTime` in UTC without zone or fraction
 * (`2026-11-24T17:15:06`); undefined when it does not parse, and the attribute is left out.
 */
function junitTimestamp(iso: string): string | undefined {
  const time = Date.parse(iso);
  return Number.isNaN(time) ? undefined : new Date(time).toISOString().slice(0, 19);
}

function attributes(values: Readonly<Record<string, string | number | undefined>>): string {
  return Object.entries(values)
    .filter((entry): entry is [string, string | number] => entry[1] !== undefined)
    .map(([name, value]) => ` ${name}="${escapeAttribute(String(value))}"`)
    .join('');
}

/**
 * Characters XML 1.0 does not allow anywhere, not even escaped: C0 controls other than tab, LF and CR,
 * lone surrogates, U+FFFE and U+FFFF. They are dropped.
 */
const illegalXmlChars = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu;

/**
 * Text content: `&`, `<` and `>` escaped (`>` too, so `]]>` never appears), CR as a reference (a parser
 * would turn a raw one into LF), illegal characters dropped.
 */
function escapeText(text: string): string {
  return text
    .replace(illegalXmlChars, '')
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('\r', '&#13;');
}

/** An attribute value in double quotes: as text, plus quotes, tab and LF as references so they survive. */
function escapeAttribute(value: string): string {
  return escapeText(value)
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&apos;')
    .replaceAll('\t', '&#9;')
    .replaceAll('\n', '&#10;');
}
