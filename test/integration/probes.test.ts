import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { probeContext, runProbes } from '../../harness/probes/index.ts';
import type { ProbeId, ProbeRequest, ProbeResult } from '../../harness/probes/probe.ts';
import type { KnobValues } from '../../harness/results/trial.ts';
import type { StartedTarget } from '../../harness/runtime/service.ts';
import { probeTargetDefaults, startProbeTarget } from '../helpers/probe-target.ts';

// One real target (PostgreSQL + the http-pg app) for the whole file: each variant is a knob of the probe
// target, so switching variants restarts only the app. Small pool and short timeouts keep every probe
// to a few seconds; all load goes to 127.0.0.1 and is bounded in time and count by the probes.
const base: KnobValues = {
  ...probeTargetDefaults(),
  max: 4,
  idleTimeoutMillis: 1_000,
  connectionTimeoutMillis: 1_000,
  statement_timeout: 500,
};

const read: ProbeRequest = { method: 'GET', path: '/read' };
const sleep: ProbeRequest = { method: 'GET', path: '/sleep' };
const write: ProbeRequest = { method: 'POST', path: '/write' };

describe('resilience probes against a real http-pg', () => {
  let target: StartedTarget;

  beforeAll(async () => {
    target = await startProbeTarget(base);
  });
  afterAll(async () => {
    await target?.stop();
  });

  /** Runs one probe through runProbes on the target set to `variant`, and prints what it found. */
  async function probe(id: ProbeId, request: ProbeRequest, variant: KnobValues = {}): Promise<ProbeResult> {
    const knobs = { ...base, ...variant };
    await target.apply(knobs);
    const context = probeContext({
      target,
      knobs,
      request,
      signal: new AbortController().signal,
      clock: { now: () => performance.now() },
      peakConcurrency: 256,
    });
    const [result] = await runProbes(context, { only: [id], probeDeadlineMs: 40_000 });
    if (result === undefined) throw new Error(`probe ${id} gave no result`);
    console.log(`${id} ${JSON.stringify(variant)}: ${result.status}: ${result.evidence}`);
    return result;
  }

  it('leaks: passes on the plain app, fails on one that keeps its client on an error path', async () => {
    const plain = await probe('leaks', sleep);
    expect(plain.status, plain.evidence).toBe('pass');
    expect(plain.figures.connectionsCut).toBeGreaterThan(0);
    expect(plain.figures.failedRequests).toBeGreaterThan(0);
    expect(plain.figures.endActive).toBe(0);

    const leaky = await probe('leaks', sleep, { leakOnError: true });
    expect(leaky.status, leaky.evidence).toBe('fail');
    expect(leaky.figures.endActive).toBeGreaterThan(0);
  });

  it('circuit breaker: passes when it opens, fails when its threshold never trips, not checked without one', async () => {
    const opens = await probe('circuit-breaker', read, { circuitBreaker: true });
    expect(opens.status, opens.evidence).toBe('pass');
    expect(opens.figures.openGaugeMax).toBe(1);
    expect(opens.figures.lateMedianMs).toBeLessThanOrEqual(100);

    const never = await probe('circuit-breaker', read, { circuitBreaker: true, breakerThreshold: 1_000_000 });
    expect(never.status, never.evidence).toBe('fail');
    expect(never.figures.openGaugeMax).toBe(0);

    const none = await probe('circuit-breaker', read);
    expect(none.status).toBe('not-checked');
    expect(none.evidence).toContain('declares no circuit breaker');
  });

  it('slow dependency: passes with connect and read timeouts, fails without a read timeout', async () => {
    const bounded = await probe('slow-dependency', read);
    expect(bounded.status, bounded.evidence).toBe('pass');
    expect(bounded.figures.failedInFault).toBeGreaterThan(0);
    expect(bounded.figures.slowestMs).toBeLessThanOrEqual(2_050);

    const unbounded = await probe('slow-dependency', read, { statement_timeout: 0 });
    expect(unbounded.status, unbounded.evidence).toBe('fail');
    expect(unbounded.figures.slowestMs).toBeGreaterThan(0.9 * (unbounded.figures.faultMs ?? 0));
  });

  it('dead connection: the app serves again after a database restart, or crashes without client error handling', async () => {
    const recovers = await probe('dead-connection', write);
    expect(recovers.status, recovers.evidence).toBe('pass');
    expect(recovers.figures).toMatchObject({ appExited: 0, deadConnectionsHandedOut: 0 });
    expect(recovers.figures.failedWhileDown).toBeGreaterThan(0);

    // The crash needs a client that is checked out between two statements of /write when the database
    // goes: likely under load, not certain, so up to three restarts (one crash is the property).
    let crashes = await probe('dead-connection', write, { handleClientErrors: false });
    for (let attempt = 2; attempt <= 3 && crashes.status !== 'fail'; attempt++) {
      crashes = await probe('dead-connection', write, { handleClientErrors: false });
    }
    expect(crashes.status, crashes.evidence).toBe('fail');
    expect(crashes.figures.appExited).toBe(1);
    // runProbes brought the crashed app back.
    expect(target.entry().exitInfo()).toBeUndefined();
  });

  it('draining: passes with graceful shutdown, fails without it and says what graceful shutdown would do', async () => {
    const graceful = await probe('draining', sleep, { gracefulShutdown: true, sleepMs: 200 });
    expect(graceful.status, graceful.evidence).toBe('pass');
    expect(graceful.figures.inFlight).toBeGreaterThan(0);

    const abrupt = await probe('draining', sleep, { gracefulShutdown: false, sleepMs: 200 });
    expect(abrupt.status, abrupt.evidence).toBe('fail');
    expect(abrupt.figures.failedInFlight).toBeGreaterThan(0);
    expect(abrupt.figures.gracefulFailedInFlight).toBe(0);
    expect(target.entry().exitInfo()).toBeUndefined();
  });

  it('FD headroom: passes with 4096 open files for 256 clients, fails with 256', async () => {
    const roomy = await probe('fd-headroom', sleep);
    expect(roomy.status, roomy.evidence).toBe('pass');
    expect(roomy.figures.limit).toBe(4_096);

    const tight = await probe('fd-headroom', sleep, { openFiles: 256 });
    expect(tight.status, tight.evidence).toBe('fail');
    expect(tight.figures.limit).toBe(256);
    expect(tight.figures.runsOutAtConcurrency).toBeLessThan(256);
  });
});
