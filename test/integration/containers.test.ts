import { execFile } from 'node:child_process';
import { cp, mkdtemp, readdir, readFile, realpath, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { GenericContainer } from 'testcontainers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createK6Driver } from '../../harness/drivers/k6.ts';
import { k6ImageEnv } from '../../harness/drivers/k6-image.ts';
import { ExitCode } from '../../harness/errors.ts';
import type { Manifest } from '../../harness/results/manifest.ts';
import { isMeasured } from '../../harness/results/trial.ts';
import { readTrialLog } from '../../harness/results/trial-log.ts';
import { dockerEngine } from '../../harness/runtime/container-runtime.ts';
import { httpPg } from '../../targets/http-pg/target.ts';
import { runCli } from '../helpers/fake-host.ts';
import { fakeK6Scenario, fakeK6Script, writeFakeK6Inputs } from '../helpers/fake-k6.ts';
import { startHttpServer } from '../helpers/http-server.ts';
import { interruptAtSecondTrial } from '../helpers/interrupt.ts';
import { system } from '../helpers/system.ts';

// Real containers on a real Docker engine (.ci/run installs and starts one). Without an engine the
// suite skips with one line, except where POOLTUNE_REQUIRE_DOCKER=1 says the engine must be there.
const engine = await dockerEngine();
if (!engine.ok) {
  if (process.env.POOLTUNE_REQUIRE_DOCKER === '1') {
    throw new Error(`no Docker engine, but POOLTUNE_REQUIRE_DOCKER=1 (CI starts one): ${engine.reason}`);
  }
  console.log(`SKIPPED container suite: no Docker engine answered (${engine.reason})`);
}

const run = promisify(execFile);

let dir = '';
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'pooltune-containers-'));
});
afterAll(async () => {
  if (dir !== '') await rm(dir, { recursive: true, force: true });
});

const cli = (argv: string[]) => runCli(argv, dir);

/** A config file for the bundled http-pg target with its database limited to `cpus`. */
async function httpPgConfig(name: string, dbCpus: number): Promise<string> {
  const services = httpPg.services as Record<string, object>;
  const target = { ...httpPg, name, services: { ...services, db: { ...services.db, cpus: dbCpus } } };
  const file = path.join(dir, `${name}.json`);
  await writeFile(file, JSON.stringify({ target, runtime: 'container', outDir: path.join(dir, 'out') }));
  return file;
}

/** The containers pooltune labelled that still exist, as `pooltune clean --json` finds them (and removes them). */
async function leftovers(): Promise<string[]> {
  const { code, out } = await cli(['clean', '--json']);
  expect(code).toBe(ExitCode.ok);
  return (JSON.parse(out) as { removed: string[] }).removed;
}

describe.skipIf(!engine.ok)('the container runtime on a real Docker engine', () => {
  it('auto picks containers when an engine answers, says so in the report, and removes its containers', async () => {
    const { code, out, err } = await cli([
      'run',
      '--runtime',
      'auto',
      '--quick',
      '--json',
      '--set',
      'max=4',
      '--repetitions',
      '1',
      '--out',
      path.join(dir, 'out'),
    ]);
    expect(code, err).toBe(ExitCode.ok);
    const { runDir, report } = JSON.parse(out) as { runDir: string; report: string };
    const manifest = JSON.parse(await readFile(path.join(runDir, 'manifest.json'), 'utf8')) as Manifest;
    expect(manifest.runtime).toBe('container');
    expect(manifest.runtimeReason).toMatch(/a Docker engine answered/);
    expect(await readFile(report, 'utf8')).toContain(
      'container: runtime &quot;auto&quot;: a Docker engine answered',
    );
    const { trials } = await readTrialLog(path.join(runDir, 'trials.jsonl'));
    // The collectors found the containerised service's processes and its pool.
    expect(trials[0]?.status).toBe('completed');
    if (trials[0]?.status === 'completed') {
      expect(trials[0].server.process?.cpuShareMean ?? 0).toBeGreaterThan(0);
      expect(trials[0].server.pool?.totalMax).toBeGreaterThan(0);
    }
    expect(await leftovers()).toEqual([]);
  });

  it('tunes the bundled http-pg end to end in containers, and runs http-upstream over TLS in them', async () => {
    const out = path.join(dir, 'out');
    // Eight step-4 trials: this test is about the method running in containers, not the search.
    const config = path.join(dir, 'tune.config.json');
    await writeFile(config, JSON.stringify({ tuning: { maxGrowTrials: 8 } }));
    const tuned = await cli([
      'tune',
      '--config',
      config,
      '--runtime',
      'container',
      '--quick',
      '--json',
      '--out',
      out,
    ]);
    // A shared 2-core box may miss the SLO at peak (exit 3); the run itself must complete either way.
    expect([ExitCode.ok, ExitCode.sloFailed], tuned.err).toContain(tuned.code);
    const { runDir } = JSON.parse(tuned.out) as { runDir: string };
    const summary = JSON.parse(await readFile(path.join(runDir, 'summary.json'), 'utf8')) as {
      runtime: string;
      recommendations: { settings: { knob: string; recommended: number }[] }[];
    };
    expect(summary.runtime).toBe('container');
    expect(summary.recommendations[0]?.settings.find((s) => s.knob === 'max')?.recommended).toBeGreaterThan(
      1,
    );
    // Two services in two containers hand each other a certificate through the shared temp dir.
    const upstream = await cli([
      'run',
      '--runtime',
      'container',
      '--target',
      'http-upstream',
      '--set',
      'tls=true',
      '--quick',
      '--json',
      '--repetitions',
      '1',
      '--out',
      out,
    ]);
    expect(upstream.code, upstream.err).toBe(ExitCode.ok);
    const { runDir: upstreamRun } = JSON.parse(upstream.out) as { runDir: string };
    const { trials } = await readTrialLog(path.join(upstreamRun, 'trials.jsonl'));
    expect(trials[0]?.status).toBe('completed');
    expect(await leftovers()).toEqual([]);
  }, 240_000);

  it('a database held to half a CPU plateaus lower than one given two, over the same pool sweep', async () => {
    const plateau = async (cpus: number) => {
      const file = await httpPgConfig(`http-pg-cpus-${String(cpus).replace('.', '_')}`, cpus);
      let best = 0;
      for (const size of [4, 16]) {
        const { code, out, err } = await cli([
          'run',
          '--config',
          file,
          '--quick',
          '--json',
          '--set',
          `max=${size}`,
          '--repetitions',
          '2',
        ]);
        expect(code, err).toBe(ExitCode.ok);
        const { runDir } = JSON.parse(out) as { runDir: string };
        const { trials } = await readTrialLog(path.join(runDir, 'trials.jsonl'));
        // An `invalid` trial (the generator at its own limit) still measured what the target served: a
        // lower bound, which only makes the roomy side's plateau harder to beat.
        for (const trial of trials) if (isMeasured(trial)) best = Math.max(best, trial.client.throughput);
      }
      return best;
    };
    const limited = await plateau(0.5);
    const roomy = await plateau(2);
    console.log(
      `http-pg plateau: db at 0.5 CPU ${limited.toFixed(0)} req/s, at 2 CPUs ${roomy.toFixed(0)} req/s`,
    );
    expect(limited).toBeGreaterThan(0);
    expect(limited).toBeLessThan(0.85 * roomy);
  }, 120_000);

  it('a missing image: names the image, says no registry was reachable, exit 5', async () => {
    const file = path.join(dir, 'missing-image.json');
    await writeFile(
      file,
      JSON.stringify({
        runtime: 'container',
        outDir: path.join(dir, 'out'),
        target: {
          name: 'no-image',
          entry: 'api',
          services: {
            api: {
              command: '/bin/true',
              image: 'pooltune-missing-image:404',
              readiness: { tcp: true, timeoutMs: 2000 },
            },
          },
        },
      }),
    );
    const { code, err } = await cli(['run', '--quick', '--config', file]);
    expect(code).toBe(ExitCode.targetFailed);
    expect(err).toContain('image "pooltune-missing-image:404"');
    expect(err).toContain('no registry was reachable');
    expect(err).not.toMatch(/\n\s+at /);
    expect(await leftovers()).toEqual([]);
  });

  it('SIGINT mid-trial leaves no labelled container, and pooltune clean finds none', async () => {
    const out = path.join(dir, 'sigint');
    const { code, stderr } = await interruptAtSecondTrial([
      'tune',
      '--quick',
      '--runtime',
      'container',
      '--out',
      out,
    ]);
    expect(code, stderr).toBe(ExitCode.interrupted);
    expect(await leftovers()).toEqual([]);
    const [run] = await readdir(out);
    const { trials } = await readTrialLog(path.join(out, run ?? '', 'trials.jsonl'));
    expect(trials[0]?.status).toBe('completed');
  }, 90_000);

  it('the k6 driver runs k6 from a configured image on host networking, and leaves no container', async () => {
    // No k6 image or binary is reachable here, so the image holds the stand-in k6 (the node binary, its
    // libraries and a script that speaks k6's CLI and writes k6's outputs); the driver cannot tell.
    const context = path.join(dir, 'k6-image');
    const inputs = await writeFakeK6Inputs(dir);
    const node = await realpath(process.execPath);
    const libs = [...(await run('ldd', [node])).stdout.matchAll(/(\/\S+\.so[.\d]*)/g)].map((m) => m[1] ?? '');
    for (const file of [node, ...libs, inputs.summary, inputs.points]) {
      await cp(file, path.join(context, 'root', file), { dereference: true });
    }
    await writeFile(path.join(context, 'root', 'k6'), fakeK6Script.replace(/^#!.*\n/, ''));
    await writeFile(
      path.join(context, 'Dockerfile'),
      `FROM scratch\nCOPY root/ /\nENTRYPOINT ["${node}", "/k6"]\n`,
    );
    const image = 'pooltune-k6-standin:test';
    await GenericContainer.fromDockerfile(context).build(image, { deleteOnExit: false });
    let served = 0;
    const server = await startHttpServer((_req, res) => {
      served += 1;
      res.end('ok');
    });
    try {
      const driverFor = (mode: string, instances = 1) =>
        createK6Driver({
          instances,
          env: {
            PATH: process.env.PATH,
            DOCKER_HOST: process.env.DOCKER_HOST,
            [k6ImageEnv]: image,
            K6_FAKE_MODE: mode,
            K6_FAKE_FETCH: '1',
            K6_FAKE_SUMMARY: inputs.summary,
            K6_FAKE_POINTS: inputs.points,
          },
          tmpDir: dir,
          graceMs: 500,
          system,
        });
      const request = { url: server.url, scenario: fakeK6Scenario, seed: 1 };
      const result = await driverFor('ok').run({ ...request, signal: new AbortController().signal });
      // What the stand-in read from the mounted script folder and wrote back there: 3 ok, 1 timeout.
      expect(result).toMatchObject({ driver: 'k6', requests: 3, ok: 3, errors: { timeout: 1 } });
      // The stand-in reached the loopback target from inside its container (else it exits 107).
      expect(served).toBe(1);
      expect(result.generatorCpu.userMs + result.generatorCpu.systemMs).toBeGreaterThan(0);

      // Aborted with a k6 that ignores SIGINT: the CLI is killed, and the container is removed anyway.
      const controller = new AbortController();
      const aborted = driverFor('hang').run({
        ...request,
        signal: controller.signal,
        onMeasureStart: () => controller.abort(new Error('stop')),
      });
      await expect(aborted).rejects.toThrow('stop');
      expect(await leftovers()).toEqual([]);

      // k6.instances: 2 runs two containers side by side, each on its own segment; the counts add up.
      const two = await driverFor('ok', 2).run({ ...request, signal: new AbortController().signal });
      expect(two).toMatchObject({ driver: 'k6', requests: 6, ok: 6, errors: { timeout: 2 } });
      expect(two.generatorCpu.processes).toBe(2);
      expect(served).toBe(1 + 2);
      const controllerTwo = new AbortController();
      const abortedTwo = driverFor('hang', 2).run({
        ...request,
        signal: controllerTwo.signal,
        onMeasureStart: () => controllerTwo.abort(new Error('stop both')),
      });
      await expect(abortedTwo).rejects.toThrow('stop both');
      expect(await leftovers()).toEqual([]);
    } finally {
      await server.close();
    }
  }, 120_000);
});
