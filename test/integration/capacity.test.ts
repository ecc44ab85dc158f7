import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { judgeProbe } from '../../harness/analysis/capacity-search.ts';
import { ExitCode } from '../../harness/errors.ts';
import { runSummarySchema } from '../../harness/report/summary-schema.ts';
import { readTrialLog } from '../../harness/results/trial-log.ts';
import { stepIds } from '../../harness/tuning/step.ts';
import { runCli } from '../helpers/fake-host.ts';
import { processesMatching } from '../helpers/target-trial.ts';

let dir = '';
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'pooltune-capacity-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const cli = (argv: string[]) => runCli(argv, dir);

async function summaryOf(out: string) {
  const outcome = JSON.parse(out) as { runDir: string; report: string };
  const summary = runSummarySchema.parse(
    JSON.parse(await readFile(path.join(outcome.runDir, 'summary.json'), 'utf8')),
  );
  const { trials } = await readTrialLog(path.join(outcome.runDir, 'trials.jsonl'));
  return { outcome, summary, trials };
}

describe('pooltune capacity on the bundled http-pg (real PostgreSQL, real load on loopback)', () => {
  it('doubles from the steady rate until a probe fails, bisects to 2%, validates with a longer trial, and every verdict follows from its trial', async () => {
    const { code, out, err } = await cli([
      'capacity',
      '--quick',
      '--json',
      '--set',
      'max=10',
      '--out',
      path.join(dir, 'out'),
    ]);
    expect(code, err).toBe(ExitCode.ok);
    const { outcome, summary, trials } = await summaryOf(out);
    expect(summary.command).toBe('capacity');
    const result = summary.capacity?.results[0];
    expect(result?.label).toBe('given');
    const probes = result?.probes ?? [];
    // The search is exponential up from the steady rate (300 req/s) until the first probe that does not hold.
    expect(probes[0]?.rate).toBe(300);
    const firstMiss = probes.findIndex((p) => p.verdict !== 'pass');
    for (let i = 1; i < (firstMiss === -1 ? probes.length : firstMiss); i++) {
      expect(probes[i]?.rate).toBe(2 * (probes[i - 1]?.rate ?? 0));
    }
    // http-pg holds 300 req/s on any machine this runs on; it cannot hold the 20,000 ceiling.
    expect(result?.capacity).toBeGreaterThanOrEqual(300);
    expect(result?.stoppedBy).not.toBe('max-rate');
    if (result?.stoppedBy === 'converged') {
      const { low, high } = result.bracket;
      expect(((high ?? 0) - (low ?? 0)) / (high ?? 1)).toBeLessThanOrEqual(0.02);
      expect(result.validated).toBe(true);
      expect(result.interval?.low).toBeLessThanOrEqual(low ?? 0);
    }
    // Each verdict is the one the trial on disk gives, and the answer is a rate that held.
    const capacityTrials = trials.filter((t) => t.step === stepIds.capacity);
    expect(capacityTrials.length).toBeGreaterThanOrEqual(probes.length);
    for (const probe of probes) {
      const trial = trials.find((t) => t.id === probe.trial);
      expect(trial).toBeDefined();
      if (trial === undefined) continue;
      expect(judgeProbe(trial, probe.rate, probe.validation, summary.slo).verdict).toBe(probe.verdict);
    }
    expect(probes.find((p) => p.rate === result?.capacity)?.verdict).toBe('pass');
    // A validation is held longer than a probe.
    const validation = capacityTrials.find((t) => t.scenario.startsWith('capacity-validate@'));
    const short = capacityTrials.find((t) => t.scenario.startsWith('capacity@'));
    if (validation !== undefined && short !== undefined && 'client' in validation && 'client' in short) {
      expect(validation.client.durationMs).toBeGreaterThan(short.client.durationMs * 2);
    }
    const html = await readFile(outcome.report, 'utf8');
    expect(html).toContain('Capacity under the SLO');
    expect(html).toContain('id="chart-capacity-p99"');
    expect(html).toContain('id="chart-capacity-achieved"');
    expect(await processesMatching('targets/http-pg/server.ts')).toEqual([]);
  }, 180_000);

  it('stops after one probe when the first rate already fails the SLO ("doom")', async () => {
    const file = path.join(dir, 'strict.json');
    await writeFile(
      file,
      JSON.stringify({ tuning: { slo: { p99Ms: 0.01 } }, outDir: path.join(dir, 'out') }),
    );
    const { code, out, err } = await cli(['capacity', '--quick', '--json', '--config', file]);
    expect(code, err).toBe(ExitCode.ok);
    const { summary } = await summaryOf(out);
    const result = summary.capacity?.results[0];
    expect(result?.stoppedBy).toBe('doom');
    expect(result?.probes).toHaveLength(1);
    expect(result?.capacity).toBeNull();
    expect(summary.capacity?.text).toContain('below 300 req/s');
  }, 120_000);
});
