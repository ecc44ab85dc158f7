import { chmod, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createLatencyHistogram,
  decodeHistogram,
  encodeHistogram,
} from '../../harness/analysis/histogram.ts';
import type { DriverRequest, DriverResult } from '../../harness/drivers/driver.ts';
import { cpuFromTimes, createK6Driver, findK6, k6BinaryEnv } from '../../harness/drivers/k6.ts';
import { parseCgroupCpu } from '../../harness/drivers/k6-image.ts';
import { addFractions, fraction, parseSegment } from '../../harness/drivers/k6-segments.ts';
import { ExitCode, isPooltuneError, type PooltuneError } from '../../harness/errors.ts';
import type { OpenScenario } from '../../scenarios/scenario.ts';
import {
  fakeK6Points,
  fakeK6Requests,
  fakeK6Scenario,
  fakeK6Script,
  writeFakeK6Inputs,
} from '../helpers/fake-k6.ts';
import { startHttpServer } from '../helpers/http-server.ts';
import { system } from '../helpers/system.ts';

/** The real temp dir, signals and user, for the driver runs that need no fake. */
const k6Host = { tmpDir: tmpdir(), system };

const closed = fakeK6Scenario;

/** Whether a process still runs: gone, or a zombie (a container's PID 1 may never reap orphans). */
async function running(pid: number): Promise<boolean> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
  // The state follows the parenthesised command name.
  return stat !== '' && !/\)\s+Z\s/.test(stat);
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

let work = '';
beforeAll(async () => {
  work = await mkdtemp(path.join(tmpdir(), 'pooltune-k6-driver-test-'));
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

describe('k6 binary lookup', () => {
  it('without a binary, run fails with a usage error (exit 2) whose hint says how to get one', async () => {
    const driver = createK6Driver({ env: { PATH: work }, ...k6Host });
    const error = await rejection(
      driver.run({
        url: 'http://127.0.0.1:1',
        scenario: closed,
        signal: new AbortController().signal,
        seed: 1,
      }),
    );
    expect(isPooltuneError(error)).toBe(true);
    const usage = error as PooltuneError;
    expect(usage.exitCode).toBe(ExitCode.usage);
    expect(usage.exitCode).toBe(2);
    expect(usage.message).toMatch(/k6 was not found/);
    expect(usage.hint).toContain('POOLTUNE_K6');
    expect(usage.hint).toMatch(/releases/);
    expect(usage.hint).toContain('--driver autocannon|arrival-rate');
  });

  it('takes POOLTUNE_K6 first, then k6 on PATH, and rejects a POOLTUNE_K6 that is not executable', async () => {
    const bin = path.join(work, 'bin');
    await rm(bin, { recursive: true, force: true });
    await mkdir(bin);
    const onPath = path.join(bin, 'k6');
    const named = path.join(bin, 'my-k6');
    const plain = path.join(bin, 'not-executable');
    for (const file of [onPath, named, plain]) await writeFile(file, '#!/bin/sh\n');
    await chmod(onPath, 0o755);
    await chmod(named, 0o755);
    expect(findK6({ PATH: `/nonexistent${path.delimiter}${bin}` })).toBe(onPath);
    expect(findK6({ PATH: bin, [k6BinaryEnv]: named })).toBe(named);
    expect(findK6({ PATH: work })).toBeUndefined();
    const error = await rejection(Promise.resolve().then(() => findK6({ [k6BinaryEnv]: plain })));
    expect((error as PooltuneError).exitCode).toBe(ExitCode.usage);
    expect((error as PooltuneError).message).toContain(plain);
  });
});

describe('cpuFromTimes', () => {
  it("reads the children's line of dash and bash `times` output", () => {
    expect(cpuFromTimes('0m0.001000s 0m0.002000s\n0m1.250000s 0m0.250000s\n', 3_000)).toEqual({
      userMs: 1_250,
      systemMs: 250,
      share: 0.5,
    });
    expect(cpuFromTimes('0m0.001s 0m0.002s\n1m2.500s 0m0.000s', 125_000).userMs).toBe(62_500);
    expect(cpuFromTimes('', 1_000)).toEqual({ userMs: 0, systemMs: 0, share: 0 });
  });
});

describe('k6 driver with a stand-in k6 binary', () => {
  let fake = '';
  let files: { summary: string; points: string; report: string; tmp: string };
  beforeAll(async () => {
    fake = path.join(work, 'fake-k6');
    await writeFile(fake, fakeK6Script);
    await chmod(fake, 0o755);
    files = {
      ...(await writeFakeK6Inputs(work)),
      report: path.join(work, 'report.json'),
      tmp: await mkdtemp(path.join(work, 'tmp-')),
    };
  });

  const driverFor = (mode: string, gzipPoints = false) =>
    createK6Driver({
      gzipPoints,
      env: {
        PATH: process.env.PATH,
        [k6BinaryEnv]: fake,
        K6_FAKE_MODE: mode,
        K6_FAKE_SUMMARY: files.summary,
        K6_FAKE_POINTS: files.points,
        K6_FAKE_REPORT: files.report,
      },
      tmpDir: files.tmp,
      graceMs: 200,
      system,
    });
  const report = async () =>
    JSON.parse(await readFile(files.report, 'utf8')) as {
      args: string[];
      pid: number;
      cwd: string;
      script: string;
      cpuMs: number;
      targetUrl: string;
      sigint?: boolean;
    };

  it('runs k6 with the bundled script, reads its outputs, measures its CPU and cleans up', async () => {
    let measureStarts = 0;
    const result: DriverResult = await driverFor('ok').run({
      url: 'http://127.0.0.1:40999',
      scenario: closed,
      signal: new AbortController().signal,
      seed: 3,
      onMeasureStart: () => measureStarts++,
    });
    const seen = await report();
    expect(seen.args.slice(0, 4)).toEqual(['run', '--no-usage-report', '--quiet', '--no-color']);
    expect(seen.args).toContain('--address=');
    expect(seen.args[seen.args.length - 1]).toBe(path.join(seen.cwd, 'script.js'));
    expect(seen.script).toMatch(/^\/\/ Generated by pooltune from scenario "k6-test-closed"/);
    expect(seen.targetUrl).toBe('http://127.0.0.1:40999');
    expect(measureStarts).toBe(1);

    expect(result).toMatchObject({
      driver: 'k6',
      durationMs: 2_000,
      requests: 3,
      ok: 3,
      errors: { timeout: 1 },
      throughput: 1.5,
    });
    expect(result.latency.count).toBe(4);
    expect(decodeHistogram(result.histogram).totalCount).toBe(4);
    expect(result.stages?.map((stage) => [stage.connections, stage.requests])).toEqual([
      [2, 1],
      [4, 2],
    ]);
    // The CPU is the stand-in's own (not the shell's): at least what it counted itself before exiting,
    // less the 10 ms tick `times` rounds down to per figure.
    const measured = result.generatorCpu.userMs + result.generatorCpu.systemMs;
    expect(measured).toBeGreaterThanOrEqual(seen.cpuMs - 20);
    expect(result.generatorCpu.share).toBeGreaterThan(0);
    expect(await readdir(files.tmp)).toEqual([]);
  });

  it('reads a gzipped JSON output the same', async () => {
    const request = { url: 'http://127.0.0.1:40999', scenario: closed, seed: 3 };
    const plain = await driverFor('ok').run({ ...request, signal: new AbortController().signal });
    const gzipped = await driverFor('ok', true).run({ ...request, signal: new AbortController().signal });
    expect((await report()).args).toContain(`json=${path.join((await report()).cwd, 'points.ndjson.gz')}`);
    expect(gzipped.histogram).toBe(plain.histogram);
    expect(gzipped.stages).toEqual(plain.stages);
  });

  it("fails with k6's exit code and the tail of its stderr when k6 fails", async () => {
    const error = await rejection(
      driverFor('fail').run({
        url: 'http://127.0.0.1:40999',
        scenario: closed,
        signal: new AbortController().signal,
        seed: 3,
      }),
    );
    expect(isPooltuneError(error)).toBe(true);
    expect((error as PooltuneError).message).toContain('code 107');
    expect((error as PooltuneError).details.join('\n')).toContain('fake script error');
    expect(await readdir(files.tmp)).toEqual([]);
  });

  it('on abort sends SIGINT, then SIGKILL after the grace period, rejects with the reason and cleans up', async () => {
    const controller = new AbortController();
    const reason = new Error('stop now');
    const error = await rejection(
      driverFor('hang').run({
        url: 'http://127.0.0.1:40999',
        scenario: closed,
        signal: controller.signal,
        seed: 3,
        onMeasureStart: () => controller.abort(reason),
      }),
    );
    expect(error).toBe(reason);
    const { pid, sigint } = await report();
    // It got SIGINT first, ignored it, and was killed.
    expect(sigint).toBe(true);
    expect(await running(pid)).toBe(false);
    expect(await readdir(files.tmp)).toEqual([]);
  });

  it('does not start k6 when already aborted', async () => {
    const controller = new AbortController();
    controller.abort(new Error('too late'));
    await rm(files.report, { force: true });
    const error = await rejection(
      driverFor('ok').run({
        url: 'http://127.0.0.1:40999',
        scenario: closed,
        signal: controller.signal,
        seed: 3,
      }),
    );
    expect((error as Error).message).toBe('too late');
    await expect(readFile(files.report, 'utf8')).rejects.toThrow(/ENOENT/);
  });

  it('refuses a target that is not on loopback', async () => {
    const error = await rejection(
      driverFor('ok').run({
        url: 'http://192.0.2.1:80',
        scenario: closed,
        signal: new AbortController().signal,
        seed: 3,
      }),
    );
    expect((error as PooltuneError).exitCode).toBe(ExitCode.usage);
  });
});

describe('k6 driver with two stand-in instances (k6.instances: 2)', () => {
  let fake = '';
  let inputs: { summary: string; points: string };
  let reports = '';
  let tmp = '';
  // Each instance hands back its own points: the first the usual 4 requests, the second 3 others.
  const secondHalf = [
    { stage: 0, status: '200', ms: 7.25 },
    { stage: 1, status: '200', ms: 11 },
    { stage: 1, status: '503', ms: 0.75 },
  ];
  beforeAll(async () => {
    const dir = await mkdtemp(path.join(work, 'instances-'));
    fake = path.join(dir, 'fake-k6');
    await writeFile(fake, fakeK6Script);
    await chmod(fake, 0o755);
    inputs = await writeFakeK6Inputs(dir);
    await writeFile(path.join(dir, 'points-0.ndjson'), fakeK6Points(fakeK6Requests));
    await writeFile(path.join(dir, 'points-1_2.ndjson'), fakeK6Points(secondHalf));
    reports = await mkdtemp(path.join(dir, 'reports-'));
    tmp = await mkdtemp(path.join(dir, 'tmp-'));
  });

  const driverFor = (mode: string, failSegment = '') =>
    createK6Driver({
      instances: 2,
      env: {
        PATH: process.env.PATH,
        [k6BinaryEnv]: fake,
        K6_FAKE_MODE: mode,
        K6_FAKE_FAIL_SEGMENT: failSegment,
        K6_FAKE_SUMMARY: inputs.summary,
        K6_FAKE_POINTS: path.join(path.dirname(inputs.points), 'points-{from}.ndjson'),
        K6_FAKE_REPORT_DIR: reports,
      },
      tmpDir: tmp,
      // More grace than the single-instance tests: two stand-ins must both handle SIGINT on a busy machine.
      graceMs: 1_000,
      system,
    });
  const seen = async () => {
    const files = await readdir(reports);
    return Promise.all(
      files.map(
        async (file) =>
          JSON.parse(await readFile(path.join(reports, file), 'utf8')) as {
            args: string[];
            pid: number;
            cpuMs: number;
            sigint?: boolean;
          },
      ),
    );
  };
  const flag = (args: readonly string[], name: string) =>
    args.find((arg) => arg.startsWith(`${name}=`))?.slice(name.length + 1);
  /** The closed scenario against a port nobody listens on (the stand-in sends nothing). */
  const request = (extra: Partial<DriverRequest> = {}): DriverRequest => ({
    url: 'http://127.0.0.1:40999',
    scenario: closed,
    signal: new AbortController().signal,
    seed: 3,
    ...extra,
  });

  it('runs one k6 per segment of one sequence and merges their histograms, not their percentiles', async () => {
    let measureStarts = 0;
    const result = await driverFor('ok').run(request({ onMeasureStart: () => measureStarts++ }));
    const runs = await seen();
    expect(runs).toHaveLength(2);
    const segments = runs.map((run) => flag(run.args, '--execution-segment')).sort();
    expect(segments).toEqual(['0:1/2', '1/2:1']);
    expect(runs.map((run) => flag(run.args, '--execution-segment-sequence'))).toEqual(['0,1/2,1', '0,1/2,1']);
    // Together the segments cover the whole scenario.
    const lengths = segments.map((text) => {
      const { from, to } = parseSegment(text ?? '');
      return fraction(to.num * from.den - from.num * to.den, to.den * from.den);
    });
    expect(lengths.reduce(addFractions)).toEqual(fraction(1));
    // Each wrote its own outputs (no instance overwrote the other's).
    const outputs = runs.map((run) => run.args[run.args.indexOf('--out') + 1]);
    expect(new Set(outputs).size).toBe(2);
    // Both logged the marker; the run reports the measure start once.
    expect(measureStarts).toBe(1);

    // Merged: the counts are the sums of the two instances', the latency that of the union.
    expect(result.latency.count).toBe(fakeK6Requests.length + secondHalf.length);
    expect(decodeHistogram(result.histogram).totalCount).toBe(7);
    expect(result).toMatchObject({ requests: 3 + 3, ok: 3 + 2, errors: { timeout: 1, 'status:503': 1 } });
    expect(result.stages?.map((stage) => stage.requests)).toEqual([1 + 1, 2 + 2]);
    const union = createLatencyHistogram();
    for (const request of [...fakeK6Requests, ...secondHalf])
      union.recordValue(Math.round(request.ms * 1000));
    expect(result.histogram).toBe(encodeHistogram(union));
    expect(result.latency.max).toBeCloseTo(2_000, 0);
    expect(result.latency.min).toBeCloseTo(0.75, 2);
    // The generator's CPU is both instances' together.
    const counted = runs.reduce((total, run) => total + run.cpuMs, 0);
    expect(result.generatorCpu.userMs + result.generatorCpu.systemMs).toBeGreaterThanOrEqual(counted - 40);
    expect(result.generatorCpu.processes).toBe(2);
    expect(await readdir(tmp)).toEqual([]);
  });

  const clearReports = async () => {
    await rm(reports, { recursive: true, force: true });
    await mkdir(reports);
  };

  it('when one instance fails, stops the other and reports the failed one', async () => {
    await clearReports();
    const error = await rejection(driverFor('hang', '1/2:1').run(request()));
    expect(isPooltuneError(error)).toBe(true);
    expect((error as PooltuneError).message).toMatch(
      /^k6 instance 2\/2 \(segment 1\/2:1\) exited with code 107/,
    );
    expect((error as PooltuneError).details.join('\n')).toContain('fake script error');
    // The hanging instance got SIGINT, ignored it, and was killed.
    const runs = await seen();
    const hung = runs.find((run) => flag(run.args, '--execution-segment') === '0:1/2');
    expect(hung?.sigint).toBe(true);
    expect(await running(hung?.pid ?? 0)).toBe(false);
    expect(await readdir(tmp)).toEqual([]);
  });

  it('on abort stops every instance (SIGINT, then SIGKILL) and cleans up', async () => {
    await clearReports();
    const controller = new AbortController();
    const reason = new Error('stop both');
    let starts = 0;
    const error = await rejection(
      driverFor('hang').run(
        request({
          signal: controller.signal,
          // Wait until both have started (each logs the marker) before aborting.
          onMeasureStart: () => {
            starts++;
            setTimeout(() => controller.abort(reason), 300);
          },
        }),
      ),
    );
    expect(error).toBe(reason);
    expect(starts).toBe(1);
    const runs = await seen();
    expect(runs).toHaveLength(2);
    for (const run of runs) {
      expect(run.sigint).toBe(true);
      expect(await running(run.pid)).toBe(false);
    }
    expect(await readdir(tmp)).toEqual([]);
  });
});

function realK6(): string | undefined {
  try {
    return findK6(process.env);
  } catch {
    return undefined;
  }
}

const k6Binary = realK6();
if (k6Binary === undefined) console.log('SKIPPED k6 run: no k6 binary (set POOLTUNE_K6)');

describe('k6 driver with the real k6', () => {
  it.skipIf(k6Binary === undefined)('runs a closed and an open scenario against a local server', async () => {
    let served = 0;
    await using server = await startHttpServer((req, res) => {
      served++;
      req.resume();
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
    });
    const driver = createK6Driver({ env: process.env, ...k6Host });
    let measureStarts = 0;
    const result = await driver.run({
      url: server.url,
      scenario: closed,
      signal: new AbortController().signal,
      seed: 1,
      onMeasureStart: () => measureStarts++,
    });
    expect(measureStarts).toBe(1);
    expect(result.driver).toBe('k6');
    expect(result.requests).toBeGreaterThan(0);
    expect(result.ok).toBe(result.requests);
    expect(result.errors).toEqual({});
    // Warm-up requests reached the server but are not counted.
    expect(served).toBeGreaterThan(result.requests);
    expect(result.latency.count).toBe(result.requests);
    expect(decodeHistogram(result.histogram).totalCount).toBe(result.requests);
    expect(result.stages?.length).toBe(2);
    expect((result.stages?.[0]?.requests ?? 0) + (result.stages?.[1]?.requests ?? 0)).toBe(result.requests);
    expect(result.generatorCpu.userMs).toBeGreaterThan(0);

    const open: OpenScenario = {
      ...closed,
      name: 'k6-test-open',
      model: 'open',
      arrival: { kind: 'constant', rate: 20 },
      durationMs: 1_000,
      maxInFlight: 20,
    };
    const openResult = await driver.run({
      url: server.url,
      scenario: open,
      signal: new AbortController().signal,
      seed: 1,
    });
    expect(openResult.offeredRate).toBe(20);
    expect(openResult.requests).toBeGreaterThan(0);
    expect(openResult.droppedStarts).toBe(0);
    expect(openResult.achievedRate).toBeGreaterThan(0);
  });
});

describe('parseCgroupCpu', () => {
  it("reads a k6 container's CPU from cgroup v2 cpu.stat (µs) and v1 cpuacct.stat (ticks)", () => {
    expect(parseCgroupCpu('usage_usec 3500\nuser_usec 2500\nsystem_usec 1000\n')).toEqual({
      userMs: 2.5,
      systemMs: 1,
    });
    expect(parseCgroupCpu('user 120\nsystem 30\n', 100)).toEqual({ userMs: 1_200, systemMs: 300 });
  });
});
