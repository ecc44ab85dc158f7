import { cp, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeRunOutputs } from '../../harness/report/write-report.ts';
import type { TrialResult } from '../../harness/results/trial.ts';

/** The budgets: a 200-trial report renders in under 2 s and weighs under 1.5 MB. */
const TRIALS = 200;
const BUDGET_MS = 2000;
const BUDGET_BYTES = 1.5 * 1024 * 1024;
const ROUNDS = 5;

const fixture = fileURLToPath(new URL('../fixtures/runs/tune-http-pg/', import.meta.url));

/**
 * Renders every output of a 200-trial run (report.html with its charts, summary.json, junit.xml,
 * summary.md, trials.csv): the real tune fixture's 48 trials repeated under new ids, each copy part of
 * its original's step (so the fits and charts see all 200). Prints the first (cold:
 * templates compiled, vega loaded) render and the median of the next five and the report's size, each
 * as a ratio of its budget. Asserts nothing.
 */
export async function benchReport(log: (line: string) => void): Promise<Record<string, number>> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'pooltune-bench-report-'));
  try {
    await cp(fixture, dir, { recursive: true });
    const lines = (await readFile(path.join(dir, 'trials.jsonl'), 'utf8')).split('\n').filter(Boolean);
    const source = lines.map((line) => JSON.parse(line) as TrialResult);
    const trials = Array.from({ length: TRIALS }, (_, i) => {
      const trial = source[i % source.length] as TrialResult;
      return { ...trial, id: `t${String(i + 1).padStart(3, '0')}` };
    });
    await writeFile(path.join(dir, 'trials.jsonl'), `${trials.map((t) => JSON.stringify(t)).join('\n')}\n`);
    // Each copy joins its original's step, so the charts and fits see all 200 trials (the worst case).
    const analysisFile = path.join(dir, 'analysis.json');
    const analysis = JSON.parse(await readFile(analysisFile, 'utf8')) as { steps: { trials: string[] }[] };
    for (const step of analysis.steps) {
      const ids = new Set(step.trials);
      step.trials = trials
        .filter((_, i) => ids.has((source[i % source.length] as TrialResult).id))
        .map((t) => t.id);
    }
    await writeFile(analysisFile, JSON.stringify(analysis));

    const coldStart = performance.now();
    await writeRunOutputs(dir);
    const cold = performance.now() - coldStart;
    const times: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const started = performance.now();
      await writeRunOutputs(dir);
      times.push(performance.now() - started);
    }
    times.sort((a, b) => a - b);
    const ms = times[Math.floor(times.length / 2)] ?? 0;
    const bytes = (await stat(path.join(dir, 'report.html'))).size;
    log(
      `render ${TRIALS} trials: first (cold) ${cold.toFixed(0)} ms; then median ${ms.toFixed(0)} ms of ${ROUNDS} (budget ${BUDGET_MS} ms)`,
    );
    log(`report.html: ${(bytes / 1024).toFixed(0)} KiB (budget ${(BUDGET_BYTES / 1024).toFixed(0)} KiB)`);
    return {
      'report.renderColdMs200': Math.round(cold),
      'report.renderMs200': Math.round(ms),
      'report.renderBudgetRatio': ms / BUDGET_MS,
      'report.bytes200': bytes,
      'report.sizeBudgetRatio': bytes / BUDGET_BYTES,
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
