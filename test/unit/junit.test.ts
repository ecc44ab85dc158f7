import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { validateXML, type XMLValidationResult } from 'xmllint-wasm';
import { renderJunit } from '../../harness/report/junit.ts';
import { type RunSummary, runSummarySchema } from '../../harness/report/summary-schema.ts';
import { checklistItem, risk, runSummary, sloCheck } from '../helpers/run-summary.ts';

// A JUnit schema following the Jenkins one CI tools accept, with Ant's stricter types (see its comment).
const xsd = readFileSync(new URL('../fixtures/junit/junit.xsd', import.meta.url), 'utf8');

/** libxml2's schema validation of `xml` against the JUnit XSD. */
function validate(xml: string): Promise<XMLValidationResult> {
  return validateXML({ xml: [{ fileName: 'junit.xml', contents: xml }], schema: [xsd] });
}

/** One XPath 1.0 string expression evaluated by libxml2 on `xml`: what a real XML parser reads back. */
async function xpath(xml: string, expression: string): Promise<string> {
  const result = await validateXML({
    xml: [{ fileName: 'junit.xml', contents: xml }],
    schema: [xsd],
    modifyArguments: (args) => ['--xpath', `string(${expression})`, ...args],
  });
  expect(result.valid, result.rawOutput).toBe(true);
  // xmllint ends what it prints with a newline.
  return result.normalized.replace(/\n$/, '');
}

/** Several XPath expressions in one libxml2 run, as numbers (counts and count attributes). */
async function numbers(xml: string, expressions: readonly string[]): Promise<number[]> {
  const joined = expressions.map((e) => `string(${e})`).join(', ";", ');
  const out = await xpath(xml, expressions.length === 1 ? joined : `concat(${joined})`);
  return out.split(';').map(Number);
}

const parse = (summary: RunSummary): RunSummary => runSummarySchema.parse(summary);
const suite = (name: string) => `/testsuites/testsuite[@name="${name}"]`;

/** tests, failures, errors, skipped of a suite as its attributes say, then as its test cases are. */
const suiteCounts = (name: string) => [
  `${suite(name)}/@tests`,
  `${suite(name)}/@failures`,
  `${suite(name)}/@errors`,
  `${suite(name)}/@skipped`,
  `count(${suite(name)}/testcase)`,
  `count(${suite(name)}/testcase[failure])`,
  `count(${suite(name)}/testcase[error])`,
  `count(${suite(name)}/testcase[skipped])`,
];

const failing = parse(
  runSummary({
    verdict: 'fail',
    exitCode: 3,
    slo: {
      p99Ms: 250,
      errorRate: 0.01,
      status: 'fail',
      checks: [
        sloCheck({ status: 'fail', observed: 312.4, detail: 'p99 312.4 ms' }),
        sloCheck({
          id: 'pg/burst@2250/poolUse',
          scenario: 'burst@2250',
          metric: 'poolUse',
          name: 'burst@2250: pool use < 80% of max',
          threshold: 0.8,
          observed: 0.92,
          unit: 'ratio',
          status: 'warn',
          detail: 'pool use peaked at 92% of max',
        }),
        sloCheck({
          id: 'pg/burst@3000/measured',
          scenario: 'burst@3000',
          metric: 'measured',
          name: 'burst@3000: measured',
          unit: '',
          status: 'fail',
          detail: 'no repetition completed',
          trials: [],
        }),
        sloCheck({ id: 'pg/peak@1500/errorRate', name: 'peak@1500: error rate <= 1.00%', status: 'pass' }),
      ],
    },
    checklist: [
      checklistItem(),
      checklistItem({
        id: 'fd-limits',
        title: 'FD limits adequate for peak',
        status: 'fail',
        evidence: '19000 open FDs against 20000',
      }),
      checklistItem({
        id: 'leaks-prevented',
        title: 'Leaks prevented',
        status: 'warn',
        evidence: 'CLOSE_WAIT grew',
      }),
      checklistItem({ id: 'draining', title: 'Draining during deployments', status: 'not-checked' }),
      checklistItem({ id: 'circuit-breakers', title: 'Circuit breakers', status: 'not-checked' }),
    ],
    risks: [risk(), risk({ id: 'errored-trials', severity: 'fail', message: '2 trial(s) failed' })],
    regression: {
      baseline: 'reports/out/20261120-baseline',
      regressed: true,
      compared: 12,
      regressions: ['peak@1500|max=12: p99 +40%', 'burst@2250|max=12: throughput −12%'],
    },
  }),
);

describe('junit.xml', () => {
  it('validates against the JUnit schema for a passing run, with the SLO and checklist suites', async () => {
    const xml = renderJunit(parse(runSummary()));
    const result = await validate(xml);
    expect(result.errors).toEqual([]);
    expect(result.valid).toBe(true);
    expect(await numbers(xml, suiteCounts('pooltune.slo'))).toEqual([3, 0, 0, 0, 3, 0, 0, 0]);
    expect(await numbers(xml, suiteCounts('pooltune.checklist'))).toEqual([2, 0, 0, 1, 2, 0, 0, 1]);
    expect(
      await numbers(xml, ['count(/testsuites/testsuite)', '/testsuites/@tests', '/testsuites/@failures']),
    ).toEqual([2, 5, 0]);
    expect(await xpath(xml, `${suite('pooltune.slo')}/testcase[1]/@classname`)).toBe('pooltune.slo.pg');
    expect(await xpath(xml, `${suite('pooltune.slo')}/testcase[1]/system-out`)).toMatch(
      /^\[pass\] p99 22\.7 ms/,
    );
  });

  it('reports failing checks as failures, an unmeasured point as an error, not-checked as skipped', async () => {
    const xml = renderJunit(failing);
    expect((await validate(xml)).errors).toEqual([]);
    expect(await numbers(xml, suiteCounts('pooltune.slo'))).toEqual([4, 1, 1, 0, 4, 1, 1, 0]);
    expect(await numbers(xml, suiteCounts('pooltune.checklist'))).toEqual([5, 1, 0, 2, 5, 1, 0, 2]);
    expect(await numbers(xml, suiteCounts('pooltune.risks'))).toEqual([2, 1, 0, 0, 2, 1, 0, 0]);
    expect(await numbers(xml, suiteCounts('pooltune.regression'))).toEqual([1, 1, 0, 0, 1, 1, 0, 0]);
    expect(
      await numbers(xml, ['/testsuites/@tests', '/testsuites/@failures', '/testsuites/@errors']),
    ).toEqual([12, 4, 1]);

    const p99 = `${suite('pooltune.slo')}/testcase[@name="peak@1500: p99 <= 250 ms"]/failure`;
    expect(await xpath(xml, `${p99}/@message`)).toBe(
      'peak@1500: p99 <= 250 ms: observed 312 ms, threshold 250 ms',
    );
    expect(await xpath(xml, `${p99}/@type`)).toBe('pooltune.slo.p99');
    expect(await xpath(xml, p99)).toContain('trials: t040, t041, t042');
    const unmeasured = `${suite('pooltune.slo')}/testcase[@name="burst@3000: measured"]/error/@message`;
    expect(await xpath(xml, unmeasured)).toBe('burst@3000: measured: no repetition completed');
    const fd = `${suite('pooltune.checklist')}/testcase[@name="FD limits adequate for peak"]/failure/@message`;
    expect(await xpath(xml, fd)).toBe('19000 open FDs against 20000');
    expect(await xpath(xml, `${suite('pooltune.regression')}/testcase/failure`)).toContain(
      'burst@2250|max=12: throughput −12%',
    );
  });

  it('lets warnings pass, marked [warn] in system-out', async () => {
    const xml = renderJunit(failing);
    const leaks = `${suite('pooltune.checklist')}/testcase[@name="Leaks prevented"]`;
    expect(await numbers(xml, [`count(${leaks}/*[not(self::system-out)])`])).toEqual([0]);
    expect(await xpath(xml, `${leaks}/system-out`)).toBe('[warn] CLOSE_WAIT grew\ntrials: t039');
    const poolUse = `${suite('pooltune.slo')}/testcase[@name="burst@2250: pool use < 80% of max"]`;
    expect(await xpath(xml, `${poolUse}/system-out`)).toMatch(/^\[warn\] pool use peaked at 92% of max/);
    expect(
      await xpath(xml, `${suite('pooltune.risks')}/testcase[@name="pg/fleet-budget"]/system-out`),
    ).toMatch(/^\[warn\] /);
  });

  it('carries the run in properties and createdAt as a zone-less UTC timestamp', async () => {
    const xml = renderJunit(parse(runSummary({ createdAt: '2026-11-24T19:15:06.175+02:00' })));
    expect((await validate(xml)).valid).toBe(true);
    const property = (name: string) => `${suite('pooltune.slo')}/properties/property[@name="${name}"]/@value`;
    expect(await xpath(xml, property('pooltune.runId'))).toBe('20261124-171506-http-pg-zi8t');
    expect(await xpath(xml, property('pooltune.target'))).toBe('http-pg');
    expect(await xpath(xml, property('pooltune.version'))).toBe('0.1.0');
    expect(await xpath(xml, `${suite('pooltune.checklist')}/@timestamp`)).toBe('2026-11-24T17:15:06');
  });

  it('skips the SLO when no check was made, and a regression run with nothing comparable', async () => {
    const summary = runSummary({
      regression: { baseline: 'b', regressed: false, compared: 0, regressions: [] },
    });
    const xml = renderJunit(
      parse({ ...summary, slo: { ...summary.slo, status: 'not-checked', checks: [] } }),
    );
    expect((await validate(xml)).errors).toEqual([]);
    expect(await numbers(xml, suiteCounts('pooltune.slo'))).toEqual([1, 0, 0, 1, 1, 0, 0, 1]);
    expect(await numbers(xml, suiteCounts('pooltune.regression'))).toEqual([1, 0, 0, 1, 1, 0, 0, 1]);
  });

  it('escapes hostile strings so they round-trip as text, dropping characters XML 1.0 forbids', async () => {
    const hostile = `<script>alert("x&y")</script> ]]> 'q' &amp; \u0000\u0007\u001b\uFFFE\uD800 tab\there\r\nline 🚀`;
    const legal = `<script>alert("x&y")</script> ]]> 'q' &amp;  tab\there\r\nline 🚀`;
    const summary = parse(
      runSummary({
        runId: hostile,
        slo: {
          p99Ms: 250,
          errorRate: 0.01,
          status: 'fail',
          checks: [sloCheck({ pool: `pg"${hostile}`, name: hostile, detail: hostile, status: 'fail' })],
        },
        checklist: [checklistItem({ title: hostile, evidence: hostile, status: 'warn' })],
        regression: { baseline: hostile, regressed: true, compared: 1, regressions: [hostile] },
      }),
    );
    const xml = renderJunit(summary);
    const result = await validate(xml);
    expect(result.errors).toEqual([]);
    expect(result.valid).toBe(true);
    expect(xml).not.toContain('<script>');
    expect(xml).not.toContain(']]>');
    const forbidden = [...xml].filter((char) =>
      /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u.test(char),
    );
    expect(forbidden).toEqual([]);

    const check = `${suite('pooltune.slo')}/testcase[1]`;
    expect(await xpath(xml, `${check}/@name`)).toBe(legal);
    expect(await xpath(xml, `${check}/@classname`)).toBe(`pooltune.slo.pg"${legal}`);
    expect(await xpath(xml, `${check}/failure/@message`)).toBe(
      `${legal}: observed 22.7 ms, threshold 250 ms`,
    );
    expect(await xpath(xml, `${check}/failure`)).toBe(
      `check: pg/peak@1500/p99\n${legal} (observed 22.7 ms, threshold 250 ms)\ntrials: t040, t041, t042`,
    );
    const item = `${suite('pooltune.checklist')}/testcase[1]`;
    expect(await xpath(xml, `${item}/@name`)).toBe(legal);
    expect(await xpath(xml, `${item}/system-out`)).toBe(`[warn] ${legal}\ntrials: t039`);
    expect(
      await xpath(xml, `${suite('pooltune.slo')}/properties/property[@name="pooltune.runId"]/@value`),
    ).toBe(legal);
    expect(await xpath(xml, `${suite('pooltune.regression')}/testcase/failure/@message`)).toBe(
      `1 regression(s) against ${legal}`,
    );
  });

  it('is checked by a validator that rejects what CI tools reject', async () => {
    const xml = renderJunit(parse(runSummary()));
    const zoned = xml.replace(/timestamp="([^"]+)"/, 'timestamp="$1Z"');
    const unnamed = xml.replace(/<testcase name="[^"]*"/, '<testcase');
    const uncounted = xml.replace(/ failures="0"/g, '');
    for (const broken of [zoned, unnamed, uncounted, xml.replace('</testsuites>', '')]) {
      expect(broken).not.toBe(xml);
      expect((await validate(broken)).valid).toBe(false);
    }
  });
});
