import { readFileSync } from 'node:fs';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { SUMMARY_SCHEMA_ID } from '../../harness/report/summary.ts';
import { summaryJsonSchema } from '../../harness/report/summary-json-schema.ts';
import { type RunSummary, runSummarySchema } from '../../harness/report/summary-schema.ts';
import { checklistItem, risk, runSummary, sloCheck } from '../helpers/run-summary.ts';

const committedUrl = new URL('../../reports/schema/summary.schema.json', import.meta.url);
const committed = JSON.parse(readFileSync(committedUrl, 'utf8')) as Record<string, unknown>;

/** The committed JSON Schema compiled by a real draft 2020-12 validator, strict about the schema itself. */
const validate = new Ajv2020({ strict: true, allowUnionTypes: true, allErrors: true }).compile(committed);

/** A summary using every optional part: a regression, risks, comparable points, a string knob value. */
const full: RunSummary = runSummary({
  verdict: 'fail',
  exitCode: 4,
  checklist: [checklistItem({ status: 'warn' }), checklistItem({ id: 'fd-limits', status: 'fail' })],
  risks: [risk(), risk({ id: 'errored-trials', severity: 'fail', message: '2 trial(s) failed' })],
  slo: {
    p99Ms: 250,
    errorRate: 0.01,
    status: 'not-checked',
    checks: [sloCheck({ metric: 'measured', status: 'not-checked', trials: [] })],
  },
  points: [
    {
      key: 'peak@1500|max=12',
      scenario: 'peak@1500',
      step: 'peak-load',
      knobs: { max: 12, ssl: false, mode: 'session' },
      trials: ['t040', 't041'],
      throughputs: [1490, 1501],
      p99Ms: [22.1, 23.4],
      errorRates: [0, 0.001],
      histogram: 'HISTFAAAACR4nJNpmSzMwMDAwgABzFCaEUwz2X+AsQA',
    },
  ],
  regression: {
    baseline: 'nightly-1',
    regressed: true,
    compared: 9,
    regressions: ['peak@1500|max=12: p99 +40%'],
  },
});

describe('summary.schema.json', () => {
  it('is what summaryJsonSchema() generates from the zod schema', () => {
    expect(
      committed,
      'reports/schema/summary.schema.json is out of date: run `npm run schema`',
    ).toStrictEqual(summaryJsonSchema());
  });

  it('is identified, titled and documented', () => {
    expect(committed.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
    expect(committed.$id).toBe(SUMMARY_SCHEMA_ID);
    expect(committed.title).toEqual(expect.any(String));
    expect(committed.description).toMatch(/npm run schema/);
    const slo = (committed.properties as Record<string, { description?: string }>).slo;
    expect(slo?.description).toMatch(/objective/);
  });

  it('accepts valid summaries, as zod does', () => {
    for (const summary of [runSummary(), full]) {
      expect(() => runSummarySchema.parse(summary)).not.toThrow();
      expect(validate(summary), JSON.stringify(validate.errors)).toBe(true);
      // What pooltune writes is JSON: it must validate after the round trip too.
      expect(validate(JSON.parse(JSON.stringify(summary)))).toBe(true);
    }
  });

  it('rejects invalid summaries, as zod does', () => {
    const { runId: _, ...missingRunId } = runSummary();
    const base = runSummary();
    const invalid: Record<string, unknown> = {
      'a missing field': missingRunId,
      'a wrong verdict': { ...base, verdict: 'ok' },
      'a wrong checklist status': { ...base, checklist: [{ ...checklistItem(), status: 'passed' }] },
      'a wrong SLO check status': {
        ...base,
        slo: { ...base.slo, checks: [{ ...sloCheck(), status: 'FAIL' }] },
      },
      'an unknown field': { ...base, extra: true },
      'another schema version': { ...base, schemaVersion: 2 },
      'a fractional exit code': { ...base, exitCode: 0.5 },
      'a risk that only passes': { ...base, risks: [{ ...risk(), severity: 'pass' }] },
    };
    for (const [what, summary] of Object.entries(invalid)) {
      expect(runSummarySchema.safeParse(summary).success, what).toBe(false);
      expect(validate(summary), what).toBe(false);
    }
  });
});
