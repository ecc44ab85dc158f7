import { describe, expect, it } from 'vitest';
import { escapeMarkdown, renderSummaryMarkdown } from '../../harness/report/markdown.ts';
import { runSummarySchema } from '../../harness/report/summary-schema.ts';
import { checklistItem, runSummary, sloCheck } from '../helpers/run-summary.ts';

/** A GFM table row's cells: split on pipes that are not backslash-escaped. */
const cells = (row: string) => row.split(/(?<!\\)\|/).slice(1, -1);
const tableRows = (markdown: string) => markdown.split('\n').filter((line) => line.startsWith('|'));

describe('summary.md', () => {
  it('keeps a passing run short: verdict, settings diff, expected at peak, no list of passing checks', () => {
    const markdown = renderSummaryMarkdown(runSummarySchema.parse(runSummary()), {
      reportPath: 'reports/out/20261124-171506-http-pg-zi8t/report.html',
    });
    const lines = markdown.trimEnd().split('\n');
    expect(lines[0]).toBe('## pooltune http-pg: PASS');
    expect(lines.length).toBeLessThanOrEqual(40);
    expect(markdown).toContain('| max | 10 | **12** | 11–12 |');
    // Unchanged knobs are listed, but not in bold.
    expect(markdown).toContain('| idleTimeoutMillis | 4500 ms | 4500 ms | — |');
    expect(markdown).toContain('Expected at peak: 1,494 req/s (95% CI 1,489–1,507), p99 22.7 ms');
    expect(markdown).toContain('3 of 3 checks hold');
    expect(markdown).not.toMatch(/^- /m);
    expect(markdown).not.toContain('peak@1500');
    expect(markdown).not.toContain('Draining');
    expect(lines.at(-1)).toBe('Full report: reports/out/20261124-171506-http-pg-zi8t/report.html');
  });

  it('lists failed and warning checks, failures first, and the regression', () => {
    const base = runSummary();
    const summary = runSummarySchema.parse(
      runSummary({
        verdict: 'fail',
        exitCode: 3,
        slo: {
          ...base.slo,
          status: 'fail',
          checks: [
            sloCheck({ id: 'a', name: 'peak@1500: error rate <= 1.00%', status: 'pass' }),
            sloCheck({ status: 'fail', observed: 312.4, detail: 'p99 312.4 ms' }),
          ],
        },
        checklist: [
          checklistItem({
            title: 'Leaks prevented',
            status: 'warn',
            evidence: 'CLOSE_WAIT grew\nover 3 samples',
          }),
          checklistItem({ title: 'Health checks', status: 'not-checked' }),
          checklistItem({ title: 'Timeouts set', status: 'pass' }),
        ],
        regression: {
          baseline: 'nightly-1',
          regressed: true,
          compared: 9,
          regressions: ['peak|max=12: p99 +40%'],
        },
      }),
    );
    const markdown = renderSummaryMarkdown(summary);
    const problems = markdown.split('\n').filter((line) => line.startsWith('- **'));
    expect(problems).toEqual([
      '- **FAIL** SLO pg: peak@1500: p99 \\<= 250 ms: p99 312.4 ms (observed 312 ms, threshold 250 ms)',
      '- **WARN** Leaks prevented: CLOSE\\_WAIT grew over 3 samples',
    ]);
    expect(markdown).toMatch(/^## pooltune http-pg: FAIL$/m);
    expect(markdown).toContain('**FAIL**: the SLO failed at the recommended settings (exit code 3).');
    expect(markdown).not.toContain('error rate <= 1.00%:');
    expect(markdown).not.toMatch(/Health checks|Timeouts set:/);
    expect(markdown).toContain('checklist: 1 pass, 1 warn, 0 fail, 1 not checked');
    expect(markdown).toContain('**Regression** against nightly-1: 1 of 9 compared points regressed.');
    expect(markdown).toContain('- peak\\|max=12: p99 +40%');
    expect(markdown).toContain('Full report: report.html beside this file');
  });

  it('escapes strings from the config so a table keeps its columns and no HTML gets through', () => {
    const base = runSummary();
    const [rec] = base.recommendations;
    if (rec === undefined) throw new Error('the fixture has a recommendation');
    const hostile = 'a|b <script>alert(1)</script> `code` *x* [l](http://e) &amp;\nnext';
    const summary = runSummarySchema.parse({
      ...base,
      target: { ...base.target, name: hostile },
      recommendations: [
        {
          ...rec,
          pool: hostile,
          settings: rec.settings.map((setting) => ({ ...setting, knob: hostile, current: hostile })),
        },
      ],
    });
    const markdown = renderSummaryMarkdown(summary, { reportPath: 'out/<run>|x/report.html' });
    const rows = tableRows(markdown);
    expect(rows.length).toBe(4);
    for (const row of rows) expect(cells(row)).toHaveLength(4);
    expect(markdown).not.toMatch(/(?<!\\)[<>`]/);
    expect(markdown).not.toMatch(/(?<!\\)\]\(/);
    expect(markdown).toContain(
      'a\\|b \\<script\\>alert(1)\\</script\\> \\`code\\` \\*x\\* \\[l\\](http://e) \\&amp; next',
    );
    expect(markdown).toContain('Full report: out/\\<run\\>\\|x/report.html');
  });

  it('escapes every character Markdown or HTML gives a meaning, and only those', () => {
    expect(escapeMarkdown('\\`*_[]<>|~&#!')).toBe('\\\\\\`\\*\\_\\[\\]\\<\\>\\|\\~\\&\\#\\!');
    expect(escapeMarkdown('pg-main.max = 12 (ok)')).toBe('pg-main.max = 12 (ok)');
    expect(escapeMarkdown('a\r\nb\u0000c')).toBe('a b c');
  });

  it('says so when the run tuned no pool', () => {
    const markdown = renderSummaryMarkdown(runSummarySchema.parse(runSummary({ recommendations: [] })));
    expect(markdown).toContain('No recommendation: the run tuned no pool.');
    expect(tableRows(markdown)).toEqual([]);
  });
});
