import type { IncomingMessage, ServerResponse } from 'node:http';
import { describe, expect, it } from 'vitest';
import { decodeHistogram } from '../../harness/analysis/histogram.ts';
import type { ClosedScenario, OpenScenario } from '../../scenarios/scenario.ts';
import { arrivalRateDriver, autocannonDriver } from '../helpers/drivers.ts';
import { countingHandler, startHttpServer, type TestHttpServer, totalCount } from '../helpers/http-server.ts';

function open(overrides: Partial<OpenScenario>): OpenScenario {
  return {
    name: 'test-open',
    description: 'integration test',
    model: 'open',
    arrival: { kind: 'constant', rate: 100 },
    warmupMs: 0,
    durationMs: 1_000,
    maxInFlight: 100,
    requestTimeoutMs: 5_000,
    mix: [{ name: 'ok', method: 'GET', path: '/', weight: 1 }],
    ...overrides,
  };
}

/** A fast server that, once, holds every response from 1.0 s to 1.5 s after its first request. */
function stallingHandler() {
  let firstAt: number | undefined;
  return (_request: IncomingMessage, response: ServerResponse): void => {
    const now = performance.now();
    firstAt ??= now;
    const stallEnd = firstAt + 1_500;
    if (now >= firstAt + 1_000 && now < stallEnd) setTimeout(() => response.end('late'), stallEnd - now);
    else response.end('ok');
  };
}

async function openConnections(server: TestHttpServer): Promise<number> {
  return new Promise((resolve, reject) =>
    server.server.getConnections((error, count) => (error ? reject(error) : resolve(count))),
  );
}

describe('arrival-rate driver', () => {
  it('runs open scenarios only', () => {
    const closed: ClosedScenario = {
      ...open({}),
      model: 'closed',
      stages: [{ connections: 1, durationMs: 1_000 }],
    };
    expect(arrivalRateDriver.unsupported(closed)).toMatch(/open-model/);
    expect(arrivalRateDriver.unsupported(open({}))).toBeUndefined();
  });

  it('holds its offered rate against a fast server, follows the mix and closes its pool', async () => {
    const counts = new Map<string, number>();
    await using server = await startHttpServer(countingHandler(counts));
    let seenAtMeasureStart = -1;
    const result = await arrivalRateDriver.run({
      url: server.url,
      seed: 3,
      signal: new AbortController().signal,
      onMeasureStart: () => {
        expect(seenAtMeasureStart).toBe(-1);
        seenAtMeasureStart = totalCount(counts);
      },
      scenario: open({
        arrival: { kind: 'constant', rate: 1_000 },
        warmupMs: 500,
        durationMs: 3_000,
        mix: [
          { name: 'a', method: 'GET', path: '/a', weight: 3 },
          { name: 'b', method: 'POST', path: '/b', weight: 1 },
        ],
      }),
    });

    expect(result.offeredRate).toBeCloseTo(1_000, 6);
    expect((result.achievedRate ?? 0) / (result.offeredRate ?? 1)).toBeGreaterThanOrEqual(0.98);
    // Achieved means answered, not just attempted: the responses add up to the offered load.
    expect(result.requests).toBeGreaterThanOrEqual(0.98 * 3_000);
    expect(result.ok).toBe(result.requests);
    expect(result.errors).toEqual({});
    expect(result.droppedStarts).toBe(0);
    expect(result.latency.count).toBe(result.requests);
    expect(decodeHistogram(result.histogram).totalCount).toBe(result.requests);
    expect(result.generatorCpu.share).toBeGreaterThan(0);

    // The warm-up ran (about 500 requests) and is excluded.
    expect(seenAtMeasureStart).toBeGreaterThan(100);
    expect(totalCount(counts)).toBeGreaterThanOrEqual(seenAtMeasureStart + result.requests);
    const seen = totalCount(counts);
    expect(Math.abs((counts.get('GET /a') ?? 0) / seen - 0.75)).toBeLessThan(0.04);
    expect(Math.abs((counts.get('POST /b') ?? 0) / seen - 0.25)).toBeLessThan(0.04);

    // The pool was closed: the server's connections go away (polled, bounded).
    for (let i = 0; i < 50 && (await openConnections(server)) > 0; i++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(await openConnections(server)).toBe(0);
  });

  it('sees a server stall in its percentiles, where a one-connection closed model hides it', async () => {
    await using stalling = await startHttpServer(stallingHandler());
    const result = await arrivalRateDriver.run({
      url: stalling.url,
      seed: 5,
      signal: new AbortController().signal,
      scenario: open({
        arrival: { kind: 'constant', rate: 200 },
        warmupMs: 250,
        durationMs: 2_000,
        maxInFlight: 500,
      }),
    });
    // About 100 of ~400 arrivals fall in the 500 ms stall, waiting 0-500 ms: a fifth of all requests wait
    // over 100 ms, so p90 is well above it, and the first arrival in the stall waits nearly all of it.
    expect(result.droppedStarts).toBe(0);
    expect(result.latency.max).toBeGreaterThanOrEqual(400);
    expect(result.latency.p99).toBeGreaterThanOrEqual(300);
    expect(result.latency.p90).toBeGreaterThanOrEqual(100);

    // A closed model with one connection sends nothing while it waits: one slow sample among thousands.
    await using stallingAgain = await startHttpServer(stallingHandler());
    const closedResult = await autocannonDriver.run({
      url: stallingAgain.url,
      seed: 5,
      signal: new AbortController().signal,
      scenario: {
        ...open({}),
        model: 'closed',
        warmupMs: 0,
        stages: [{ connections: 1, durationMs: 2_000 }],
      },
    });
    expect(closedResult.latency.max).toBeGreaterThanOrEqual(400);
    expect(closedResult.latency.p99).toBeLessThan(100);
  });

  it("counts the generator's own lateness in latency and in lateStarts", async () => {
    await using server = await startHttpServer(countingHandler(new Map()));
    const run = arrivalRateDriver.run({
      url: server.url,
      seed: 4,
      signal: new AbortController().signal,
      scenario: open({ arrival: { kind: 'constant', rate: 200 }, durationMs: 1_500 }),
    });
    // Freeze this process (generator and server alike) for 300 ms mid-run: about 60 arrivals come due
    // while nothing can start, and they start late, all at once, when it thaws.
    setTimeout(() => {
      const until = performance.now() + 300;
      while (performance.now() < until) {
        // busy on purpose
      }
    }, 700);
    const result = await run;
    expect(result.lateStarts).toBeGreaterThanOrEqual(40);
    expect(result.latency.max).toBeGreaterThanOrEqual(250);
    expect(result.latency.p90).toBeGreaterThanOrEqual(50);
  });

  it('counts errors by kind: status, timeout and connection refused', async () => {
    const counts = new Map<string, number>();
    await using server = await startHttpServer(countingHandler(counts));
    const result = await arrivalRateDriver.run({
      url: server.url,
      seed: 9,
      signal: new AbortController().signal,
      scenario: open({
        arrival: { kind: 'constant', rate: 90 },
        durationMs: 1_000,
        requestTimeoutMs: 300,
        mix: [
          { name: 'ok', method: 'GET', path: '/ok', weight: 1 },
          { name: 'fail', method: 'GET', path: '/fail', weight: 1 },
          { name: 'hang', method: 'GET', path: '/hang', weight: 1 },
        ],
      }),
    });
    const fails = result.errors['status:503'] ?? 0;
    const timeouts = result.errors.timeout ?? 0;
    expect(fails).toBeGreaterThan(10);
    expect(timeouts).toBeGreaterThan(10);
    expect(result.ok).toBeGreaterThan(10);
    expect(result.requests).toBe(result.ok + fails);
    expect(result.requests + timeouts).toBe(90);

    const gone = await startHttpServer(countingHandler(new Map()));
    await gone.close();
    const refused = await arrivalRateDriver.run({
      url: gone.url,
      seed: 9,
      signal: new AbortController().signal,
      scenario: open({ arrival: { kind: 'constant', rate: 50 }, durationMs: 500 }),
    });
    expect(refused.requests).toBe(0);
    expect(refused.errors.ECONNREFUSED ?? 0).toBeGreaterThan(0);
  });

  it('drops starts beyond maxInFlight instead of queueing them', async () => {
    const counts = new Map<string, number>();
    await using server = await startHttpServer(countingHandler(counts));
    const result = await arrivalRateDriver.run({
      url: server.url,
      seed: 2,
      signal: new AbortController().signal,
      scenario: open({
        arrival: { kind: 'constant', rate: 100 },
        durationMs: 1_000,
        maxInFlight: 5,
        requestTimeoutMs: 300,
        mix: [{ name: 'hang', method: 'GET', path: '/hang', weight: 1 }],
      }),
    });
    // Five hang until they time out (300 ms); meanwhile every other start is dropped.
    expect(result.droppedStarts).toBeGreaterThan(50);
    expect((result.droppedStarts ?? 0) + (result.errors.timeout ?? 0)).toBe(100);
    expect(totalCount(counts)).toBe(result.errors.timeout);
  });

  it('stops and rejects when aborted, even with requests in flight', async () => {
    const counts = new Map<string, number>();
    await using server = await startHttpServer(countingHandler(counts));
    const controller = new AbortController();
    const started = performance.now();
    const run = arrivalRateDriver.run({
      url: server.url,
      seed: 1,
      signal: controller.signal,
      scenario: open({
        arrival: { kind: 'constant', rate: 100 },
        warmupMs: 200,
        durationMs: 30_000,
        requestTimeoutMs: 30_000,
        mix: [{ name: 'hang', method: 'GET', path: '/hang', weight: 1 }],
      }),
    });
    setTimeout(() => controller.abort(new Error('test abort')), 500);
    await expect(run).rejects.toThrow('test abort');
    // Loose bound: the point is that it settles long before the 30 s window or the hung requests would.
    expect(performance.now() - started).toBeLessThan(5_000);

    const afterAbort = totalCount(counts);
    expect(afterAbort).toBeGreaterThan(0);
    await new Promise((resolve) => setTimeout(resolve, 300));
    // A request written just before the abort may still reach the server; 100 req/s would add 30.
    expect(totalCount(counts) - afterAbort).toBeLessThanOrEqual(3);

    const aborted = AbortSignal.abort(new Error('already aborted'));
    await expect(
      arrivalRateDriver.run({ url: server.url, seed: 1, signal: aborted, scenario: open({}) }),
    ).rejects.toThrow('already aborted');
  });
});
