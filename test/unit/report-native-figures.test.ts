import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { trialsCsv } from '../../harness/report/csv.ts';
import { renderReportHtml } from '../../harness/report/html.ts';
import { buildRunSummary } from '../../harness/report/summary.ts';
import { runSummarySchema } from '../../harness/report/summary-schema.ts';
import { buildReportView } from '../../harness/report/view-model.ts';
import { type RunContents, readRun } from '../../harness/results/read-run.ts';
import type { TrialResult } from '../../harness/results/trial.ts';
import type { MethodOutcome } from '../../harness/tuning/outcome.ts';

const fixtureDir = fileURLToPath(new URL('../fixtures/runs/tune-http-pg/', import.meta.url));

let run: RunContents;
let analysis: MethodOutcome;
beforeAll(async () => {
  run = await readRun(fixtureDir);
  if (run.analysis === undefined) throw new Error('the tune fixture has no analysis.json');
  analysis = run.analysis;
});

type Native = Record<string, { mean: number; max: number }>;

/** Native figures with numbers a test can predict: by pool size in step 4, by trial at peak and in bursts. */
function nativeFor(trial: TrialResult): Native | undefined {
  const n = trial.knobs.max;
  if (typeof n !== 'number') return undefined;
  if (trial.step === '4-grow-pool') {
    return {
      cl_waiting: { mean: 32 / n, max: 64 / n },
      sv_active: { mean: n + trial.repetition, max: n },
      // Recorded at the largest size only: the other rows show a dash.
      ...(n === 32 ? { maxwait: { mean: 0.25, max: 1 } } : {}),
    };
  }
  const peak: Record<string, Native> = {
    t039: { cl_waiting: { mean: 0.5, max: 3 }, sv_active: { mean: 11, max: 12 } },
    t040: { cl_waiting: { mean: 1, max: 4 }, sv_active: { mean: 11.5, max: 12 } },
    t041: { cl_waiting: { mean: 1.5, max: 7 }, sv_active: { mean: 12, max: 12 } },
    t042: { cl_waiting: { mean: 2, max: 2 }, sv_active: { mean: 11.5, max: 12 } },
    // A burst is not the peak test: its figures must not count there.
    t043: { cl_waiting: { mean: 50, max: 99 }, sv_active: { mean: 12, max: 12 } },
  };
  return peak[trial.id];
}

function withNative(trials: readonly TrialResult[]): TrialResult[] {
  return trials.map((trial) => {
    const native = nativeFor(trial);
    if (native === undefined || (trial.status !== 'completed' && trial.status !== 'invalid')) return trial;
    return { ...trial, server: { ...trial.server, native } };
  });
}

/** The report's view of step `number` of the method (the fixture tunes one pool). */
const step = (view: ReturnType<typeof buildReportView>, number: number) =>
  view.method?.steps.find((s) => s.number === number);

describe('native pool figures in the report', () => {
  it('tabulates the mean of each native figure per pool size measured in the grow step', () => {
    const view = buildReportView(run.manifest, withNative(run.trials), { analysis });
    const grow = step(view, 4);
    expect(grow?.native).toEqual({
      caption:
        'Native pool figures by pool size: mean over the measurement window, averaged over the repetitions',
      corner: 'max',
      columns: ['cl_waiting', 'sv_active', 'maxwait'],
      rows: [
        { head: '1', cells: ['32', '3', '—'] },
        { head: '2', cells: ['16', '4', '—'] },
        { head: '4', cells: ['8', '6', '—'] },
        { head: '6', cells: ['5.33', '8', '—'] },
        { head: '7', cells: ['4.57', '9', '—'] },
        { head: '8', cells: ['4', '10', '—'] },
        { head: '12', cells: ['2.67', '14', '—'] },
        { head: '16', cells: ['2', '18', '—'] },
        { head: '32', cells: ['1', '34', '0.25'] },
      ],
      trialIds: view.charts.poolSize[0]?.sizes.flatMap((s) => s.trialIds),
    });
  });

  it('gives the mean and max of each native figure at the peak test, bursts left out', () => {
    const view = buildReportView(run.manifest, withNative(run.trials), { analysis });
    expect(step(view, 6)?.native).toEqual({
      caption:
        'Native pool figures at the peak test (peak@1500): mean over the measurement window, and the highest sample',
      corner: 'figure',
      columns: ['mean', 'max'],
      rows: [
        { head: 'cl_waiting', cells: ['1.25', '7'] },
        { head: 'sv_active', cells: ['11.5', '12'] },
      ],
      trialIds: ['t039', 't040', 't041', 't042'],
    });
    // Steps without native figures of their own add no table.
    expect(step(view, 2)?.native).toBeNull();
  });

  it('shows the tables and a column in the trial table in the page', () => {
    const view = buildReportView(run.manifest, withNative(run.trials), { analysis });
    expect(view.nativeFigures).toBe(true);
    expect(view.trials.find((row) => row.id === 't039')?.native).toBe(
      'cl_waiting 0.50 / 3, sv_active 11 / 12',
    );
    expect(view.trials.find((row) => row.id === 't001')?.native).toBe('—');
    const html = renderReportHtml(view, []);
    expect(html.match(/<table class="native-figures">/g)).toHaveLength(2);
    expect(html).toContain('<th scope="row">cl_waiting</th><td class="num">1.25</td><td class="num">7</td>');
    expect(html).toContain('native pool figures<br>');
  });

  it('writes them to trials.csv as label=mean/max', () => {
    const [header, ...rows] = trialsCsv(withNative(run.trials)).split('\r\n');
    const column = header?.split(',').indexOf('native') ?? -1;
    expect(column).toBeGreaterThan(0);
    const t039 = rows.find((row) => row.startsWith('t039,'));
    expect(t039).toContain('cl_waiting=0.5/3;sv_active=11/12');
    expect(rows.find((row) => row.startsWith('t001,'))).not.toContain('cl_waiting');
  });

  it('records them at peak, and the knee against cores × 2, in summary.json', () => {
    const summary = buildRunSummary({ ...run, analysis, trials: withNative(run.trials) }, []);
    expect(summary.recommendations[0]?.nativeAtPeak).toEqual({
      cl_waiting: { mean: 1.25, max: 7 },
      sv_active: { mean: 11.5, max: 12 },
    });
    expect(summary.recommendations[0]?.coresRule).toMatchObject({
      cores: 2,
      source: 'host',
      rule: 4,
      knee: 12,
    });
    expect(runSummarySchema.safeParse(summary).success).toBe(true);
    const plain = buildRunSummary({ ...run, analysis }, []);
    expect(plain.recommendations[0]).not.toHaveProperty('nativeAtPeak');
  });

  it('leaves them out entirely when no trial has native figures', () => {
    const view = buildReportView(run.manifest, run.trials, { analysis });
    expect(view.nativeFigures).toBe(false);
    expect(view.method?.steps.every((s) => s.native === null)).toBe(true);
    const html = renderReportHtml(view, []);
    expect(html).not.toContain('class="native-figures"');
    expect(html).not.toContain('native pool figures');
  });
});
