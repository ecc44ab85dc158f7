import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { buildChecklist } from '../../harness/report/checklist.ts';
import { csvCell, trialsCsv } from '../../harness/report/csv.ts';
import { buildRisks } from '../../harness/report/risks.ts';
import type { RunEvidence } from '../../harness/report/run-evidence.ts';
import { buildRunSummary } from '../../harness/report/summary.ts';
import { runSummarySchema } from '../../harness/report/summary-schema.ts';
import type { Manifest } from '../../harness/results/manifest.ts';
import type { MeasuredTrial, TrialResult } from '../../harness/results/trial.ts';
import type { MethodOutcome } from '../../harness/tuning/outcome.ts';

// A real `pooltune tune` of the bundled target (48 trials, 3 repetitions), committed as a fixture.
const dir = fileURLToPath(new URL('../fixtures/runs/tune-http-pg/', import.meta.url));
const read = (name: string) => readFileSync(`${dir}${name}`, 'utf8');
const fixture: RunEvidence = {
  manifest: JSON.parse(read('manifest.json')) as Manifest,
  trials: read('trials.jsonl')
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as TrialResult),
  analysis: JSON.parse(read('analysis.json')) as MethodOutcome,
};

/** A deep copy to plant a fault in. */
const copy = (): { -readonly [K in keyof RunEvidence]: RunEvidence[K] } => structuredClone(fixture);
const item = (run: RunEvidence, id: string) => buildChecklist(run).find((entry) => entry.id === id);

describe('summary.json from a real tune', () => {
  const summary = buildRunSummary(fixture, []);

  it('is valid against its schema and passes the SLO with exit code 0', () => {
    expect(() => runSummarySchema.parse(summary)).not.toThrow();
    expect(summary.slo.status).toBe('pass');
    expect(summary.slo.checks.length).toBeGreaterThanOrEqual(4);
    expect(summary.exitCode).toBe(0);
    expect(summary.trials).toEqual({ total: 48, completed: 48, invalid: 0, errored: 0, aborted: 0 });
  });

  it('gives the recommendation as a diff against the starting settings', () => {
    const size = summary.recommendations[0]?.settings.find((s) => s.role === 'size');
    expect(size).toMatchObject({ knob: 'max', current: 10, recommended: 12, changed: true });
    expect(size?.interval?.low).toBeLessThanOrEqual(12);
  });

  it('gives the steady-rate gains with intervals that contain their estimate', () => {
    const gains = summary.recommendations[0]?.gains ?? [];
    expect(gains.map((g) => g.metric)).toEqual(['throughput', 'p50Ms', 'p99Ms', 'p999Ms', 'errorRate']);
    for (const gain of gains.filter((g) => g.change.low !== undefined)) {
      expect(gain.change.low).toBeLessThanOrEqual(gain.change.value + 1e-9);
      expect(gain.change.high).toBeGreaterThanOrEqual(gain.change.value - 1e-9);
    }
  });

  it('fails the SLO (exit 3) when a peak check failed, before a regression (4)', () => {
    const run = copy();
    const analysis = structuredClone(fixture.analysis) as unknown as {
      recommendations: { peakChecks: { pass: boolean; metric: string }[] }[];
    };
    const check = analysis.recommendations[0]?.peakChecks.find((c) => c.metric === 'p99');
    if (check === undefined) throw new Error('fixture has no p99 check');
    check.pass = false;
    run.analysis = analysis as unknown as MethodOutcome;
    const regression = { baseline: 'b', regressed: true, compared: 3, regressions: ['x'] };
    expect(buildRunSummary(run, []).exitCode).toBe(3);
    expect(buildRunSummary(run, [], regression).exitCode).toBe(3);
    expect(buildRunSummary(run, []).verdict).toBe('fail');
    expect(buildRunSummary(fixture, [], regression)).toMatchObject({ exitCode: 4, verdict: 'fail' });
  });

  it('checks a single-point run against the SLO point by point', () => {
    const run = {
      manifest: { ...fixture.manifest, command: 'run' as const },
      trials: fixture.trials.slice(0, 3),
    };
    const slo = buildRunSummary(run, []).slo;
    expect(slo.checks.map((c) => c.metric)).toEqual(['p99', 'errorRate']);
    const strict = buildRunSummary(
      { ...run, manifest: { ...run.manifest, slo: { p99Ms: 1, errorRate: 0 } } },
      [],
    );
    expect(strict.slo.status).toBe('fail');
    expect(strict.exitCode).toBe(3);
  });
});

describe('the decision checklist', () => {
  it('has the eight items, and says not-checked where pooltune has no evidence', () => {
    const list = buildChecklist(fixture);
    expect(list.map((entry) => entry.id)).toEqual([
      'pools-configured',
      'timeouts-set',
      'leaks-prevented',
      'health-checks',
      'monitoring',
      'circuit-breakers',
      'draining',
      'fd-limits',
    ]);
    expect(item(fixture, 'pools-configured')?.status).toBe('pass');
    expect(item(fixture, 'timeouts-set')?.status).toBe('pass');
    expect(item(fixture, 'circuit-breakers')?.status).toBe('not-checked');
  });

  it('warns about a service with outbound connections and no pool', () => {
    const run = copy();
    run.manifest = { ...run.manifest, target: { ...run.manifest.target, pools: [] } };
    expect(item(run, 'pools-configured')).toMatchObject({ status: 'warn' });
  });

  it('fails timeouts set to 0 (wait forever)', () => {
    const run = copy();
    const analysis = structuredClone(fixture.analysis) as unknown as {
      recommendations: { knobs: { role: string; value: number }[] }[];
    };
    const connect = analysis.recommendations[0]?.knobs.find((k) => k.role === 'connectTimeout');
    if (connect === undefined) throw new Error('fixture has no connect timeout');
    connect.value = 0;
    run.analysis = analysis as unknown as MethodOutcome;
    expect(item(run, 'timeouts-set')?.status).toBe('fail');
  });

  it('tells a socket caught mid-close from one left in CLOSE_WAIT', () => {
    expect(item(fixture, 'leaks-prevented')?.status).toBe('pass');
    const run = copy();
    const trial = run.trials.find((t) => t.status === 'completed') as MeasuredTrial;
    const samples = trial.server.samples.map((s, i) => ({
      ...s,
      sockets: { established: 1, timeWait: 0, closeWait: i >= 2 && i < 6 ? 5 : 0 },
    }));
    (run.trials as TrialResult[])[run.trials.indexOf(trial)] = {
      ...trial,
      server: { ...trial.server, samples },
    };
    expect(item(run, 'leaks-prevented')).toMatchObject({ status: 'warn', trials: [trial.id] });
  });

  it('fails a pool that holds more connections than its maximum', () => {
    const run = copy();
    const trial = run.trials.find((t) => t.status === 'completed') as MeasuredTrial;
    const pool = trial.server.pool;
    if (pool === undefined) throw new Error('fixture trial has no pool figures');
    const size = trial.knobs.max as number;
    (run.trials as TrialResult[])[0] = {
      ...trial,
      server: { ...trial.server, pool: { ...pool, totalMax: size + 1 } },
    };
    expect(item(run, 'leaks-prevented')?.status).toBe('fail');
  });

  it('warns when the target exports no pool metrics', () => {
    const run = copy();
    run.trials = run.trials.map((t) => {
      if (t.status !== 'completed') return t;
      const { pool: _dropped, ...server } = t.server;
      return { ...t, server };
    });
    expect(item(run, 'monitoring')?.status).toBe('warn');
  });

  it('grades open files at peak against the limit', () => {
    expect(item(fixture, 'fd-limits')?.status).toBe('pass');
    const run = copy();
    const fds = Number(/(\d+) open FDs/.exec(item(fixture, 'fd-limits')?.evidence ?? '')?.[1]);
    run.manifest = {
      ...run.manifest,
      environment: { ...run.manifest.environment, openFilesLimit: fds + 10 },
    };
    expect(item(run, 'fd-limits')?.status).toBe('fail');
    run.manifest = {
      ...run.manifest,
      environment: { ...run.manifest.environment, openFilesLimit: fds * 1.6 },
    };
    expect(item(run, 'fd-limits')?.status).toBe('warn');
  });
});

describe('risks', () => {
  it('finds none in the fixture, and names a fleet that does not fit max_connections', () => {
    expect(buildRisks(fixture)).toEqual([]);
    const run = copy();
    const analysis = structuredClone(fixture.analysis) as unknown as {
      recommendations: { fleetBudget?: Record<string, number | boolean> }[];
    };
    const rec = analysis.recommendations[0];
    if (rec === undefined) throw new Error('no recommendation');
    rec.fleetBudget = {
      instances: 10,
      poolMax: 12,
      reserve: 5,
      maxConnections: 100,
      needed: 120,
      available: 95,
      fits: false,
      headroom: -25,
      maxPoolPerInstance: 9,
    };
    run.analysis = analysis as unknown as MethodOutcome;
    const risks = buildRisks(run);
    expect(risks).toHaveLength(1);
    expect(risks[0]).toMatchObject({ severity: 'fail', id: 'pg/fleet-budget' });
    expect(risks[0]?.message).toContain('At most 9 per instance');
  });

  it('lists invalid trials with their ids', () => {
    const run = copy();
    const trial = run.trials[5] as MeasuredTrial;
    (run.trials as TrialResult[])[5] = { ...trial, status: 'invalid', reason: 'generator CPU above 90%' };
    expect(buildRisks(run)).toEqual([expect.objectContaining({ id: 'invalid-points', trials: [trial.id] })]);
  });
});

describe('trials.csv', () => {
  it('has a header and one row per trial, with a column per knob', () => {
    const lines = trialsCsv(fixture.trials).trimEnd().split('\r\n');
    expect(lines).toHaveLength(fixture.trials.length + 1);
    const header = lines[0]?.split(',') ?? [];
    expect(header).toContain('knob:max');
    expect(header).toContain('p99_ms');
    const first = fixture.trials[0] as MeasuredTrial;
    const row = lines[1]?.split(',') ?? [];
    expect(row[header.indexOf('id')]).toBe(first.id);
    expect(Number(row[header.indexOf('p99_ms')])).toBe(first.client.latency.p99);
  });

  it('quotes commas, quotes and line breaks, and defuses formulas', () => {
    expect(csvCell('a,b')).toBe('"a,b"');
    expect(csvCell('say "hi"')).toBe('"say ""hi"""');
    expect(csvCell('line\nbreak')).toBe('"line\nbreak"');
    expect(csvCell('=HYPERLINK("x")')).toBe(`"'=HYPERLINK(""x"")"`);
    expect(csvCell(-1.5)).toBe('-1.5');
    expect(csvCell(undefined)).toBe('');
  });
});
