import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CompletedTrial, InvalidTrial, TrialResult } from '../../harness/results/trial.ts';
import type { StartedTarget } from '../../harness/runtime/service.ts';
import { runTrial } from '../../harness/tuning/run-trial.ts';
import type { ClosedScenario } from '../../scenarios/scenario.ts';
import { autocannonDriver } from '../helpers/drivers.ts';
import { httpPgDefaults, startHttpPg } from '../helpers/http-pg.ts';

// Only the I/O-wait endpoint (pg_sleep 10 ms): each request holds a pooled connection for ~10 ms,
// so with 16 concurrent clients the pool size decides the throughput.
const sixteenClients: ClosedScenario = {
  name: 'sixteen-clients',
  description: '16 connections on /sleep',
  model: 'closed',
  warmupMs: 500,
  stages: [{ connections: 16, durationMs: 2_000 }],
  requestTimeoutMs: 10_000,
  mix: [{ name: 'sleep', method: 'GET', path: '/sleep', weight: 1 }],
};

describe('http-pg against a real PostgreSQL', () => {
  let target: StartedTarget;
  const controller = new AbortController();
  let counter = 0;

  beforeAll(async () => {
    target = await startHttpPg({ max: 1 });
  });
  afterAll(async () => {
    await target?.stop();
  });

  async function trialAt(max: number): Promise<CompletedTrial | InvalidTrial> {
    counter += 1;
    const result: TrialResult = await runTrial({
      key: {
        id: `t${counter}`,
        step: 'test',
        knobs: { ...httpPgDefaults(), max },
        scenario: sixteenClients.name,
        driver: 'autocannon',
        repetition: 1,
      },
      target,
      scenario: sixteenClients,
      driver: autocannonDriver,
      seed: counter,
      signal: controller.signal,
      now: () => new Date(),
    });
    if (result.status !== 'completed' && result.status !== 'invalid') {
      throw new Error(`trial at max ${max} ${result.status}: ${'error' in result ? result.error : ''}`);
    }
    return result;
  }

  it('queues callers at pool size 1 and not at 16, and a bigger pool serves more', async () => {
    const one = await trialAt(1);
    const sixteen = await trialAt(16);
    const eight = await trialAt(8);

    // At max 1 under 16 clients, callers wait for the single connection.
    expect(one.server.pool?.totalMax).toBe(1);
    expect(one.server.pool?.waitingMax).toBeGreaterThan(0);
    expect(one.server.pool?.acquireWaitMeanMs ?? 0).toBeGreaterThan(5);
    // At max 16 every client can hold a connection: (almost) nobody waits.
    expect(sixteen.server.pool?.waitingMean ?? 99).toBeLessThan(1);
    expect(sixteen.server.pool?.totalMax).toBeGreaterThan(8);
    // And the pool size is what limits throughput: 8 connections beat 1 by far.
    expect(eight.client.throughput).toBeGreaterThan(one.client.throughput * 3);
    expect(one.client.errors).toEqual({});
  });

  it('restarts only the service whose knobs changed; the database keeps running', async () => {
    const dbPid = target.service('db').pid;
    const apiBefore = target.entry().pid;
    expect(await target.apply({ ...httpPgDefaults(), max: 3 })).toEqual(['api']);
    expect(target.service('db').pid).toBe(dbPid);
    expect(target.entry().pid).not.toBe(apiBefore);
    expect(await target.apply({ ...httpPgDefaults(), max: 3 })).toEqual([]);
  });
});
