import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  formatBytes,
  formatDate,
  formatErrors,
  formatMs,
  formatThroughput,
  median,
  NOT_AVAILABLE,
} from '../../harness/report/format.ts';
import { buildReportView } from '../../harness/report/view-model.ts';
import { type RunContents, readRun } from '../../harness/results/read-run.ts';
import type { CompletedTrial, TrialResult } from '../../harness/results/trial.ts';

const fixtureDir = fileURLToPath(new URL('../fixtures/runs/sweep-small/', import.meta.url));

let run: RunContents;
beforeAll(async () => {
  run = await readRun(fixtureDir);
});

function completed(trials: readonly TrialResult[], id: string): CompletedTrial {
  const trial = trials.find((t) => t.id === id);
  if (trial?.status !== 'completed') throw new Error(`fixture has no completed trial ${id}`);
  return trial;
}

describe('buildReportView from the sweep-small fixture', () => {
  it('names the best completed knob value, its throughput and p99 there', () => {
    const view = buildReportView(run.manifest, run.trials);
    expect(view.summary.best).toEqual({
      at: 'max = 8',
      knobValue: 8,
      throughput: 2329.5,
      p99Ms: 23.007,
      trialIds: ['t004'],
    });
    expect(view.summary.headline).toBe(
      'Highest measured throughput: 2,329.5 req/s at max = 8 (t004); p99 there 23.0 ms.',
    );
    expect(view.summary.counts).toBe(
      "6 trials: 4 completed, 1 invalid, 1 errored. Only completed trials count towards the summary and the charts' lines.",
    );
  });

  it('ignores the invalid trial even though it measured more (the generator was the limit)', () => {
    const invalid = run.trials.find((t) => t.id === 't005');
    expect(invalid?.status).toBe('invalid');
    expect(invalid?.status === 'invalid' && invalid.client.throughput).toBe(2369.2);
    expect(buildReportView(run.manifest, run.trials).summary.best?.throughput).toBe(2329.5);
  });

  it('puts only completed trials in the chart lines, invalid ones apart, errored ones in a note', () => {
    const charts = buildReportView(run.manifest, run.trials).charts;
    const sweep = charts.poolSize[0];
    expect(charts.poolSize).toHaveLength(1);
    expect(sweep?.pool).toBeNull();
    expect(sweep?.knob).toBe('max');
    expect(sweep?.scale).toBe('log2');
    expect(sweep?.ticks).toEqual([1, 2, 4, 8, 16, 32]);
    expect(sweep?.sizes.map((p) => [p.n, p.throughput, p.trialIds])).toEqual([
      [1, 615.3, ['t001']],
      [2, 1184.1, ['t002']],
      [4, 2205.1, ['t003']],
      [8, 2329.5, ['t004']],
    ]);
    expect(sweep?.sizes.map((p) => [p.n, p.p99Ms])).toEqual([
      [1, 74.047],
      [2, 41.023],
      [4, 23.007],
      [8, 23.007],
    ]);
    expect(sweep?.sizes.map((p) => p.p50Ms)).toEqual([35.007, 18.015, 10.007, 9.007]);
    const lineIds = (sweep?.sizes ?? []).flatMap((p) => p.trialIds);
    expect(lineIds).not.toContain('t005');
    expect(lineIds).not.toContain('t006');
    expect(sweep?.excluded).toEqual([
      { trialId: 't005', n: 16, throughput: 2369.2, p50Ms: 9.007, p99Ms: 23.007 },
    ]);
    expect(charts.notPlotted).toEqual(['t006 (max = 32): errored, no figures']);
    // A plain run draws only these two charts, and lists nothing as missing.
    expect(charts.notDrawn).toEqual([]);
    expect(sweep?.errors).toBeNull();
  });

  it('formats every trial row, with the reason or error of those that did not complete', () => {
    const rows = buildReportView(run.manifest, run.trials).trials;
    expect(rows.map((r) => [r.id, r.status, r.knobs])).toEqual([
      ['t001', 'completed', 'max=1'],
      ['t002', 'completed', 'max=2'],
      ['t003', 'completed', 'max=4'],
      ['t004', 'completed', 'max=8'],
      ['t005', 'invalid', 'max=16'],
      ['t006', 'errored', 'max=32'],
    ]);
    expect(rows[0]).toEqual({
      id: 't001',
      step: 'pool-sweep',
      knobs: 'max=1',
      repetition: '0',
      status: 'completed',
      detail: null,
      logTail: [],
      throughput: '615.3',
      p50: '35.0',
      p90: '59.0',
      p99: '74.0',
      p999: '84.0',
      errors: '4 status:503, 1 timeout',
      poolWaitingMean: '20.2',
      poolWaitingMax: '31',
      targetCpu: '38%',
      generatorCpu: '19%',
      native: NOT_AVAILABLE,
    });
    expect(rows[3]?.throughput).toBe('2,329.5');
    expect(rows[3]?.errors).toBe('none');
    expect(rows[3]?.targetCpu).toBe('121%');
    expect(rows[4]?.detail).toBe(
      'generator CPU share 0.97 >= 0.95: the load generator, not the target, was the limit',
    );
    expect(rows[4]?.generatorCpu).toBe('97%');
    expect(rows[4]?.errors).toBe('2 ECONNRESET');
    expect(rows[5]?.detail).toBe('service api exited with code 1 during warm-up');
    expect(rows[5]?.logTail).toContain('error: sorry, too many clients already');
    expect(rows[5]?.throughput).toBe(NOT_AVAILABLE);
    expect(rows[5]?.poolWaitingMax).toBe(NOT_AVAILABLE);
  });

  it('fills the header from the manifest', () => {
    const view = buildReportView(run.manifest, run.trials, { warnings: ['w'] });
    expect(view.title).toBe('pooltune report: http-pg, max sweep');
    expect(view.header).toMatchObject({
      target: 'http-pg',
      services: 'db, api (entry: api)',
      scenario: 'saturate',
      driver: 'autocannon',
      date: '2025-11-24 14:30:00 UTC',
      sweep: 'max: 1, 2, 4, 8, 16, 32',
      fixedKnobs:
        'idleTimeoutMillis=10000, connectionTimeoutMillis=5000, maxLifetimeSeconds=0, statement_timeout=30000',
    });
    expect(view.header.environment).toEqual([
      { label: 'platform', value: 'linux x64' },
      { label: 'CPUs', value: '2 × Intel(R) Xeon(R) CPU @ 2.20GHz' },
      { label: 'memory', value: '7.8 GiB' },
      { label: 'Node.js', value: 'v20.20.2' },
      { label: 'PostgreSQL', value: '18.4' },
      { label: 'pooltune', value: '0.1.0' },
      { label: 'runtime', value: 'process' },
    ]);
    expect(view.warnings).toEqual(['w']);
  });
});

describe('buildReportView with repetitions and edge cases', () => {
  it('takes the median over repetitions and breaks ties towards the smaller pool', () => {
    const t004 = completed(run.trials, 't004');
    const t003 = completed(run.trials, 't003');
    const rep = (base: CompletedTrial, id: string, throughput: number, p99: number): CompletedTrial => ({
      ...base,
      id,
      repetition: 1,
      client: { ...base.client, throughput, latency: { ...base.client.latency, p99 } },
    });
    const trials = [
      rep(t003, 'a', 2000, 30),
      rep(t003, 'b', 2400, 20),
      rep(t003, 'c', 2300, 25),
      rep(t004, 'd', 2300, 40),
    ];
    const view = buildReportView(run.manifest, trials);
    // max=4: median 2300 (p99 median 25); max=8: 2300 too, so the smaller pool wins the tie.
    expect(view.summary.best).toMatchObject({
      at: 'max = 4',
      throughput: 2300,
      p99Ms: 25,
      trialIds: ['a', 'b', 'c'],
    });
    expect(view.summary.headline).toBe(
      'Highest measured throughput: 2,300.0 req/s at max = 4 (median of a, b, c); p99 there 25.0 ms.',
    );
    expect(view.charts.poolSize[0]?.sizes.map((p) => [p.n, p.throughput])).toEqual([
      [4, 2300],
      [8, 2300],
    ]);
  });

  it('says so when no trial completed, and draws no line', () => {
    const view = buildReportView(
      run.manifest,
      run.trials.filter((t) => t.status !== 'completed'),
    );
    expect(view.summary.best).toBeNull();
    expect(view.summary.headline).toBe('No trial completed, so nothing here measures the target.');
    expect(view.charts.poolSize[0]?.sizes).toEqual([]);
    expect(view.charts.poolSize[0]?.excluded.map((p) => p.trialId)).toEqual(['t005']);
  });

  it('has no sweep (and no charts data) for a run without one', () => {
    const { sweep: _sweep, ...manifest } = run.manifest;
    const view = buildReportView(manifest, [completed(run.trials, 't004')]);
    expect(view.charts.poolSize).toEqual([]);
    expect(view.header.sweep).toBeNull();
    expect(view.summary.headline).toBe(
      'Highest measured throughput: 2,329.5 req/s (t004); p99 there 23.0 ms.',
    );
  });

  it('uses a linear axis when a swept value is not positive', () => {
    const t002 = completed(run.trials, 't002');
    const zero: CompletedTrial = { ...t002, id: 'z', knobs: { ...t002.knobs, max: 0 } };
    expect(buildReportView(run.manifest, [zero, t002]).charts.poolSize[0]?.scale).toBe('linear');
  });
});

describe('formatters', () => {
  it('format figures to fixed, locale-independent strings', () => {
    expect(formatThroughput(2329.5)).toBe('2,329.5');
    expect(formatThroughput(12)).toBe('12.0');
    expect(formatMs(0.8123)).toBe('0.81');
    expect(formatMs(9.007)).toBe('9.01');
    expect(formatMs(23.007)).toBe('23.0');
    expect(formatMs(145.4)).toBe('145');
    expect(formatMs(1204.4)).toBe('1,204');
    expect(formatErrors({ timeout: 1, 'status:503': 4, ECONNRESET: 0 })).toBe('4 status:503, 1 timeout');
    expect(formatErrors({})).toBe('none');
    expect(formatBytes(8341037056)).toBe('7.8 GiB');
    expect(formatBytes(512)).toBe('512 B');
    expect(formatDate('2025-11-24T14:30:00.000Z')).toBe('2025-11-24 14:30:00 UTC');
    expect(formatDate('yesterday')).toBe('yesterday');
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
  });
});
