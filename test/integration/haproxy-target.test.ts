import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { get } from 'node:http';
import { connect } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parsePrometheusText, readCounter } from '../../harness/collect/prometheus.ts';
import { targetSchema } from '../../harness/config/schema.ts';
import { ExitCode, type PooltuneError } from '../../harness/errors.ts';
import type { KnobValues, MeasuredTrial } from '../../harness/results/trial.ts';
import { readTrialLog } from '../../harness/results/trial-log.ts';
import { findOnPath } from '../../harness/runtime/executables.ts';
import { startTarget } from '../../harness/runtime/process-runtime.ts';
import type { StartedTarget } from '../../harness/runtime/service.ts';
import { stepIds } from '../../harness/tuning/step.ts';
import type { ClosedScenario } from '../../scenarios/scenario.ts';
import { haproxy } from '../../targets/haproxy/target.ts';
import { autocannonDriver } from '../helpers/drivers.ts';
import { runCli } from '../helpers/fake-host.ts';
import { testRuntime } from '../helpers/system.ts';
import { measuredTrial, startForTest } from '../helpers/target-trial.ts';

// Real HAProxy from Debian's haproxy package (.ci/run installs it). Without it the suite skips with one
// line, except where POOLTUNE_REQUIRE_PACKAGES=1 says the packages must be there.
const haproxyBinary = findOnPath('haproxy', process.env.PATH);
if (haproxyBinary === undefined) {
  if (process.env.POOLTUNE_REQUIRE_PACKAGES === '1') {
    throw new Error("haproxy is not on PATH, but POOLTUNE_REQUIRE_PACKAGES=1 (CI installs Debian's haproxy)");
  }
  console.log("SKIPPED haproxy suite: haproxy is not on PATH (apt-get install haproxy: Debian's package)");
}

const definition = targetSchema.parse(haproxy);
const defaults: KnobValues = Object.fromEntries(
  Object.entries(definition.knobs).map(([name, knob]) => [name, knob.default]),
);
/** Upstream instances behind HAProxy: every one of them gets `maxconn` slots. */
const servers = Object.keys(definition.services).filter((name) => name !== definition.entry).length;
/** Each upstream holds a request for its WORK_MS before answering. */
const upstream1 = definition.services.upstream1;
const workMs = upstream1?.kind === 'process' ? Number(upstream1.env.WORK_MS) : Number.NaN;

let dir = '';
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'pooltune-haproxy-'));
});
afterAll(async () => {
  if (dir !== '') await rm(dir, { recursive: true, force: true });
});

const start = (knobs: KnobValues) => startForTest(definition, { ...defaults, ...knobs });

const trial = (target: StartedTarget, knobs: KnobValues, scenario: ClosedScenario) =>
  measuredTrial(target, { ...defaults, ...knobs }, scenario, autocannonDriver);

/** GET `url` on a connection of its own (`Connection: close`): every call is a new client session. */
function getOnce(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const request = get(url, { agent: false, timeout: 10_000 }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => {
        body += chunk;
      });
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
    });
    request.on('timeout', () => request.destroy(new Error(`GET ${url} timed out`)));
    request.on('error', reject);
  });
}

/**
 * Sends one request on a keep-alive connection, then waits up to `waitMs` with the connection idle:
 * how long until HAProxy closed it, or undefined when it was still open.
 */
function idleClosedAfterMs(port: number, waitMs: number): Promise<number | undefined> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => {
      socket.write('GET /work HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n');
    });
    let answeredAt: number | undefined;
    const timer = setTimeout(() => {
      socket.destroy();
      resolve(undefined);
    }, waitMs);
    socket.once('data', () => {
      answeredAt = Date.now();
    });
    socket.on('close', () => {
      clearTimeout(timer);
      if (answeredAt === undefined) reject(new Error('HAProxy closed the connection before answering'));
      else resolve(Date.now() - answeredAt);
    });
    socket.on('error', reject);
  });
}

/** Server connections HAProxy has opened since it started, from its Prometheus exporter. */
async function connectionsOpened(target: StartedTarget): Promise<number> {
  const { body } = await getOnce(`${target.entry().url}/metrics`);
  return readCounter(parsePrometheusText(body), 'haproxy_backend_connection_attempts_total') ?? Number.NaN;
}

const cli = (argv: string[]) => runCli(argv, dir);

/** HAProxy processes still running from a config file that no longer exists: a run that left one behind. */
async function orphanedHaproxies(): Promise<string[]> {
  const found: string[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const argv = (await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '')).split('\0');
    const flag = argv.indexOf('-f');
    const config = flag < 0 ? undefined : argv[flag + 1];
    if (path.basename(argv[0] ?? '') === 'haproxy' && config !== undefined && !existsSync(config)) {
      found.push(`${entry}: ${argv.join(' ')}`);
    }
  }
  return found;
}

describe('haproxy target without haproxy on PATH', () => {
  it('fails before starting anything, with a usage error naming the Debian package', async () => {
    const error = (await startTarget(definition, defaults, testRuntime({ PATH: dir })).catch(
      (e: unknown) => e,
    )) as PooltuneError;
    expect(error.exitCode).toBe(ExitCode.usage);
    expect(error.message).toContain('target haproxy needs haproxy');
    expect(error.hint).toContain('apt-get install haproxy');
  });
});

describe.skipIf(haproxyBinary === undefined)('haproxy target: maxconn moves the waiting into HAProxy', () => {
  // Sixteen clients back to back: more than 2 servers x maxconn 1 can hold, fewer than 2 x 32.
  const sixteen: ClosedScenario = {
    name: 'sixteen-clients',
    description: '16 connections on /work',
    model: 'closed',
    warmupMs: 500,
    stages: [{ connections: 16, durationMs: 2_000 }],
    requestTimeoutMs: 10_000,
    mix: [{ name: 'work', method: 'GET', path: '/work', weight: 1 }],
  };
  let target: StartedTarget;
  beforeAll(async () => {
    target = await start({ maxconn: 1 });
  });
  afterAll(async () => {
    await target?.stop();
  });

  it('queues in HAProxy (qcur) at maxconn 1 and not at maxconn 32, where the servers hold the requests', async () => {
    const small = await trial(target, { maxconn: 1 }, sixteen);
    const large = await trial(target, { maxconn: 32 }, sixteen);
    const figures = (t: MeasuredTrial) =>
      `qcur mean ${t.server.native?.qcur?.mean.toFixed(1)} max ${t.server.native?.qcur?.max}, scur max ${t.server.native?.scur?.max}, ${t.client.throughput.toFixed(0)} req/s`;
    console.info(`haproxy, 16 clients: maxconn 1: ${figures(small)}; maxconn 32: ${figures(large)}`);

    expect(small.client.errors).toEqual({});
    expect(large.client.errors).toEqual({});
    // maxconn 1: at most one request per server at a time; the other ~14 clients wait in HAProxy's queue.
    expect(small.server.native?.scur?.max).toBeLessThanOrEqual(servers * 1);
    expect(small.server.native?.qcur?.mean).toBeGreaterThan(8);
    // ... which caps throughput at servers x 1 request per WORK_MS (200 req/s), whatever the machine.
    expect(small.client.throughput).toBeLessThan(1.1 * servers * (1000 / workMs));
    // maxconn 32: every client's request goes straight to a server; nothing waits in HAProxy.
    expect(large.server.native?.qcur?.max).toBeLessThanOrEqual(1);
    expect(large.server.native?.scur?.max).toBeGreaterThan(servers * 1);
  });

  it('applies http-reuse, timeout server and timeout http-keep-alive', async () => {
    // A client connection per request: with reuse never, each one's request needs a server connection
    // of its own; with always, they share the idle server connections HAProxy keeps.
    const opened = async (httpReuse: string) => {
      await target.apply({ ...defaults, http_reuse: httpReuse });
      const before = await connectionsOpened(target);
      for (let i = 0; i < 20; i += 1) expect((await getOnce(`${target.entry().url}/work`)).status).toBe(200);
      return (await connectionsOpened(target)) - before;
    };
    const never = await opened('never');
    const always = await opened('always');
    console.info(
      `haproxy, 20 one-request client connections: ${never} server connections opened with http-reuse never, ${always} with always`,
    );
    expect(never).toBeGreaterThanOrEqual(18);
    expect(always).toBeLessThanOrEqual(5);

    // An upstream that takes 1 s: HAProxy gives up at timeout server 200 ms (504), and waits at 5 s.
    await target.apply({ ...defaults, timeout_server: 200 });
    expect((await getOnce(`${target.entry().url}/work?ms=1000`)).status).toBe(504);
    await target.apply({ ...defaults, timeout_server: 5_000 });
    expect((await getOnce(`${target.entry().url}/work?ms=1000`)).status).toBe(200);

    // An idle client connection: HAProxy closes it after timeout http-keep-alive (300 ms), not before.
    await target.apply({ ...defaults, timeout_http_keep_alive: 300 });
    const closedAfter = await idleClosedAfterMs(target.entry().port, 3_000);
    console.info(
      `haproxy, timeout http-keep-alive 300 ms: an idle client connection closed after ${closedAfter} ms`,
    );
    expect(closedAfter).toBeGreaterThanOrEqual(250);
    expect(closedAfter).toBeLessThan(2_000);
    await target.apply({ ...defaults, timeout_http_keep_alive: 10_000 });
    expect(await idleClosedAfterMs(target.entry().port, 1_000)).toBeUndefined();
  });
});

describe.skipIf(haproxyBinary === undefined)('pooltune tune --target haproxy --quick', () => {
  it('runs the method end to end and records HAProxy native figures with every trial', async () => {
    // Rates this 2-core machine can serve through HAProxy and two Node upstreams (the defaults, 300 and
    // 1500 req/s, measure the machine at peak), sizes up to 32 (the 32 clients of step 4 never need more
    // than 2 x 16 slots) and one repetition: the method in about a minute.
    const config = path.join(dir, 'pooltune.config.json');
    await writeFile(
      config,
      // Eight step-4 trials per pool: this test is about HAProxy's figures in every step, not the search.
      JSON.stringify({ tuning: { steadyRate: 200, peakRate: 500, maxGrowTrials: 8 }, sweep: { upTo: 32 } }),
    );
    const started = Date.now();
    const { code, out, err } = await cli([
      'tune',
      '--target',
      'haproxy',
      '--quick',
      '--runtime',
      'process',
      '--repetitions',
      '1',
      '--config',
      config,
      '--json',
      '--out',
      path.join(dir, 'out'),
    ]);
    console.info(`haproxy quick tune: exit ${code} after ${((Date.now() - started) / 1000).toFixed(1)} s`);
    // The SLO may fail on a busy machine; the run itself must complete and map to its exit code.
    expect([ExitCode.ok, ExitCode.sloFailed], err).toContain(code);
    const outcome = JSON.parse(out) as { runDir: string; exitCode: number };
    expect(outcome.exitCode).toBe(code);

    const analysis = JSON.parse(await readFile(path.join(outcome.runDir, 'analysis.json'), 'utf8')) as {
      steps: { step: number }[];
      recommendations: { library: string; knobs: { knob: string; value: number }[] }[];
    };
    expect(analysis.steps.map((s) => s.step)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(analysis.recommendations[0]?.library).toBe('haproxy');
    expect(analysis.recommendations[0]?.knobs.map((k) => k.knob)).toContain('maxconn');

    const { trials } = await readTrialLog(path.join(outcome.runDir, 'trials.jsonl'));
    const measured = trials.filter(
      (t): t is MeasuredTrial => t.status === 'completed' || t.status === 'invalid',
    );
    expect(measured.length).toBeGreaterThan(0);
    for (const t of measured) {
      expect(Object.keys(t.server.native ?? {}), t.id).toEqual(
        expect.arrayContaining(['qcur', 'scur', 'reuse']),
      );
    }
    // Step 4's 32 clients queue in HAProxy at maxconn 1 (2 slots), and not once every client has a slot.
    const grown = measured.filter((t) => t.step === stepIds.grow);
    const at = (maxconn: number) => grown.filter((t) => t.knobs.maxconn === maxconn);
    const largest = Math.max(...grown.map((t) => Number(t.knobs.maxconn)));
    expect(largest).toBeGreaterThanOrEqual(16);
    expect(at(1).length).toBeGreaterThan(0);
    // Means over the window: a sample may catch the few requests the warm-up's clients left queued.
    const qcurMeans = (trials: readonly MeasuredTrial[]) =>
      trials.map((t) => t.server.native?.qcur?.mean ?? Number.NaN);
    expect(Math.min(...qcurMeans(at(1)))).toBeGreaterThan(10);
    expect(Math.max(...qcurMeans(at(largest)))).toBeLessThan(1);
    expect(await orphanedHaproxies()).toEqual([]);
  }, 150_000);
});
