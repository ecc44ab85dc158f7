import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import Handlebars from 'handlebars';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../harness/cli/main.ts';
import { packageRoot } from '../../harness/cli/run-environment.ts';
import { targetSchema } from '../../harness/config/schema.ts';
import { ExitCode } from '../../harness/errors.ts';
import type { KnobValues } from '../../harness/results/trial.ts';
import { readTrialLog } from '../../harness/results/trial-log.ts';
import { findOnPath } from '../../harness/runtime/executables.ts';
import type { StartedTarget } from '../../harness/runtime/service.ts';
import type { ClosedScenario } from '../../scenarios/scenario.ts';
import { hikari, nativeGauges } from '../../targets/hikari/target.ts';
import { autocannonDriver } from '../helpers/drivers.ts';
import { fakeHost } from '../helpers/fake-host.ts';
import { measuredTrial, processesMatching, startForTest } from '../helpers/target-trial.ts';

// A real JVM running HikariCP against a real PostgreSQL. It needs the JDK and Debian's jars (.ci/run
// installs them): where one is missing the suite skips with one line, except where
// POOLTUNE_REQUIRE_PACKAGES=1 says they must be there.
const needs = (hikari.requires ?? []).map((need) =>
  'command' in need
    ? {
        what: need.command,
        package: need.package,
        found: findOnPath(need.command, process.env.PATH) !== undefined,
      }
    : { what: need.file, package: need.package, found: existsSync(need.file) },
);
const missing = needs.filter((need) => !need.found);
if (missing.length > 0) {
  const packages = [...new Set(missing.map((m) => m.package))].join(' ');
  const why = `${missing.map((m) => m.what).join(', ')} not found (apt-get install ${packages})`;
  if (process.env.POOLTUNE_REQUIRE_PACKAGES === '1') {
    throw new Error(`hikari target suite: ${why}, but POOLTUNE_REQUIRE_PACKAGES=1 (CI installs them)`);
  }
  console.log(`SKIPPED hikari target suite: ${why}`);
}
const ready = missing.length === 0;

const definition = targetSchema.parse(hikari);
const defaults: KnobValues = Object.fromEntries(
  Object.entries(definition.knobs).map(([name, knob]) => [name, knob.default]),
);
/** The guide's starting point for a database pool, on this machine (capped: 16 clients load it). */
const coresTimesTwo = Math.min(16, 2 * os.availableParallelism());

let dir = '';
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'pooltune-hikari-'));
});
afterAll(async () => {
  if (dir !== '') await rm(dir, { recursive: true, force: true });
});

async function cli(argv: string[], env?: Record<string, string | undefined>) {
  const host = fakeHost(argv, { cwd: dir, ...(env === undefined ? {} : { env }) });
  const code = await main(host);
  return { code, out: host.out(), err: host.err() };
}

/** Closed load on the I/O-wait endpoint only (pg_sleep 10 ms): each request holds its connection ~10 ms. */
function sleepers(connections: number): ClosedScenario {
  return {
    name: `sleep-${connections}`,
    description: `${connections} connections on /sleep`,
    model: 'closed',
    warmupMs: 500,
    stages: [{ connections, durationMs: 2_000 }],
    requestTimeoutMs: 10_000,
    mix: [{ name: 'sleep', method: 'GET', path: '/sleep', weight: 1 }],
  };
}

describe.skipIf(!ready)('the hikari target: HikariCP in a JVM against a real PostgreSQL', () => {
  let target: StartedTarget;
  const controller = new AbortController();

  beforeAll(async () => {
    target = await startForTest(definition, { ...defaults, maximumPoolSize: 1 });
  }, 90_000);
  afterAll(async () => {
    await target?.stop();
  });

  const trial = (knobs: KnobValues, scenario: ClosedScenario) =>
    measuredTrial(target, { ...defaults, ...knobs }, scenario, autocannonDriver, controller.signal);

  it(`queues callers in HikariCP at maximumPoolSize=1, and cores × 2 (${coresTimesTwo}) connections serve more`, async () => {
    const one = await trial({ maximumPoolSize: 1 }, sleepers(16));
    const more = await trial({ maximumPoolSize: coresTimesTwo }, sleepers(16));
    console.log(
      `hikari: maximumPoolSize 1: ${one.client.throughput.toFixed(0)} req/s, pending max ${one.server.native?.pending?.max}; ` +
        `${coresTimesTwo}: ${more.client.throughput.toFixed(0)} req/s, pending max ${more.server.native?.pending?.max}`,
    );

    // HikariCP's own figures, as the target declares them, were sampled.
    expect(Object.keys(one.server.native ?? {}).sort()).toEqual(Object.keys(nativeGauges).sort());
    // One connection, 16 callers: HikariCP holds exactly one and the rest wait in getConnection().
    expect(one.server.native?.total?.max).toBe(1);
    expect(one.server.native?.pending?.max).toBeGreaterThan(0);
    expect(one.server.pool?.waitingMax).toBeGreaterThan(0);
    expect(one.server.pool?.acquireWaitMeanMs ?? 0).toBeGreaterThan(5);
    expect(one.client.errors).toEqual({});
    // The larger pool really holds more connections, and the pool size is what limited throughput.
    expect(more.server.native?.total?.max).toBeGreaterThan(1);
    expect(more.server.native?.total?.max).toBeLessThanOrEqual(coresTimesTwo);
    expect(more.client.throughput).toBeGreaterThan(2 * one.client.throughput);
  });

  it('connectionTimeout bounds the wait in the pool: 64 callers on one connection time out at 250 ms', async () => {
    // ~64 × 10 ms of queue is far below the 30 s default timeout: without the knob nothing would time out.
    const short = await trial({ maximumPoolSize: 1, connectionTimeout: 250 }, sleepers(64));
    const timeouts = short.server.pool?.errors?.acquire_timeout ?? 0;
    console.log(`hikari: connectionTimeout 250 ms at size 1, 64 clients: ${timeouts} acquire timeouts`);
    expect(timeouts).toBeGreaterThan(0);
    expect(Object.values(short.client.errors).reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
    // They failed after about the timeout, not after the scenario's 10 s request timeout.
    expect(short.client.latency.max).toBeLessThan(2_000);
  });
});

describe.skipIf(!ready)('pooltune tune --target hikari --quick, end to end', () => {
  it('tunes HikariCP: the report carries its properties snippet, every trial HikariCP’s own figures', async () => {
    // Eight step-4 trials: this test is about HikariCP's figures in every step, not the search.
    const config = path.join(dir, 'tune.config.json');
    await writeFile(config, JSON.stringify({ tuning: { maxGrowTrials: 8 } }));
    const started = Date.now();
    const out = path.join(dir, 'out');
    const {
      code,
      out: stdout,
      err,
    } = await cli([
      'tune',
      '--config',
      config,
      '--target',
      'hikari',
      '--quick',
      '--runtime',
      'process',
      // One repetition per point: every step still runs, and each knob change restarts the JVM, which
      // makes this target's trials slower than http-pg's.
      '--repetitions',
      '1',
      '--json',
      '--out',
      out,
    ]);
    const seconds = (Date.now() - started) / 1000;
    // A shared 2-core box may miss the SLO at peak (exit 3); the run itself must complete either way.
    expect([ExitCode.ok, ExitCode.sloFailed], err).toContain(code);
    const outcome = JSON.parse(stdout) as { runDir: string; report: string; exitCode: number };
    expect(outcome.exitCode).toBe(code);

    const analysis = JSON.parse(await readFile(path.join(outcome.runDir, 'analysis.json'), 'utf8')) as {
      steps: { step: number }[];
      recommendations: {
        library: string;
        knobs: { knob: string; value: number }[];
        snippets: { label: string; code: string }[];
      }[];
    };
    expect(analysis.steps.map((s) => s.step)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    const recommendation = analysis.recommendations[0];
    expect(recommendation?.library).toBe('hikaricp');
    // HikariCP's snippet comes first, in its own properties syntax, and the report shows it.
    const snippet = recommendation?.snippets[0];
    expect(snippet?.label).toBe('HikariCP');
    expect(snippet?.code).toMatch(/^maximumPoolSize=\d+$/m);
    expect(snippet?.code).toMatch(/^connectionTimeout=\d+$/m);
    const html = await readFile(outcome.report, 'utf8');
    expect(html).toContain(
      `<figcaption>HikariCP</figcaption>\n    <pre><code>${Handlebars.escapeExpression(snippet?.code ?? '')}</code>`,
    );

    // Every measured trial carries HikariCP's own figures, and never more connections than it was allowed.
    const { trials } = await readTrialLog(path.join(outcome.runDir, 'trials.jsonl'));
    const measured = trials.filter((t) => t.status === 'completed' || t.status === 'invalid');
    expect(measured.length).toBeGreaterThan(5);
    for (const t of measured) {
      expect(Object.keys(t.server.native ?? {}).sort(), t.id).toEqual(Object.keys(nativeGauges).sort());
      expect(t.server.native?.total?.max, t.id).toBeLessThanOrEqual(Number(t.knobs.maximumPoolSize));
    }

    // Where the measured knee sits against the guide's "cores × 2".
    const size = recommendation?.knobs.find((k) => k.knob === 'maximumPoolSize')?.value;
    const grown = trials.filter((t) => t.step === '4-grow-pool' && t.status === 'completed');
    const throughputAt = (n: number) => {
      const values = grown.flatMap((t) =>
        t.knobs.maximumPoolSize === n && t.status === 'completed' ? [t.client.throughput] : [],
      );
      return values.reduce((a, b) => a + b, 0) / Math.max(1, values.length);
    };
    const sizes = [...new Set(grown.map((t) => Number(t.knobs.maximumPoolSize)))].sort((a, b) => a - b);
    console.log(
      `hikari tune: exit ${code} in ${seconds.toFixed(0)} s; grown sizes ${sizes.map((n) => `${n}: ${throughputAt(n).toFixed(0)} req/s`).join(', ')}; ` +
        `recommended maximumPoolSize ${size} vs cores × 2 = ${2 * os.availableParallelism()}`,
    );
    expect(throughputAt(Number(size))).toBeGreaterThan(2 * throughputAt(1));
    // Nothing of the target is left running.
    expect(await processesMatching('HikariService')).toEqual([]);
  }, 240_000);
});

describe('a machine without what the hikari target needs', () => {
  it('without the JDK on PATH: a usage error naming the Debian package, before anything starts', async () => {
    const emptyPath = await mkdtemp(path.join(dir, 'empty-path-'));
    const { code, err } = await cli(['run', '--target', 'hikari', '--runtime', 'process', '--quick'], {
      ...process.env,
      CI: 'true',
      PATH: emptyPath,
    });
    expect(code).toBe(ExitCode.usage);
    expect(err).toContain('default-jdk-headless');
  });

  it('without the jars: run.sh stops at once, naming the packages to install', async () => {
    const config = path.join(dir, 'hikari.properties');
    await writeFile(config, 'maximumPoolSize=1\n');
    const noJars = await mkdtemp(path.join(dir, 'no-jars-'));
    const run = promisify(execFile);
    const failed = await run('sh', [path.join(packageRoot, 'targets/hikari/run.sh'), config], {
      env: { ...process.env, HIKARI_JAR_DIR: noJars },
    }).catch((error: { code: number; stderr: string }) => error);
    expect('code' in failed && failed.code).toBe(2);
    expect(failed.stderr).toMatch(/libhikaricp-java libpostgresql-jdbc-java libslf4j-java/);
  });
});
