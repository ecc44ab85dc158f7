import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ExitCode } from '../../harness/errors.ts';
import { readTrialLog } from '../../harness/results/trial-log.ts';
import { runCli } from '../helpers/fake-host.ts';

let dir = '';
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'pooltune-faults-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const cli = (argv: string[]) => runCli(argv, dir);

/** A config whose one service crashes once, mid-trial, under the given crash policy. */
async function crashOnceConfig(name: string, onCrash: object): Promise<string> {
  const server = path.resolve('test/fixtures/targets/crash-once-server.mjs');
  const file = path.join(dir, `${name}.json`);
  await writeFile(
    file,
    JSON.stringify({
      target: {
        name,
        entry: 'api',
        services: {
          api: {
            command: '{{node}}',
            args: [server],
            env: { PORT: '{{port}}', CRASH_AFTER: '200', CRASH_MARKER: path.join(dir, `${name}.crashed`) },
            readiness: { log: 'crash-once listening' },
          },
        },
      },
      runtime: 'process',
      scenario: 'steady',
      quick: true,
      repetitions: 3,
      onCrash,
      outDir: path.join(dir, name),
    }),
  );
  return file;
}

async function onlyRun(outDir: string) {
  const [run] = await readdir(outDir);
  return readTrialLog(path.join(outDir, run ?? '', 'trials.jsonl'));
}

describe('a service that crashes mid-trial', () => {
  it('policy continue: the trial is errored with the cause and log tail, the service restarts, the run goes on', async () => {
    const { code, err } = await cli(['run', '--config', await crashOnceConfig('crash-continue', {})]);
    expect(code, err).toBe(ExitCode.ok);
    const { trials } = await onlyRun(path.join(dir, 'crash-continue'));
    expect(trials.map((t) => t.status)).toEqual(['errored', 'completed', 'completed']);
    const [crashed] = trials;
    expect(crashed?.status === 'errored' && crashed.crashed).toBe('api');
    expect(crashed?.status === 'errored' && crashed.error).toContain(
      'service "api" exited during the trial (code 3)',
    );
    expect(crashed?.status === 'errored' && crashed.logTail.join('\n')).toContain('planted crash');
    expect(err).toContain('service api crashed: restarting it (1 of 3 restarts)');
  }, 60_000);

  it('policy stop: the run ends after the crash with exit 5, its trial and the report kept', async () => {
    const { code, err } = await cli([
      'run',
      '--config',
      await crashOnceConfig('crash-stop', { policy: 'stop' }),
    ]);
    expect(code).toBe(ExitCode.targetFailed);
    expect(err).toContain('onCrash.policy is "stop"');
    expect(err).not.toMatch(/\n\s+at /);
    const outDir = path.join(dir, 'crash-stop');
    const { trials } = await onlyRun(outDir);
    expect(trials.map((t) => t.status)).toEqual(['errored']);
    const [run] = await readdir(outDir);
    expect(await readFile(path.join(outDir, run ?? '', 'report.html'), 'utf8')).toContain('errored');
  }, 60_000);

  it('--max-duration ends the run like an interruption: exit 130, trials kept, resumable', async () => {
    const { code, err } = await cli([
      'tune',
      '--target',
      'http-pg',
      '--runtime',
      'process',
      '--quick',
      '--max-duration',
      '6s',
      '--out',
      path.join(dir, 'deadline'),
    ]);
    expect(code, err).toBe(ExitCode.interrupted);
    expect(err).toContain('max duration 6s reached');
    expect(err).toMatch(/resume with: pooltune tune --resume \S+/);
    const { trials } = await onlyRun(path.join(dir, 'deadline'));
    expect(trials.some((t) => t.status === 'completed')).toBe(true);
  }, 60_000);
});
