import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLatencyHistogram, encodeHistogram } from '../../harness/analysis/histogram.ts';
import { ExitCode } from '../../harness/errors.ts';
import { readTrialLog } from '../../harness/results/trial-log.ts';
import { runCli } from '../helpers/fake-host.ts';
import { type FakeK6Request, fakeK6Points, fakeK6Requests, writeFakeK6Inputs } from '../helpers/fake-k6.ts';

let dir = '';
let summaryLine = '';
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'pooltune-k6-collect-'));
  const inputs = await writeFakeK6Inputs(dir);
  summaryLine = JSON.stringify({ root_group: {}, ...JSON.parse(await readFile(inputs.summary, 'utf8')) });
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const others: readonly FakeK6Request[] = [
  { stage: 0, status: '200', ms: 40 },
  { stage: 1, status: '200', ms: 0.5 },
  { stage: 1, status: '503', ms: 9 },
];

/**
 * A runner pod's log as `kubectl logs` gives it: k6's log lines (stderr) among the `--out json=-` points
 * (stdout), each point tagged with the runner's instance_id by k6-operator, then the summary line.
 */
function runnerLog(instance: number, requests: readonly FakeK6Request[], withSummary = true): string {
  const points = fakeK6Points(requests)
    .trimEnd()
    .split('\n')
    .map((line) =>
      line.replace('"tags":{', `"tags":{"instance_id":"${instance}","testrun_name":"pooltune-saturate",`),
    );
  return [
    'time="2026-12-04T21:00:00Z" level=info msg="pooltune:measure-start" source=console',
    ...points,
    ...(withSummary ? [summaryLine] : []),
    'time="2026-12-04T21:00:09Z" level=info msg="test finished"',
    '',
  ].join('\n');
}

const cli = (argv: string[]) => runCli(argv, dir);

describe('pooltune k6 collect', () => {
  it('merges the runners into one run that pooltune report and compare read', async () => {
    await writeFile(path.join(dir, 'runner-1.log'), runnerLog(1, fakeK6Requests));
    await writeFile(path.join(dir, 'runner-2.log.gz'), gzipSync(runnerLog(2, others)));
    const { code, out, err } = await cli([
      'k6',
      'collect',
      'runner-1.log',
      'runner-2.log.gz',
      '--json',
      '--out',
      'runs',
    ]);
    expect(err).toBe('');
    expect(code).toBe(ExitCode.ok);
    const { runDir, report } = JSON.parse(out) as { runDir: string; report: string };
    expect(path.dirname(runDir)).toBe(path.join(dir, 'runs'));
    expect(report).toBe(path.join(runDir, 'report.html'));

    const { trials } = await readTrialLog(path.join(runDir, 'trials.jsonl'));
    expect(trials).toHaveLength(1);
    const [trial] = trials;
    if (trial?.status !== 'completed') throw new Error('expected a completed trial');
    // One trial whose histogram is the union of both runners' requests, counts summed.
    const union = createLatencyHistogram();
    for (const request of [...fakeK6Requests, ...others]) union.recordValue(Math.round(request.ms * 1000));
    expect(trial.client.histogram).toBe(encodeHistogram(union));
    expect(trial.client.latency.count).toBe(7);
    expect(trial.client).toMatchObject({
      driver: 'k6',
      requests: 6,
      ok: 5,
      errors: { timeout: 1, 'status:503': 1 },
    });
    const manifest = JSON.parse(await readFile(path.join(runDir, 'manifest.json'), 'utf8')) as {
      runtimeReason: string;
    };
    expect(manifest.runtimeReason).toMatch(/^k6-operator: 2 runners/);
    const summary = JSON.parse(await readFile(path.join(runDir, 'summary.json'), 'utf8')) as {
      exitCode: number;
    };
    expect(typeof summary.exitCode).toBe('number');

    const again = await cli(['report', runDir]);
    expect(again.err).toBe('');
    expect(again.code).toBe(ExitCode.ok);
    const compared = await cli(['compare', runDir, runDir]);
    expect(compared.err).not.toMatch(/error:/);
    expect(compared.code).toBe(ExitCode.ok);
  });

  it.each([
    [
      'the same runner twice',
      [
        [1, true],
        [1, true],
      ],
      /runner-b\.log: runner instance_id 1 again \(also in runner-a\.log\)/,
    ],
    [
      'a runner missing between others',
      [
        [1, true],
        [3, true],
      ],
      /runner instance_id 2 is missing/,
    ],
    [
      'a log cut off before its summary',
      [
        [1, true],
        [2, false],
      ],
      /runner-b\.log: no end-of-test summary/,
    ],
  ] as const)('refuses %s (exit 2, naming the file, with a hint)', async (_case, runners, message) => {
    const names = ['runner-a.log', 'runner-b.log'];
    for (const [i, [instance, summary]] of runners.entries()) {
      await writeFile(path.join(dir, names[i] ?? ''), runnerLog(instance, fakeK6Requests, summary));
    }
    const { code, err } = await cli(['k6', 'collect', ...names, '--out', 'refused']);
    expect(code).toBe(ExitCode.usage);
    expect(err).toMatch(message);
    expect(err).toMatch(/\nhint: .*kubectl logs/);
    expect(err).not.toMatch(/\n\s+at /);
  });

  it('without files, or with a file that is not there, is a usage error', async () => {
    expect((await cli(['k6', 'collect'])).err).toMatch(/needs the runner logs/);
    const missing = await cli(['k6', 'collect', 'nope.log']);
    expect(missing.code).toBe(ExitCode.usage);
    expect(missing.err).toMatch(/cannot read runner log nope\.log \(ENOENT\)/);
  });
});
