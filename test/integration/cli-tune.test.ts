import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ExitCode } from '../../harness/errors.ts';
import { runSummarySchema } from '../../harness/report/summary-schema.ts';
import { readTrialLog } from '../../harness/results/trial-log.ts';
import { runCli } from '../helpers/fake-host.ts';
import { interruptAtSecondTrial } from '../helpers/interrupt.ts';
import { processesMatching } from '../helpers/target-trial.ts';

let dir = '';
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'pooltune-tune-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const cli = (argv: string[]) => runCli(argv, dir);

describe('pooltune tune --quick, end to end on the bundled target', () => {
  it('stops on SIGINT within 5 s keeping what it measured, resumes, runs the method on at least five pool sizes, writes the report and the CI outputs, compares with a baseline, then re-renders it from the saved results', async () => {
    const out = path.join(dir, 'out');
    // Interrupted once the first trial is on disk: load and the target stop, nothing is left behind.
    const interrupted = await interruptAtSecondTrial(['tune', '--quick', '--probes', '--out', out]);
    expect(interrupted.code, interrupted.stderr).toBe(ExitCode.interrupted);
    expect(interrupted.exitMs).toBeLessThan(5_000);
    console.log(`SIGINT to exit: ${interrupted.exitMs} ms`);
    expect(interrupted.stderr).toContain('trials measured so far are in');
    const runDir = /resume with: pooltune tune --resume (\S+)/.exec(interrupted.stderr)?.[1] ?? '';
    expect(path.dirname(runDir)).toBe(out);
    expect(await processesMatching('targets/http-pg/server.ts')).toEqual([]);
    expect(await processesMatching(`${os.tmpdir()}/pooltune-`)).toEqual([]);
    const before = await readTrialLog(path.join(runDir, 'trials.jsonl'));
    expect(before.trials[0]?.status).toBe('completed');

    // The committed full tune of the same target is the baseline: 8 of its points match a quick tune's.
    const baseline = fileURLToPath(new URL('../fixtures/runs/tune-http-pg/', import.meta.url));
    const {
      code,
      out: stdout,
      err,
    } = await cli(['tune', '--resume', runDir, '--json', '--baseline', baseline]);
    const outcome = JSON.parse(stdout) as {
      runDir: string;
      report: string;
      comparison: string;
      exitCode: number;
      replayed: number;
      statuses: { completed: number; aborted: number };
    };
    expect(outcome.runDir).toBe(runDir);
    // The trial finished before the interruption is kept as it was; the aborted one is measured again.
    expect(outcome.replayed).toBe(1);
    expect(outcome.statuses.aborted).toBe(0);
    // Quick trials against a full run may or may not regress, and on a slow shared machine one-second
    // trials at the peak rate can miss the SLO (exit 3: seen once in CI, p99 835 ms at 1,455 req/s);
    // either way the code is the summary's, and its verdict says so.
    expect([ExitCode.ok, ExitCode.regression, ExitCode.sloFailed], err).toContain(code);
    expect(outcome.exitCode).toBe(code);
    expect((await stat(outcome.report)).size).toBeGreaterThan(10_000);
    const summary = runSummarySchema.parse(
      JSON.parse(await readFile(path.join(outcome.runDir, 'summary.json'), 'utf8')),
    );
    expect(summary.exitCode).toBe(code);
    if (code !== ExitCode.ok) expect(summary.verdict).toBe('fail');
    expect(summary.regression?.baseline).toBe('20261124-171506-http-pg-zi8t');
    expect(summary.regression?.compared).toBeGreaterThanOrEqual(5);
    expect(summary.recommendations[0]?.settings.map((s) => s.knob)).toContain('max');
    expect(await readFile(path.join(outcome.runDir, 'junit.xml'), 'utf8')).toContain('<testsuites');
    expect(await readFile(path.join(outcome.runDir, 'summary.md'), 'utf8')).toContain('max');
    const csv = await readFile(path.join(outcome.runDir, 'trials.csv'), 'utf8');
    expect(csv.trimEnd().split('\r\n')).toHaveLength(summary.trials.total + 1);
    expect(await readFile(outcome.comparison, 'utf8')).toContain('<svg');
    const { trials } = await readTrialLog(path.join(outcome.runDir, 'trials.jsonl'));
    expect(trials[0]).toEqual(before.trials[0]);
    expect(trials.map((t) => t.id)).toEqual(trials.map((_, i) => `t${String(i + 1).padStart(3, '0')}`));
    const sizes = new Set(trials.filter((t) => t.status === 'completed').map((t) => t.knobs.max));
    expect(sizes.size).toBeGreaterThanOrEqual(5);
    // Progress went to stderr as plain lines (CI=true), one per trial start and end (a replayed trial
    // only ends).
    expect(err.match(/\[\d+\/\d+\] t\d{3} /g)?.length).toBe(trials.length * 2 - 1);
    const html = await readFile(outcome.report, 'utf8');
    expect(html.match(/<svg/g)?.length).toBeGreaterThanOrEqual(2);
    expect(html).toContain('what to ship');
    expect(html).toContain('Decision checklist');
    // The resilience probes ran at the recommended settings, and their evidence is in the checklist.
    const probes = JSON.parse(await readFile(path.join(outcome.runDir, 'probes.json'), 'utf8')) as {
      probes: { id: string; status: string; evidence: string }[];
    };
    const byId = new Map(probes.probes.map((p) => [p.id, p]));
    expect([...byId.keys()].sort()).toEqual(
      ['circuit-breaker', 'dead-connection', 'draining', 'fd-headroom', 'leaks', 'slow-dependency'].sort(),
    );
    // http-pg drains on SIGTERM: in-flight requests are answered.
    expect(byId.get('draining')?.status).toBe('pass');
    const asHtml = (text: string) =>
      text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
    expect(html).toContain(asHtml(byId.get('draining')?.evidence ?? 'missing').slice(0, 40));
    // Every step of the method left its evidence in the analysis.
    const analysis = JSON.parse(await readFile(path.join(outcome.runDir, 'analysis.json'), 'utf8')) as {
      steps: { step: number }[];
      recommendations: { knobs: { knob: string; value: number }[] }[];
    };
    expect(analysis.steps.map((s) => s.step)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    // Step 4's repetitions ran in interleaved blocks: in trials.jsonl's order, at least three sizes have
    // other sizes measured between their first and last repetition (back to back, none would).
    const order = trials.filter((t) => t.step === '4-grow-pool').map((t) => Number(t.knobs.max));
    const interleaved = [...new Set(order)].filter((n) => {
      const at = order.flatMap((m, i) => (m === n ? [i] : []));
      return at.length >= 2 && (at.at(-1) ?? 0) - (at[0] ?? 0) > at.length - 1;
    });
    console.log(`step 4 order: ${order.join(' ')}`);
    expect(interleaved.length, order.join(' ')).toBeGreaterThanOrEqual(3);
    expect(analysis.recommendations[0]?.knobs.map((k) => k.knob)).toContain('max');
    // The recommended pool size beats max 1 by far and sits on the measured plateau: its throughput
    // is close to the typical (median) throughput of the larger sizes measured. A size on the rising
    // part of the curve would fail this; quick trials are short, so the margin is wide.
    const recommended = analysis.recommendations[0]?.knobs.find((k) => k.knob === 'max')?.value;
    const grown = trials.filter((t) => t.step === '4-grow-pool' && t.status === 'completed');
    const middle = (values: number[]) => values.sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;
    const medianAt = (n: number) =>
      middle(
        grown
          .filter((t) => t.knobs.max === n)
          .map((t) => (t.status === 'completed' ? t.client.throughput : 0)),
      );
    const grownSizes = [...new Set(grown.map((t) => Number(t.knobs.max)))];
    // The size is measured before it is recommended; should a refit move it, take the nearest measured.
    const nearest = grownSizes.reduce((a, b) =>
      Math.abs(b - Number(recommended)) < Math.abs(a - Number(recommended)) ? b : a,
    );
    const larger = middle(grownSizes.filter((n) => n >= nearest).map(medianAt));
    expect(medianAt(nearest)).toBeGreaterThan(2 * medianAt(1));
    expect(medianAt(nearest)).toBeGreaterThanOrEqual(0.8 * larger);
    // Nothing of the target is left running.
    expect(await processesMatching('targets/http-pg/server.ts')).toEqual([]);

    const again = await cli(['report', outcome.runDir]);
    expect(again.code).toBe(ExitCode.ok);
    expect(again.out.trim()).toBe(`report: ${outcome.report}`);
  }, 240_000);

  it('runs one trial with the given knob values', async () => {
    const { code, out } = await cli([
      'run',
      '--quick',
      '--json',
      '--set',
      'max=3',
      '--repetitions',
      '1',
      '--out',
      path.join(dir, 'out'),
    ]);
    expect(code).toBe(ExitCode.ok);
    const outcome = JSON.parse(out) as { runDir: string };
    const { trials } = await readTrialLog(path.join(outcome.runDir, 'trials.jsonl'));
    expect(trials).toHaveLength(1);
    expect(trials[0]?.knobs.max).toBe(3);
  });
});

describe('a target that fails to start', () => {
  const config = async (name: string, target: unknown) => {
    const file = path.join(dir, `${name}.json`);
    await writeFile(file, JSON.stringify({ target, outDir: path.join(dir, 'out') }));
    return file;
  };

  it('never ready: names the readiness rule and how long it waited, shows the log tail, exit 5', async () => {
    const file = await config('never-ready', {
      name: 'sleepy',
      entry: 'api',
      services: {
        api: {
          command: process.execPath,
          args: ['-e', "console.log('sleepy service says hello'); setInterval(() => {}, 1000)"],
          readiness: { http: '/healthz', timeoutMs: 1500 },
        },
      },
      knobs: { size: { type: 'int', min: 1, max: 8, default: 1 } },
      poolKnob: 'size',
    });
    const { code, err } = await cli(['run', '--quick', '--config', file]);
    expect(code).toBe(ExitCode.targetFailed);
    expect(err).toMatch(
      /service "api" never became ready: waited 1\.\d s for http GET \/healthz on 127\.0\.0\.1:\d+/,
    );
    expect(err).toContain('sleepy service says hello');
    expect(err).not.toMatch(/\n\s+at /);
  });

  it('PostgreSQL failing to start: shows its log tail, exit 5', async () => {
    const file = await config('bad-postgres', {
      name: 'bad-db',
      entry: 'db',
      services: { db: { kind: 'postgres', settings: { shared_buffers: 'lots' } } },
    });
    const { code, err } = await cli(['run', '--quick', '--config', file]);
    expect(code).toBe(ExitCode.targetFailed);
    expect(err).toContain('service "db" exited');
    expect(err).toContain('shared_buffers');
  });

  it('a fixed port already in use: one line naming the port and service, exit 2', async () => {
    const server: Server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    try {
      const file = await config('port-in-use', {
        name: 'clash',
        entry: 'api',
        services: { api: { command: process.execPath, args: ['-e', ''], port } },
      });
      const { code, err } = await cli(['run', '--quick', '--config', file]);
      expect(code).toBe(ExitCode.usage);
      expect(err).toContain(`port ${port} of service "api" is already in use`);
    } finally {
      server.close();
    }
  });
});
