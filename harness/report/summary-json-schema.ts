import { z } from 'zod';
import { SUMMARY_SCHEMA_ID } from './summary.ts';
import { runSummarySchema, SUMMARY_SCHEMA_VERSION } from './summary-schema.ts';

/**
 * The JSON Schema (draft 2020-12) of `summary.json`, generated from `runSummarySchema`: what
 * `reports/schema/summary.schema.json` holds (`npm run schema` writes it; a test keeps the two equal).
 * Its `$id` is the URL every summary names in `$schema`. Pure.
 */
export function summaryJsonSchema(): Record<string, unknown> {
  const generated = z.toJSONSchema(runSummarySchema, { target: 'draft-2020-12', io: 'output' });
  // The zod schema's one-line description gives way to the fuller one below.
  const { $schema, description: _short, ...rest } = generated;
  return {
    $schema,
    $id: SUMMARY_SCHEMA_ID,
    title: 'pooltune run summary (summary.json)',
    description: [
      `What a pooltune run decided, for machines: schema version ${SUMMARY_SCHEMA_VERSION}.`,
      'The recommended settings as a diff against the starting ones, the SLO checks, the decision checklist,',
      'risks, trial counts, the comparable points `pooltune compare` reads, and the regression verdict when',
      'the run was compared with a baseline. A change that breaks readers bumps `schemaVersion`; new',
      'optional fields do not. Generated from the zod schema in harness/report/summary-schema.ts by',
      '`npm run schema`: do not edit by hand.',
    ].join(' '),
    ...rest,
  };
}
