import { existsSync } from 'node:fs';
import { appendFile, cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Handlebars from 'handlebars';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { isPooltuneError } from '../../harness/errors.ts';
import { logTicks, type RenderedChart, renderCharts } from '../../harness/report/charts.ts';
import { REPORT_CSP, renderReportHtml } from '../../harness/report/html.ts';
import { buildReportView, type ReportView } from '../../harness/report/view-model.ts';
import { writeReport } from '../../harness/report/write-report.ts';
import type { Manifest } from '../../harness/results/manifest.ts';
import { type RunContents, readRun } from '../../harness/results/read-run.ts';

const fixtureDir = fileURLToPath(new URL('../fixtures/runs/sweep-small/', import.meta.url));

let run: RunContents;
let view: ReportView;
let charts: RenderedChart[];
let html: string;

beforeAll(async () => {
  run = await readRun(fixtureDir);
  view = buildReportView(run.manifest, run.trials);
  charts = await renderCharts(view);
  html = renderReportHtml(view, charts);
});

/** Text as Handlebars writes it into the page (it escapes `&<>"'\`=`). */
const escaped = (text: string) => Handlebars.escapeExpression(text);

/** Every src/href-like attribute value in the page (SVG namespaces are declarations, not requests). */
function resourceUrls(page: string): string[] {
  return [
    ...page.matchAll(/\s(?:src|href|xlink:href|srcset|action|poster|data)\s*=\s*["']?([^"'\s>]*)/gi),
  ].map((match) => match[1] ?? '');
}

describe('renderCharts', () => {
  it('renders the throughput and latency charts to SVG with marks and no warnings', () => {
    expect(charts.map((c) => c.id)).toEqual(['throughput', 'latency']);
    for (const chart of charts) {
      expect(chart.svg.startsWith('<svg')).toBe(true);
      expect(chart.svg).toContain('mark-line');
      expect(chart.svg).toContain('mark-symbol');
      expect(chart.warnings).toEqual([]);
    }
  });

  it('fetches nothing while rendering', async () => {
    const fetchSpy = vi.spyOn(globalThis, 'fetch').mockRejectedValue(new Error('no network in charts'));
    try {
      await renderCharts(view);
      expect(fetchSpy).not.toHaveBeenCalled();
    } finally {
      fetchSpy.mockRestore();
    }
  });

  it('puts 1-2-5 ticks on the latency axis', () => {
    expect(logTicks([9.007, 74.047])).toEqual([1, 2, 5, 10, 20, 50, 100]);
    expect(logTicks([0.4, 3])).toEqual([0.1, 0.2, 0.5, 1, 2, 5, 10]);
    expect(logTicks([])).toEqual([]);
  });

  it('draws no chart when nothing was swept', async () => {
    expect(await renderCharts({ ...view, charts: { ...view.charts, poolSize: [] } })).toEqual([]);
  });
});

describe('renderReportHtml', () => {
  it('declares the CSP and inlines both charts', () => {
    expect(html.startsWith('<!doctype html>')).toBe(true);
    expect(html).toContain(`<meta http-equiv="Content-Security-Policy" content="${REPORT_CSP}">`);
    expect(REPORT_CSP).toBe("default-src 'none'; style-src 'unsafe-inline'; img-src data:");
    expect(html.match(/<svg\b/g)).toHaveLength(2);
    expect(html).toContain('id="chart-throughput"');
    expect(html).toContain('id="chart-latency"');
  });

  it('requests nothing: no remote URLs, no scripts, no stylesheets or fonts to load', () => {
    const urls = resourceUrls(html);
    expect(urls.filter((url) => /^(https?:)?\/\//i.test(url))).toEqual([]);
    expect(html).not.toMatch(/<script\b/i);
    expect(html).not.toMatch(/<link\b/i);
    expect(html).not.toMatch(/@import|@font-face|url\(/i);
  });

  it('shows the summary, the note on left-out trials and every trial row', () => {
    expect(html).toContain(
      escaped('Highest measured throughput: 2,329.5 req/s at max = 8 (t004); p99 there 23.0 ms.'),
    );
    expect(html).toContain(`Not plotted: ${escaped('t006 (max = 32): errored, no figures')}.`);
    for (const id of ['t001', 't002', 't003', 't004', 't005', 't006'])
      expect(html).toContain(`id="trial-${id}"`);
    expect(html).toContain('class="status-invalid"');
    expect(html).toContain('service api exited with code 1 during warm-up');
    // Handlebars escapes the `>=` of the invalid trial's reason like every other value.
    expect(html).toContain('generator CPU share 0.97 &gt;&#x3D; 0.95');
  });

  it('escapes hostile strings from the manifest and the trials, also inside the charts', async () => {
    const attack = '<script>alert(1)</script>';
    const manifest: Manifest = {
      ...run.manifest,
      target: { ...run.manifest.target, name: attack, description: '"><img src=x onerror=alert(2)>' },
      sweep: { knob: '<img src=x onerror=alert(3)>', values: [1, 2, 4, 8, 16, 32] },
    };
    const trials = run.trials.map((t) => ({
      ...t,
      knobs: { ...t.knobs, '<img src=x onerror=alert(3)>': t.knobs.max ?? 1 },
      ...(t.status === 'errored' ? { error: attack, logTail: ['</pre><script>alert(4)</script>'] } : {}),
    }));
    const hostileView = buildReportView(manifest, trials);
    const page = renderReportHtml(hostileView, await renderCharts(hostileView));
    expect(page).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(page).not.toMatch(/<script\b/i);
    expect(page).not.toMatch(/<img\b/i);
    expect(page.match(/<svg\b/g)).toHaveLength(2);
  });
});

describe('writeReport', () => {
  let dir: string | undefined;
  afterEach(async () => {
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
    dir = undefined;
  });

  async function copyFixture(): Promise<string> {
    dir = await mkdtemp(join(tmpdir(), 'pooltune-report-'));
    await cp(fixtureDir, dir, { recursive: true });
    return dir;
  }

  it('writes report.html beside the manifest and returns its path', async () => {
    const runDir = await copyFixture();
    const warnings: string[] = [];
    const path = await writeReport(runDir, { onWarning: (w) => warnings.push(w) });
    expect(path).toBe(join(runDir, 'report.html'));
    const page = await readFile(path, 'utf8');
    expect(page.match(/<svg\b/g)).toHaveLength(2);
    expect(warnings).toEqual([]);
  });

  it('drops a torn last line with a warning, shown in the page too', async () => {
    const runDir = await copyFixture();
    await appendFile(
      join(runDir, 'trials.jsonl'),
      '{"id":"t007","step":"pool-sweep","knobs":{"max":64},"sta',
    );
    const warnings: string[] = [];
    const page = await readFile(await writeReport(runDir, { onWarning: (w) => warnings.push(w) }), 'utf8');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/trials\.jsonl: line 7 is incomplete/);
    expect(page).toContain(escaped(warnings[0] ?? '-'));
    expect(page).not.toContain('id="trial-t007"');
    expect(page).toContain('id="trial-t006"');
  });

  it('skips blank lines but refuses a broken line that is not the last', async () => {
    const runDir = await copyFixture();
    const log = join(runDir, 'trials.jsonl');
    const lines = (await readFile(log, 'utf8')).split('\n');
    await writeFile(log, ['', lines[0], '   ', '{broken', ...lines.slice(1)].join('\n'));
    await expect(writeReport(runDir)).rejects.toThrow(/trials\.jsonl: line 4 is not valid JSON/);
    expect(existsSync(join(runDir, 'report.html'))).toBe(false);
  });

  it('names a line that is JSON but not a trial', async () => {
    const runDir = await copyFixture();
    await appendFile(join(runDir, 'trials.jsonl'), '{"id":"t007","status":"finished","knobs":{"max":64}}\n');
    const error = await writeReport(runDir).catch((e: unknown) => e);
    expect(isPooltuneError(error)).toBe(true);
    expect(error instanceof Error && error.message).toMatch(/trials\.jsonl: trial 7 is not a trial result$/);
  });

  it('names the missing manifest', async () => {
    const runDir = await copyFixture();
    await rm(join(runDir, 'manifest.json'));
    const error = await writeReport(runDir).catch((e: unknown) => e);
    expect(isPooltuneError(error)).toBe(true);
    expect(error instanceof Error && error.message).toMatch(/manifest\.json not found/);
  });
});
