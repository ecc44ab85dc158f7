import { appendFile, cp, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateXML } from 'xmllint-wasm';
import { runSummarySchema } from '../../harness/report/summary-schema.ts';
import { writeRunOutputs } from '../../harness/report/write-report.ts';
import type { ErroredTrial } from '../../harness/results/trial.ts';

const xsdFile = fileURLToPath(new URL('../fixtures/junit/junit.xsd', import.meta.url));
const schemaFile = fileURLToPath(new URL('../../reports/schema/summary.schema.json', import.meta.url));
const fixture = fileURLToPath(new URL('../fixtures/runs/tune-http-pg/', import.meta.url));
const PASSWORD = 'hunter2-planted';
const HOSTILE = '<script>alert(1)</script>';

describe('writeRunOutputs on a real tune with a planted secret and a hostile name', () => {
  let dir = '';
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'pooltune-outputs-'));
    await cp(fixture, dir, { recursive: true });
    const manifest = JSON.parse(await readFile(path.join(dir, 'manifest.json'), 'utf8')) as {
      target: { name: string };
    };
    manifest.target.name = HOSTILE;
    await writeFile(path.join(dir, 'manifest.json'), JSON.stringify(manifest));
    const errored: ErroredTrial = {
      id: 't049',
      step: '6-peak-load',
      knobs: { max: 12 },
      scenario: 'peak@1500',
      driver: 'arrival-rate',
      repetition: 4,
      startedAt: '2026-11-24T17:20:00.000Z',
      finishedAt: '2026-11-24T17:20:01.000Z',
      status: 'errored',
      error: `connect to postgres://app:${PASSWORD}@127.0.0.1:5432/app failed`,
      logTail: [`DATABASE_URL=postgresql://app:${PASSWORD}@127.0.0.1/app`],
    };
    await appendFile(path.join(dir, 'trials.jsonl'), `${JSON.stringify(errored)}\n`);
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('writes all five files, none of which holds the password', async () => {
    const outputs = await writeRunOutputs(dir);
    for (const file of [
      outputs.report,
      outputs.summaryJson,
      outputs.junit,
      outputs.summaryMd,
      outputs.trialsCsv,
    ]) {
      const text = await readFile(file, 'utf8');
      expect(text.length, file).toBeGreaterThan(100);
      expect(text, file).not.toContain(PASSWORD);
    }
    // No temporary file is left behind by the atomic writes.
    expect((await readdir(dir)).filter((name) => name.endsWith('.tmp'))).toEqual([]);
  });

  it('records the errored trial as a risk and keeps summary.json valid', async () => {
    const outputs = await writeRunOutputs(dir);
    const json: unknown = JSON.parse(await readFile(outputs.summaryJson, 'utf8'));
    // The JSON Schema that ships in the package accepts what a real run writes.
    const schema = JSON.parse(await readFile(schemaFile, 'utf8')) as Record<string, unknown>;
    const validate = new Ajv2020({ allowUnionTypes: true, allErrors: true }).compile(schema);
    expect(validate(json), JSON.stringify(validate.errors)).toBe(true);
    const summary = runSummarySchema.parse(json);
    expect(summary.trials.errored).toBe(1);
    expect(summary.risks.find((r) => r.id === 'errored-trials')?.message).toContain('app:***@127.0.0.1');
    expect(summary.target.name).toBe(HOSTILE);
  });

  it('writes a junit.xml that the JUnit XSD accepts, with the checklist in it', async () => {
    const outputs = await writeRunOutputs(dir);
    const xml = await readFile(outputs.junit, 'utf8');
    const xsd = { fileName: 'junit.xsd', contents: await readFile(xsdFile, 'utf8') };
    const result = await validateXML({ xml: [{ fileName: 'junit.xml', contents: xml }], schema: [xsd] });
    expect(result.valid, result.rawOutput).toBe(true);
    expect(xml).toContain('name="pooltune.checklist"');
  });

  it('never writes the hostile name as markup', async () => {
    const outputs = await writeRunOutputs(dir);
    const html = await readFile(outputs.report, 'utf8');
    expect(html).not.toContain(HOSTILE);
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(await readFile(outputs.summaryMd, 'utf8')).not.toContain('<script>');
    expect(await readFile(outputs.junit, 'utf8')).not.toContain('<script>');
  });
});
