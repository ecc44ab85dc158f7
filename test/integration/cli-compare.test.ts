import { access, cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ExitCode } from '../../harness/errors.ts';
import { REPORT_CSP } from '../../harness/report/html.ts';
import { runCli } from '../helpers/fake-host.ts';
import { plantRegression } from '../helpers/plant-regression.ts';

// A real `pooltune tune` of the bundled target, and a copy of it with a regression planted in every
// measured trial: latencies × 1.5, throughput × 0.8.
const fixture = fileURLToPath(new URL('../fixtures/runs/tune-http-pg/', import.meta.url));

let dir = '';
let planted = '';
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'pooltune-compare-'));
  planted = await plantRegression(fixture, path.join(dir, 'planted'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const cli = (argv: string[]) => runCli(argv, dir);

describe('pooltune compare', () => {
  it('flags a planted regression with exit 4 and writes a report overlaying both runs', async () => {
    const { code, out, err } = await cli(['compare', fixture, planted]);
    expect(code, err).toBe(ExitCode.regression);
    expect(out).toMatch(/^REGRESSED {2}/m);
    expect(out).toMatch(/18 points compared: 18 regressed/);
    // By default the report goes into the current run's directory.
    const report = path.join(planted, 'comparison.html');
    expect(out).toContain(`report: ${report}`);
    const html = await readFile(report, 'utf8');
    expect(html).toContain(`content="${REPORT_CSP}"`);
    const svgs = html.match(/<svg[\s\S]*?<\/svg>/g) ?? [];
    expect(svgs).toHaveLength(2);
    for (const svg of svgs) {
      // Both runs are drawn on each chart, each in its own colour.
      expect(svg).toContain('baseline 20261124-171506-http-pg-zi8t');
      expect(svg).toContain('current 20261124-171506-http-pg-zi8t-planted');
      expect(svg).toContain('#718096');
      expect(svg).toContain('#c05621');
    }
    expect(html).toContain('<span class="badge badge-fail">regression</span>');
    expect(html.match(/<tr class="check-fail"/g)).toHaveLength(18);
    expect(html).not.toMatch(/<script/i);
  });

  it('passes a run compared with itself (exit 0), and --json gives the comparison', async () => {
    const out = path.join(dir, 'self.html');
    const result = await cli(['compare', fixture, fixture, '--json', '--out', out]);
    expect(result.code, result.err).toBe(ExitCode.ok);
    const parsed = JSON.parse(result.out) as {
      report: string;
      regressed: boolean;
      comparison: { points: { verdict: string; latencyTest: { effect: number } }[] };
    };
    expect(parsed.report).toBe(out);
    expect(parsed.regressed).toBe(false);
    expect(parsed.comparison.points).toHaveLength(18);
    expect(parsed.comparison.points.every((p) => p.verdict === 'unchanged')).toBe(true);
    expect(parsed.comparison.points.every((p) => p.latencyTest.effect === 0)).toBe(true);
    await access(out);
  });

  it('honours the thresholds: a 5% slowdown passes at 10% and fails at 2%', async () => {
    const mild = await plantRegression(fixture, path.join(dir, 'mild'), {
      latencyFactor: 1.05,
      throughputFactor: 1,
    });
    const lenient = await cli(['compare', fixture, mild, '--out', path.join(dir, 'mild-10.html')]);
    expect(lenient.code, lenient.err).toBe(ExitCode.ok);
    const strict = await cli([
      'compare',
      fixture,
      mild,
      '--p99-threshold',
      '2%',
      '--out',
      path.join(dir, 'mild-2.html'),
    ]);
    expect(strict.code, strict.err).toBe(ExitCode.regression);
  });

  it('takes the thresholds from the config file, and flags over it', async () => {
    const mild = path.join(dir, 'mild-config');
    await plantRegression(fixture, mild, { latencyFactor: 1.05, throughputFactor: 1 });
    await cp(fixture, path.join(dir, 'base-config'), { recursive: true });
    await writeFile(
      path.join(dir, 'pooltune.config.json'),
      JSON.stringify({ compare: { p99Threshold: 0.02 } }),
    );
    try {
      const fromConfig = await cli(['compare', 'base-config', 'mild-config', '--out', 'c1.html']);
      expect(fromConfig.code, fromConfig.err).toBe(ExitCode.regression);
      const overridden = await cli([
        'compare',
        'base-config',
        'mild-config',
        '--p99-threshold',
        '0.1',
        '--out',
        'c2.html',
      ]);
      expect(overridden.code, overridden.err).toBe(ExitCode.ok);
    } finally {
      await rm(path.join(dir, 'pooltune.config.json'));
    }
  });

  it('accepts a summary.json as the baseline', async () => {
    // `pooltune report` writes summary.json (with the run's comparable points) beside the report.
    const copy = path.join(dir, 'with-summary');
    await cp(fixture, copy, { recursive: true });
    const rendered = await cli(['report', copy]);
    expect(rendered.code, rendered.err).toBe(ExitCode.ok);
    const summary = path.join(copy, 'summary.json');
    const out = path.join(dir, 'from-summary.html');
    const against = await cli(['compare', summary, planted, '--out', out]);
    expect(against.code, against.err).toBe(ExitCode.regression);
    expect(against.out).toMatch(/18 points compared: 18 regressed/);
    const itself = await cli(['compare', summary, copy, '--out', out]);
    expect(itself.code, itself.err).toBe(ExitCode.ok);
  });

  it('rejects what is not a run with exit 2 and a message naming the path', async () => {
    const missing = path.join(dir, 'no-such-run');
    const gone = await cli(['compare', missing, fixture]);
    expect(gone.code).toBe(ExitCode.usage);
    expect(gone.err).toContain(missing);
    expect(gone.err).toMatch(/hint: /);

    const notSummary = path.join(dir, 'not-a-summary.json');
    await writeFile(notSummary, JSON.stringify({ hello: 'world' }));
    const invalid = await cli(['compare', notSummary, fixture]);
    expect(invalid.code).toBe(ExitCode.usage);
    expect(invalid.err).toContain(`${notSummary} is not a valid pooltune summary.json`);

    const emptyDir = path.join(dir, 'empty');
    await cp(fixture, emptyDir, { recursive: true, filter: (source) => !source.endsWith('manifest.json') });
    const notRun = await cli(['compare', fixture, emptyDir]);
    expect(notRun.code).toBe(ExitCode.usage);
    expect(notRun.err).toContain(path.join(emptyDir, 'manifest.json'));

    const one = await cli(['compare', fixture]);
    expect(one.code).toBe(ExitCode.usage);
    expect(one.err).toContain('compare needs a baseline and a current run');

    const badFlag = await cli(['compare', fixture, fixture, '--throughput-threshold', '1.5']);
    expect(badFlag.code).toBe(ExitCode.usage);
    expect(badFlag.err).toContain('--throughput-threshold');
  });
});
