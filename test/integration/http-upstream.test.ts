import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { targetSchema } from '../../harness/config/schema.ts';
import type { Driver } from '../../harness/drivers/driver.ts';
import type { KnobValues, MeasuredTrial } from '../../harness/results/trial.ts';
import type { StartedTarget } from '../../harness/runtime/service.ts';
import type { ClosedScenario, OpenScenario, Scenario } from '../../scenarios/scenario.ts';
import { httpUpstream } from '../../targets/http-upstream/target.ts';
import { opensslAvailable } from '../../targets/http-upstream/tls.ts';
import { arrivalRateDriver, autocannonDriver } from '../helpers/drivers.ts';
import { measuredTrial, startForTest } from '../helpers/target-trial.ts';

const definition = targetSchema.parse(httpUpstream);
const defaults: KnobValues = Object.fromEntries(
  Object.entries(definition.knobs).map(([name, knob]) => [name, knob.default]),
);

// TLS makes a new connection cost a handshake, which widens the keep-alive on/off gap; without the
// openssl CLI there is no certificate, so that test runs over plain HTTP and says so.
const tls = await opensslAvailable();
if (!tls) console.warn('openssl not found: the keep-alive on/off test runs over plain HTTP instead of TLS');

const start = (knobs: KnobValues) => startForTest(definition, { ...defaults, ...knobs });

const trial = (target: StartedTarget, knobs: KnobValues, scenario: Scenario, driver: Driver) =>
  measuredTrial(target, { ...defaults, ...knobs }, scenario, driver);

const resets = (t: MeasuredTrial) => t.server.pool?.errors?.connection_reset ?? 0;

describe('http-upstream: keep-alive on vs off', () => {
  // Eight clients back to back on /call: each call is one upstream request through the pool.
  const closed: ClosedScenario = {
    name: 'eight-clients',
    description: '8 connections on /call',
    model: 'closed',
    warmupMs: 500,
    stages: [{ connections: 8, durationMs: 2_000 }],
    requestTimeoutMs: 10_000,
    mix: [{ name: 'call', method: 'GET', path: '/call', weight: 1 }],
  };
  const knobs = { tls, connections: 8 };
  let target: StartedTarget;
  beforeAll(async () => {
    target = await start({ ...knobs, keepAlive: true });
  });
  afterAll(async () => {
    await target?.stop();
  });

  it('off opens a connection per call and is slower at the median', async () => {
    const on = await trial(target, { ...knobs, keepAlive: true }, closed, autocannonDriver);
    const off = await trial(target, { ...knobs, keepAlive: false }, closed, autocannonDriver);
    const perSec = (t: MeasuredTrial) =>
      (t.server.pool?.connectionsOpened ?? Number.NaN) / (t.client.durationMs / 1000);
    const figures = (t: MeasuredTrial) =>
      `${perSec(t).toFixed(1)} new conns/s, p50 ${t.client.latency.p50} ms, ${t.client.throughput.toFixed(0)} req/s`;
    console.info(`keep-alive (${tls ? 'TLS' : 'plain'}): on ${figures(on)}; off ${figures(off)}`);

    expect(on.client.errors).toEqual({});
    expect(off.client.errors).toEqual({});
    // On: the warm pool is reused, so (almost) nothing opens during the window. Off: one per call.
    expect(perSec(on)).toBeLessThan(2);
    expect(perSec(off)).toBeGreaterThan(50);
    expect(off.server.pool?.connectionsOpened ?? 0).toBeGreaterThan(0.8 * off.client.requests);
    expect(off.client.latency.p50).toBeGreaterThan(on.client.latency.p50);
  });
});

describe('http-upstream: the keep-alive race', () => {
  // Short bursts separated by 1.2 s of silence: longer than the upstream's 1 s idle timeout, so every
  // burst after the first finds its pooled connection expired on the upstream's side.
  const gaps: OpenScenario = {
    name: 'gaps-over-1s',
    description: '20 req/s for 300 ms, then 1.2 s of silence, repeated',
    model: 'open',
    arrival: { kind: 'idle-gaps', rate: 20, activeMs: 300, idleMs: 1_200 },
    warmupMs: 500,
    durationMs: 4_500,
    maxInFlight: 50,
    requestTimeoutMs: 5_000,
    mix: [{ name: 'call', method: 'GET', path: '/call', weight: 1 }],
  };
  // An upstream with a 1 s idle timeout that does not announce it, and drops idle connections the way
  // a load balancer does (the next request on one gets a RST).
  const upstream = {
    upstreamKeepAliveMs: 1_000,
    upstreamKeepAliveHeader: false,
    upstreamIdleClose: 'silent',
    connections: 4,
  };
  let target: StartedTarget;
  beforeAll(async () => {
    target = await start({ ...upstream, keepAliveTimeout: 30_000 });
  });
  afterAll(async () => {
    await target?.stop();
  });

  it('resets requests when the pool keeps idle connections longer than the upstream, and not otherwise', async () => {
    const longer = await trial(target, { ...upstream, keepAliveTimeout: 30_000 }, gaps, arrivalRateDriver);
    const shorter = await trial(target, { ...upstream, keepAliveTimeout: 500 }, gaps, arrivalRateDriver);
    // The same 30 s client timeout, but the upstream now says `Keep-Alive: timeout=1`, which undici honours.
    const announced = await trial(
      target,
      { ...upstream, upstreamKeepAliveHeader: true, keepAliveTimeout: 30_000 },
      gaps,
      arrivalRateDriver,
    );
    const figures = (t: MeasuredTrial) =>
      `${resets(t)} connection_reset, ${t.client.errors['status:502'] ?? 0} x 502 of ${t.client.requests}, ${t.server.pool?.connectionsOpened ?? 0} opened`;
    console.info(
      `keep-alive race: client 30 s > upstream 1 s: ${figures(longer)}; client 0.5 s: ${figures(shorter)}; ` +
        `header honoured: ${figures(announced)}`,
    );

    expect(resets(longer)).toBeGreaterThan(0);
    // The harness sees them as 502s from the api.
    expect(longer.client.errors['status:502'] ?? 0).toBeGreaterThan(0);
    expect(resets(shorter)).toBe(0);
    expect(shorter.client.errors).toEqual({});
    expect(resets(announced)).toBe(0);
    expect(announced.client.errors).toEqual({});
    // Both fixes still open connections (one per burst, or one per call when the header says 1 s).
    expect(shorter.server.pool?.connectionsOpened ?? 0).toBeGreaterThan(0);
  });
});
