import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../harness/cli/main.ts';
import { parsePrometheusText, readCounterByLabel } from '../../harness/collect/prometheus.ts';
import { type TargetDefinition, targetSchema } from '../../harness/config/schema.ts';
import type { DriverResult } from '../../harness/drivers/driver.ts';
import { ExitCode, messageOf } from '../../harness/errors.ts';
import {
  isMeasured,
  type KnobValues,
  type MeasuredTrial,
  type TrialResult,
} from '../../harness/results/trial.ts';
import { readTrialLog } from '../../harness/results/trial-log.ts';
import { checkRequirements, startTarget } from '../../harness/runtime/process-runtime.ts';
import type { StartedTarget } from '../../harness/runtime/service.ts';
import { runTrial } from '../../harness/tuning/run-trial.ts';
import type { ClosedScenario } from '../../scenarios/scenario.ts';
import { httpPg } from '../../targets/http-pg/target.ts';
import {
  type PgBouncerFigures,
  serverConnections,
  summarisePools,
  totalWaitSeconds,
} from '../../targets/pgbouncer/admin-console.ts';
import { appService, bouncerService, pgbouncer, processService } from '../../targets/pgbouncer/target.ts';
import { autocannonDriver } from '../helpers/drivers.ts';
import { fakeHost } from '../helpers/fake-host.ts';
import { testRuntime } from '../helpers/system.ts';

// Real pgBouncer (Debian's package) between the app and a real PostgreSQL, real load on 127.0.0.1.
// Without pgbouncer the suite skips with one line, except where POOLTUNE_REQUIRE_PACKAGES=1 says the
// package must be there (CI installs it).
const definition = targetSchema.parse(pgbouncer);
const env = Object.fromEntries(
  Object.entries(process.env).filter((e): e is [string, string] => e[1] !== undefined),
);
const missing = (() => {
  try {
    checkRequirements(definition, env);
    return undefined;
  } catch (error) {
    return messageOf(error);
  }
})();
if (missing !== undefined) {
  if (process.env.POOLTUNE_REQUIRE_PACKAGES === '1') {
    throw new Error(`${missing}, but POOLTUNE_REQUIRE_PACKAGES=1 (CI installs it)`);
  }
  console.log(`SKIPPED pgbouncer suite: ${missing} (apt-get install pgbouncer)`);
}

const defaults: KnobValues = Object.fromEntries(
  Object.entries(definition.knobs).map(([name, knob]) => [name, knob.default]),
);
const runtime = testRuntime(env);

/** Closed load on the I/O-wait endpoint: each request holds a connection for the app's SLEEP_MS. */
function onSleep(connections: number, durationMs: number): ClosedScenario {
  return {
    name: `sleep@${connections}`,
    description: `${connections} connections on /sleep`,
    model: 'closed',
    warmupMs: 300,
    stages: [{ connections, durationMs }],
    requestTimeoutMs: 10_000,
    mix: [{ name: 'sleep', method: 'GET', path: '/sleep', weight: 1 }],
  };
}

/** The admin console of the pgBouncer service `bouncer` of a started target. */
async function adminConsole(started: StartedTarget): Promise<pg.Client> {
  const client = new pg.Client(`postgres://pooltune@127.0.0.1:${started.service('bouncer').port}/pgbouncer`);
  await client.connect();
  return client;
}

/** Reads SHOW POOLS every 100 ms until stopped; the largest figures seen. */
function watchPools(admin: pg.Client): { stop(): Promise<{ servers: number; clients: number }> } {
  let servers = 0;
  let clients = 0;
  let running = true;
  const loop = (async () => {
    while (running) {
      const figures: PgBouncerFigures = summarisePools((await admin.query('SHOW POOLS')).rows);
      servers = Math.max(servers, serverConnections(figures));
      clients = Math.max(clients, figures.cl_active + figures.cl_waiting);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return { servers, clients };
    },
  };
}

describe('pgBouncer figures from admin console rows (pure)', () => {
  const pool = (database: string, figures: Record<string, number>) =>
    Object.fromEntries([['database', database], ...Object.entries(figures).map(([k, v]) => [k, String(v)])]);

  it("sums the pools but the console's own, takes the longest wait, and reads waits in microseconds", () => {
    const figures = summarisePools([
      pool('pgbouncer', { cl_active: 1, cl_waiting: 0, sv_active: 0, maxwait: 9, maxwait_us: 0 }),
      pool('postgres', {
        cl_active: 3,
        cl_waiting: 5,
        sv_active: 2,
        sv_idle: 1,
        sv_login: 1,
        maxwait: 1,
        maxwait_us: 250_000,
      }),
      pool('reports', {
        cl_active: 1,
        cl_waiting: 2,
        sv_active: 1,
        sv_used: 1,
        maxwait: 0,
        maxwait_us: 500_000,
      }),
    ]);
    expect(figures).toEqual({
      cl_active: 4,
      cl_waiting: 7,
      sv_active: 3,
      sv_idle: 1,
      sv_used: 1,
      sv_login: 1,
      maxwait: 1.25,
    });
    expect(serverConnections(figures)).toBe(6);
    expect(
      totalWaitSeconds([
        pool('pgbouncer', { total_wait_time: 99 }),
        pool('postgres', { total_wait_time: 1_500_000 }),
        pool('reports', { total_wait_time: 250_000 }),
      ]),
    ).toBe(1.75);
  });
});

describe.skipIf(missing !== undefined)('the pgbouncer target on real pgBouncer and PostgreSQL', () => {
  describe('default_pool_size', () => {
    let started: StartedTarget;
    let counter = 0;
    beforeAll(async () => {
      started = await startTarget(definition, { ...defaults, default_pool_size: 1, max: 8 }, runtime);
    });
    afterAll(async () => {
      await started?.stop();
    });

    async function trialAt(defaultPoolSize: number): Promise<MeasuredTrial> {
      counter += 1;
      const scenario = onSleep(16, 1_500);
      const result: TrialResult = await runTrial({
        key: {
          id: `t${counter}`,
          step: 'test',
          // The app's pool (8) stays below the 16 clients: what reaches pgBouncer is 8 clients.
          knobs: { ...defaults, max: 8, default_pool_size: defaultPoolSize },
          scenario: scenario.name,
          driver: 'autocannon',
          repetition: 1,
        },
        target: started,
        scenario,
        driver: autocannonDriver,
        seed: counter,
        signal: AbortSignal.timeout(30_000),
        now: () => new Date(),
      });
      if (result.status !== 'completed' && result.status !== 'invalid') {
        throw new Error(
          `trial at ${defaultPoolSize}: ${result.status} ${'error' in result ? result.error : ''}`,
        );
      }
      return result;
    }

    it('queues clients in pgBouncer at 1 server connection, and not at 8', async () => {
      const one = await trialAt(1);
      const eight = await trialAt(8);
      const at1 = one.server.native ?? {};
      const at8 = eight.server.native ?? {};
      console.log(
        `pgbouncer default_pool_size 1: cl_waiting mean ${at1.cl_waiting?.mean.toFixed(2)} max ${at1.cl_waiting?.max}, sv_active max ${at1.sv_active?.max}, maxwait max ${at1.maxwait?.max.toFixed(3)} s, ${one.client.throughput.toFixed(0)} req/s; ` +
          `8: cl_waiting mean ${at8.cl_waiting?.mean.toFixed(2)} max ${at8.cl_waiting?.max}, sv_active max ${at8.sv_active?.max}, ${eight.client.throughput.toFixed(0)} req/s`,
      );
      // One server connection for 8 clients: the rest wait in pgBouncer, never on a second connection.
      expect(at1.cl_waiting?.max).toBeGreaterThan(0);
      expect(at1.cl_waiting?.mean).toBeGreaterThan(1);
      expect(at1.sv_active?.max).toBe(1);
      expect(at1.sv_idle?.max).toBeLessThanOrEqual(1);
      // Eight: every client of the app's pool gets a server connection; (about) nobody waits.
      expect(at8.cl_waiting?.mean).toBeLessThan(0.5);
      expect(at8.sv_active?.max).toBeGreaterThan(1);
      expect(eight.client.throughput).toBeGreaterThan(2 * one.client.throughput);
      // The app's own pool is sampled under the usual names alongside.
      expect(one.server.pool?.totalMax).toBe(8);
      expect(one.client.errors).toEqual({});
      expect(eight.client.errors).toEqual({});
    }, 60_000);
  });

  describe('many app instances against one PostgreSQL', () => {
    const instances = 4;
    const poolPerInstance = 10;
    const maxConnections = 25;
    const defaultPoolSize = 10;
    const names = Array.from({ length: instances }, (_, i) => `api${i}`);

    /** `instances` app processes, each with its own pool, straight to PostgreSQL or through pgBouncer. */
    function fleet(through: 'direct' | 'pgbouncer'): TargetDefinition {
      const app = through === 'direct' ? { ...processService(httpPg, 'api') } : appService('bouncer');
      const service = {
        ...app,
        // Requests hold their connection for 50 ms, so every pool fills up under 10 clients.
        env: {
          ...app.env,
          PG_POOL_MAX: String(poolPerInstance),
          PG_STATEMENT_TIMEOUT_MS: '0',
          SLEEP_MS: '50',
        },
      };
      return targetSchema.parse({
        ...pgbouncer,
        name: `fleet-${through}`,
        entry: names[0],
        pools: [],
        services: {
          db: { kind: 'postgres', maxConnections },
          ...(through === 'pgbouncer' ? { bouncer: bouncerService('db') } : {}),
          ...Object.fromEntries(names.map((name) => [name, service])),
        },
      });
    }

    /** `poolPerInstance` clients on every instance at once. */
    function loadAll(started: StartedTarget): Promise<DriverResult[]> {
      return Promise.all(
        names.map((name, i) =>
          autocannonDriver.run({
            url: started.service(name).url,
            scenario: onSleep(poolPerInstance, 1_500),
            signal: AbortSignal.timeout(30_000),
            seed: i,
          }),
        ),
      );
    }

    /** "too many clients" refusals each instance's pool met, summed. */
    async function tooManyClients(started: StartedTarget): Promise<number> {
      let total = 0;
      for (const name of names) {
        const text = await (await fetch(`${started.service(name).url}/metrics`)).text();
        total +=
          readCounterByLabel(parsePrometheusText(text), 'pool_errors_total', 'kind')?.too_many_connections ??
          0;
      }
      return total;
    }

    const summary = (results: readonly DriverResult[]) => ({
      requests: results.reduce((sum, r) => sum + r.requests, 0),
      ok: results.reduce((sum, r) => sum + r.ok, 0),
    });

    it(`${instances} instances x pool ${poolPerInstance} exceed max_connections ${maxConnections} straight to PostgreSQL`, async () => {
      await using started = await startTarget(fleet('direct'), defaults, runtime);
      const results = await loadAll(started);
      const { requests, ok } = summary(results);
      const refused = await tooManyClients(started);
      console.log(
        `direct: ${instances} x ${poolPerInstance} against max_connections ${maxConnections}: ${ok} of ${requests} requests ok, ${refused} connections refused ("too many clients")`,
      );
      expect(refused).toBeGreaterThan(0);
      expect(ok).toBeLessThan(requests);
    }, 60_000);

    it(`fit through pgBouncer in transaction mode at default_pool_size ${defaultPoolSize}`, async () => {
      const knobs = { ...defaults, pool_mode: 'transaction', default_pool_size: defaultPoolSize };
      await using started = await startTarget(fleet('pgbouncer'), knobs, runtime);
      const admin = await adminConsole(started);
      try {
        const watch = watchPools(admin);
        const results = await loadAll(started);
        const seen = await watch.stop();
        const { requests, ok } = summary(results);
        console.log(
          `pgbouncer: ${instances} x ${poolPerInstance} through default_pool_size ${defaultPoolSize}: ${ok} of ${requests} requests ok, at most ${seen.clients} clients on at most ${seen.servers} server connections`,
        );
        expect(ok).toBe(requests);
        expect(await tooManyClients(started)).toBe(0);
        // More clients than PostgreSQL would take, carried on at most default_pool_size connections.
        expect(seen.clients).toBeGreaterThan(maxConnections);
        expect(seen.servers).toBeLessThanOrEqual(defaultPoolSize);
      } finally {
        await admin.end();
      }
    }, 60_000);
  });

  describe('pooltune tune --target pgbouncer --quick', () => {
    let dir = '';
    beforeAll(async () => {
      dir = await mkdtemp(path.join(os.tmpdir(), 'pooltune-pgbouncer-'));
    });
    afterAll(async () => {
      if (dir !== '') await rm(dir, { recursive: true, force: true });
    });

    it('tunes both pools end to end; the report carries the pgBouncer snippet, the trials its figures', async () => {
      // pgBouncer's pool first, with the app's pool at its default 10; a lighter load than the defaults
      // (the app, pgBouncer, PostgreSQL and the generator share the cores); one repetition per point.
      await writeFile(
        path.join(dir, 'pooltune.config.json'),
        JSON.stringify({
          runtime: 'process',
          repetitions: 1,
          // Eight step-4 trials per pool: this test is about the two pools and pgBouncer's figures, not the search.
          tuning: {
            poolOrder: ['pgbouncer', 'app'],
            steadyRate: 200,
            peakRate: 600,
            concurrency: 16,
            maxGrowTrials: 8,
          },
        }),
      );
      const started = Date.now();
      const host = fakeHost(
        ['tune', '--target', 'pgbouncer', '--quick', '--json', '--out', path.join(dir, 'out')],
        {
          cwd: dir,
        },
      );
      const code = await main(host);
      const outcome = JSON.parse(host.out()) as { runDir: string; report: string; exitCode: number };
      console.log(
        `pooltune tune --target pgbouncer --quick: exit ${code} after ${((Date.now() - started) / 1000).toFixed(0)} s`,
      );
      // The SLO verdict depends on how busy the machine is; the run itself must complete.
      expect([ExitCode.ok, ExitCode.sloFailed], host.err()).toContain(code);
      expect(outcome.exitCode).toBe(code);

      const analysis = JSON.parse(await readFile(path.join(outcome.runDir, 'analysis.json'), 'utf8')) as {
        steps: { step: number }[];
        recommendations: {
          pool: string;
          knobs: { knob: string; value: number }[];
          snippets: { label: string; code: string }[];
        }[];
      };
      // Steps 2 to 6 ran once per pool.
      expect([...new Set(analysis.steps.map((s) => s.step))]).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
      expect(analysis.recommendations.map((r) => r.pool)).toEqual(['pgbouncer', 'app']);
      const bouncer = analysis.recommendations[0];
      const size = bouncer?.knobs.find((k) => k.knob === 'default_pool_size')?.value;
      expect(size).toBeGreaterThanOrEqual(1);
      expect(bouncer?.snippets[0]?.label).toBe('pgBouncer');
      expect(bouncer?.snippets[0]?.code).toContain(`default_pool_size = ${size}`);
      // The page escapes '=' as handlebars does.
      const html = (await readFile(outcome.report, 'utf8')).replaceAll('&#x3D;', '=');
      expect(html).toContain('[pgbouncer]');
      expect(html).toContain(`default_pool_size = ${size}`);

      // Every measured trial carries pgBouncer's own figures, and they obey the knob: never more
      // server connections in use than default_pool_size; at 1, the app's 10 connections queue in it.
      const { trials } = await readTrialLog(path.join(outcome.runDir, 'trials.jsonl'));
      const measured = trials.filter(isMeasured);
      expect(measured.length).toBeGreaterThan(10);
      for (const trial of measured) {
        expect(Object.keys(trial.server.native ?? {}), trial.id).toEqual(
          expect.arrayContaining(['cl_waiting', 'sv_active', 'sv_idle', 'maxwait']),
        );
        expect(trial.server.native?.sv_active?.max, trial.id).toBeLessThanOrEqual(
          Number(trial.knobs.default_pool_size),
        );
      }
      const squeezed = measured.filter((t) => t.knobs.default_pool_size === 1 && t.step === '4-grow-pool');
      expect(squeezed.length).toBeGreaterThan(0);
      expect(Math.max(...squeezed.map((t) => t.server.native?.cl_waiting?.max ?? 0))).toBeGreaterThan(0);
    }, 240_000);
  });
});
