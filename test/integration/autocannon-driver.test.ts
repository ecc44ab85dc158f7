import { describe, expect, it } from 'vitest';
import { decodeHistogram } from '../../harness/analysis/histogram.ts';
import type { ClosedScenario, OpenScenario, RequestSpec } from '../../scenarios/scenario.ts';
import { autocannonDriver } from '../helpers/drivers.ts';
import { countingHandler, startHttpServer, totalCount } from '../helpers/http-server.ts';

const MIX: readonly RequestSpec[] = [
  { name: 'a', method: 'GET', path: '/a', weight: 60 },
  { name: 'b', method: 'POST', path: '/b', weight: 25 },
  { name: 'fail', method: 'GET', path: '/fail', weight: 10 },
  { name: 'reset', method: 'GET', path: '/reset', weight: 5 },
];

function closed(overrides: Partial<ClosedScenario>): ClosedScenario {
  return {
    name: 'test-closed',
    description: 'integration test',
    model: 'closed',
    warmupMs: 0,
    stages: [{ connections: 1, durationMs: 1_000 }],
    requestTimeoutMs: 5_000,
    mix: [{ name: 'ok', method: 'GET', path: '/', weight: 1 }],
    ...overrides,
  };
}

describe('autocannon driver', () => {
  it('runs closed scenarios only', () => {
    const open: OpenScenario = {
      ...closed({}),
      model: 'open',
      arrival: { kind: 'constant', rate: 10 },
      durationMs: 1_000,
      maxInFlight: 10,
    };
    expect(autocannonDriver.unsupported(open)).toMatch(/closed-model/);
    expect(autocannonDriver.unsupported(closed({}))).toBeUndefined();
  });

  it('follows the mix weights, reports each stage and counts errors by kind', async () => {
    const counts = new Map<string, number>();
    await using server = await startHttpServer(countingHandler(counts));
    let seenAtMeasureStart = -1;
    const result = await autocannonDriver.run({
      url: server.url,
      seed: 7,
      signal: new AbortController().signal,
      onMeasureStart: () => {
        expect(seenAtMeasureStart).toBe(-1);
        seenAtMeasureStart = totalCount(counts);
      },
      scenario: closed({
        warmupMs: 300,
        stages: [
          { connections: 2, durationMs: 1_000 },
          { connections: 4, durationMs: 1_000 },
        ],
        mix: MIX,
      }),
    });

    // Every request kind arrives in proportion to its weight (the server saw thousands).
    const seen = totalCount(counts);
    expect(seen).toBeGreaterThan(2_000);
    for (const spec of MIX) {
      const share = (counts.get(`${spec.method} ${spec.path}`) ?? 0) / seen;
      expect(Math.abs(share - spec.weight / 100), spec.name).toBeLessThan(0.03);
    }

    // The warm-up ran and is excluded from the results.
    expect(seenAtMeasureStart).toBeGreaterThan(0);
    expect(result.requests).toBeLessThanOrEqual(seen - seenAtMeasureStart);

    expect(result.stages?.map((stage) => stage.connections)).toEqual([2, 4]);
    const stages = result.stages ?? [];
    for (const stage of stages) {
      expect(stage.requests).toBeGreaterThan(0);
      expect(stage.durationMs).toBeGreaterThanOrEqual(950);
    }
    expect(result.requests).toBe(stages.reduce((sum, stage) => sum + stage.requests, 0));

    // Errors by kind: 503s are responses, resets are not.
    const fails = result.errors['status:503'] ?? 0;
    expect(fails).toBeGreaterThan(0);
    expect(result.errors.ECONNRESET ?? 0).toBeGreaterThan(0);
    expect(result.ok + fails).toBe(result.requests);

    // Headline = last stage; one latency sample per response (no synthetic coordinated-omission samples).
    const last = stages[stages.length - 1];
    expect(result.throughput).toBe(last?.throughput);
    expect(result.latency).toEqual(last?.latency);
    expect(result.latency.count).toBe(last?.requests);
    expect(decodeHistogram(result.histogram).totalCount).toBe(last?.requests);
    expect(result.generatorCpu.userMs + result.generatorCpu.systemMs).toBeGreaterThan(0);
  });

  it('counts requests slower than the timeout as timeouts', async () => {
    const counts = new Map<string, number>();
    await using server = await startHttpServer(countingHandler(counts));
    const hang = await autocannonDriver.run({
      url: server.url,
      seed: 1,
      signal: new AbortController().signal,
      scenario: closed({
        requestTimeoutMs: 1_000,
        stages: [{ connections: 1, durationMs: 1_600 }],
        mix: [{ name: 'hang', method: 'GET', path: '/hang', weight: 1 }],
      }),
    });
    expect(hang.errors.timeout).toBeGreaterThanOrEqual(1);
    expect(hang.ok).toBe(0);

    // Below autocannon's 1 s minimum, late responses are re-counted as timeouts.
    const slow = await autocannonDriver.run({
      url: server.url,
      seed: 1,
      signal: new AbortController().signal,
      scenario: closed({
        requestTimeoutMs: 200,
        stages: [{ connections: 1, durationMs: 1_000 }],
        mix: [{ name: 'slow', method: 'GET', path: '/slow', weight: 1 }],
      }),
    });
    expect(slow.requests).toBeGreaterThan(0);
    expect(slow.errors.timeout).toBe(slow.requests);
    expect(slow.ok).toBe(0);
  });

  it('stops and rejects when aborted', async () => {
    const counts = new Map<string, number>();
    await using server = await startHttpServer(countingHandler(counts));
    const controller = new AbortController();
    const started = performance.now();
    const run = autocannonDriver.run({
      url: server.url,
      seed: 1,
      signal: controller.signal,
      scenario: closed({ warmupMs: 200, stages: [{ connections: 4, durationMs: 30_000 }] }),
    });
    setTimeout(() => controller.abort(new Error('test abort')), 500);
    await expect(run).rejects.toThrow('test abort');
    // Loose bound: the point is that it settles long before the 30 s stage would end.
    expect(performance.now() - started).toBeLessThan(5_000);

    // Load has stopped: the server sees no new requests after the driver settled.
    const afterAbort = totalCount(counts);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(totalCount(counts) - afterAbort).toBeLessThanOrEqual(4);

    const aborted = AbortSignal.abort(new Error('already aborted'));
    await expect(
      autocannonDriver.run({ url: server.url, seed: 1, signal: aborted, scenario: closed({}) }),
    ).rejects.toThrow('already aborted');
  });

  it('refuses a target that is not loopback', async () => {
    await expect(
      autocannonDriver.run({
        url: 'http://192.0.2.1:80',
        seed: 1,
        signal: new AbortController().signal,
        scenario: closed({}),
      }),
    ).rejects.toThrow(/not a loopback address/);
  });
});
