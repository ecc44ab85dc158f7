import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import type { ServerSample } from '../../harness/collect/collector.ts';
import { targetSchema } from '../../harness/config/schema.ts';
import { declaredBreaker, fastErrorMs, judgeCircuitBreaker } from '../../harness/probes/circuit-breaker.ts';
import {
  judgeDeadConnection,
  recoverWithinMs,
  servingAgainAt,
  servingStreak,
} from '../../harness/probes/dead-connection.ts';
import { drainCounts, inFlightMarginMs, judgeDraining } from '../../harness/probes/draining.ts';
import { fitFds, judgeFdHeadroom } from '../../harness/probes/fd-headroom.ts';
import { runProbes } from '../../harness/probes/index.ts';
import { judgeLeaks, leakSettleMs } from '../../harness/probes/leaks.ts';
import type { RequestRecord } from '../../harness/probes/load.ts';
import {
  type Probe,
  type ProbeContext,
  type ProbeResult,
  poolSettings,
  probeResult,
} from '../../harness/probes/probe.ts';
import {
  allowanceMs,
  faultLengthMs,
  judgeSlowDependency,
  timeoutBoundMs,
} from '../../harness/probes/slow-dependency.ts';
import { buildChecklist } from '../../harness/report/checklist.ts';
import { PROBES_FILE, writeProbeResults } from '../../harness/results/probe-results.ts';
import { readRun } from '../../harness/results/read-run.ts';
import type { StartedTarget } from '../../harness/runtime/service.ts';
import { httpPg } from '../../targets/http-pg/target.ts';
import { probeTarget } from '../helpers/probe-target.ts';

/** A request sent at `startMs` that took `durationMs` and answered `status` (0: no response). */
const req = (startMs: number, durationMs: number, status = 200): RequestRecord => ({
  startMs,
  endMs: startMs + durationMs,
  status,
});

/** A collector sample: pool total/idle, established sockets, CLOSE_WAIT. */
const sample = (
  atMs: number,
  total: number,
  idle: number,
  established: number,
  closeWait = 0,
): ServerSample => ({
  atMs,
  pool: { total, idle, waiting: 0 },
  sockets: { established, timeWait: 0, closeWait },
});

describe('leaks', () => {
  const idle = 1_000;
  // Baseline 1 idle connection; load to 4 (ended at 2400 ms); then idle connections close.
  const base = [sample(-400, 1, 1, 2), sample(-200, 1, 1, 2), sample(0, 2, 0, 3), sample(1_200, 4, 1, 5)];
  const watched = idle + 2 * leakSettleMs;
  const figures = (after: ServerSample[]) => ({
    samples: [...base, ...after],
    loadEndedAtMs: 2_400,
    watchedMs: watched,
    idleTimeoutMs: idle,
    requests: 500,
    failedRequests: 8,
    connectionsCut: 6,
  });

  it('passes when nothing stays checked out and the pool is back within the idle timeout', () => {
    const verdict = judgeLeaks(
      figures([
        sample(2_400, 4, 4, 5),
        sample(3_400, 4, 4, 5),
        sample(3_600, 1, 1, 2),
        sample(5_000, 0, 0, 1),
      ]),
    );
    expect(verdict.status).toBe('pass');
    expect(verdict.figures).toMatchObject({
      activeBackMs: 0,
      totalBackMs: 1_200,
      socketsBackMs: 1_200,
      peakTotal: 4,
      baselineTotal: 1,
      endTotal: 0,
      closeWaitMax: 0,
    });
    expect(verdict.evidence).toContain('500 requests (8 failed, 6 database connections cut');
    expect(verdict.evidence).toContain('CLOSE_WAIT stayed 0');
  });

  it('fails when clients stay checked out after the load', () => {
    const verdict = judgeLeaks(figures([sample(2_400, 4, 0, 5), sample(5_000, 4, 0, 1)]));
    expect(verdict.status).toBe('fail');
    expect(verdict.evidence).toContain('4 pooled clients were still checked out');
    expect(verdict.figures.endActive).toBe(4);
  });

  it('takes the idle timeout plus the settling time, and not a sample more', () => {
    const backAt = (ms: number) => judgeLeaks(figures([sample(2_400, 4, 4, 5), sample(2_400 + ms, 1, 1, 2)]));
    expect(backAt(idle + leakSettleMs).status).toBe('pass');
    const late = backAt(idle + leakSettleMs + 1);
    expect(late.status).toBe('fail');
    expect(late.evidence).toContain('the pool still held');
  });

  it('warns on CLOSE_WAIT in passing and fails when it persists', () => {
    const passing = [sample(2_400, 0, 0, 1, 1), sample(2_600, 0, 0, 1, 1), sample(2_800, 0, 0, 1)];
    expect(judgeLeaks(figures(passing)).status).toBe('warn');
    const persisting = [...passing.slice(0, 2), sample(2_800, 0, 0, 1, 1), sample(3_000, 0, 0, 1)];
    const verdict = judgeLeaks(figures(persisting));
    expect(verdict.status).toBe('fail');
    expect(verdict.evidence).toContain('CLOSE_WAIT for 3 samples in a row');
  });

  it('does not wait for idle connections the probe could not watch that long, and needs some figures', () => {
    const verdict = judgeLeaks({ ...figures([sample(2_400, 4, 4, 5)]), idleTimeoutMs: 600_000 });
    expect(verdict.status).toBe('pass');
    expect(verdict.evidence).toContain('idle connections were not awaited (idle timeout 600.0 s');
    expect(judgeLeaks({ ...figures([]), samples: [{ atMs: -100 }, { atMs: 3_000 }] }).status).toBe(
      'not-checked',
    );
  });
});

describe('slow dependency', () => {
  const settings = { size: 4, connectTimeoutMs: 1_000, readTimeoutMs: 500 };

  it('bounds a request by connect + read, with room, and sizes the fault to it', () => {
    expect(timeoutBoundMs(settings)).toBe(1_500);
    expect(timeoutBoundMs({ ...settings, readTimeoutMs: 0 })).toBeUndefined();
    expect(timeoutBoundMs({ connectTimeoutMs: 1_000 })).toBeUndefined();
    expect(allowanceMs(1_500)).toBe(2_050);
    expect(faultLengthMs(undefined)).toBe(3_000);
    expect(faultLengthMs(1_500)).toBe(3_050);
    expect(faultLengthMs(100)).toBe(3_000);
    expect(faultLengthMs(35_000)).toBe(10_000);
  });

  const judge = (records: RequestRecord[], extra: Partial<Parameters<typeof judgeSlowDependency>[0]> = {}) =>
    judgeSlowDependency({
      records,
      faultFromMs: 1_000,
      faultToMs: 4_050,
      tables: 2,
      settings,
      waitingMax: 12,
      ...extra,
    });

  it('passes when every request the fault caught ended within the allowance (the boundary included)', () => {
    const verdict = judge([req(990, 2_050, 504), req(1_500, 1_000, 503), req(2_000, 500, 504), req(500, 10)]);
    expect(verdict.status).toBe('pass');
    // The request that ended before the fault is not counted; the one waiting when it began is.
    expect(verdict.figures).toMatchObject({
      requestsInFault: 3,
      failedInFault: 3,
      slowestMs: 2_050,
      timeToFailMedianMs: 1_000,
      boundMs: 1_500,
      waitingMax: 12,
    });
    expect(verdict.evidence).toContain('inside the 1.5 s (connect 1.0 s + read 500 ms)');
    expect(judge([req(990, 2_051, 504)]).status).toBe('fail');
  });

  it('fails when no timeout bounds requests and they wait out the fault', () => {
    const noRead = { ...settings, readTimeoutMs: 0 };
    const verdict = judge([req(1_000, 2_745), req(1_100, 1_000, 503)], { settings: noRead });
    expect(verdict.status).toBe('fail');
    expect(verdict.evidence).toContain('no read timeout bounds a request');
    expect(judge([req(1_000, 2_744), req(1_100, 1_000, 503)], { settings: noRead }).status).toBe('pass');
  });

  it('warns when the timeouts allow more than the fault lasted and requests waited it out', () => {
    const verdict = judge([req(1_000, 3_000)], {
      settings: { connectTimeoutMs: 5_000, readTimeoutMs: 30_000 },
    });
    expect(verdict.status).toBe('warn');
  });

  it('is not checked when the fault did not reach the requests', () => {
    expect(judge([req(1_000, 20), req(2_000, 99)]).status).toBe('not-checked');
    expect(judge([req(1_000, 2_000, 504)], { tables: 0 }).status).toBe('not-checked');
  });
});

describe('circuit breaker', () => {
  const target = targetSchema.parse(probeTarget);
  const knobs = { circuitBreaker: true };

  it('finds a breaker declared by a knob, or by an env var of the entry service', () => {
    expect(declaredBreaker(target, knobs)).toBe('knob circuitBreaker = true');
    expect(declaredBreaker(target, { circuitBreaker: false })).toBeUndefined();
    expect(declaredBreaker(targetSchema.parse(httpPg), {})).toBeUndefined();
    const app = target.services.api;
    if (app?.kind !== 'process') throw new Error('api is a process');
    const { circuitBreaker: _, ...otherKnobs } = target.knobs;
    const byEnv = (value: string) => ({
      ...target,
      knobs: otherKnobs,
      services: { ...target.services, api: { ...app, env: { ...app.env, CIRCUIT_BREAKER: value } } },
    });
    expect(declaredBreaker(byEnv('1'), {})).toBe('env CIRCUIT_BREAKER = 1');
    expect(declaredBreaker(byEnv('0'), {})).toBeUndefined();
    expect(declaredBreaker(byEnv('{{knobs.cb}}'), { cb: 'on' })).toBe('env CIRCUIT_BREAKER = on');
  });

  const judge = (late: RequestRecord[]) =>
    judgeCircuitBreaker({
      declared: 'knob circuitBreaker = true',
      records: [req(0, 1_000, 504), req(10, 1_000, 504), req(1_020, 2, 503), ...late],
      faultFromMs: 0,
      faultToMs: 3_000,
      tables: 2,
      openGaugeMax: 1,
    });

  it('passes when errors of the second half of the fault come back fast (the boundary included)', () => {
    const verdict = judge([req(1_500, 3, 503), req(2_000, fastErrorMs, 503), req(2_500, 4, 503)]);
    expect(verdict.status).toBe('pass');
    expect(verdict.figures).toMatchObject({
      requestsLate: 3,
      failedLate: 3,
      lateMedianMs: 4,
      openedAfterMs: 1_020,
    });
    expect(verdict.evidence).toContain('opened 1.0 s into the failure');
  });

  it('fails when they still wait for the dependency', () => {
    const verdict = judge([req(1_500, 1_000, 504), req(1_600, fastErrorMs + 1, 504)]);
    expect(verdict.status).toBe('fail');
    expect(verdict.evidence).toContain('did not open');
  });

  it('is not checked when nothing failed in the second half', () => {
    expect(judge([req(1_500, 5), req(2_000, 5)]).status).toBe('not-checked');
  });
});

describe('dead connection', () => {
  const streak = (from: number, count: number, status = 200) =>
    Array.from({ length: count }, (_, i) => req(from + i * 10, 5, status));
  const figures = (records: RequestRecord[], appExit?: string) => ({
    records,
    downAtMs: 1_000,
    backAtMs: 1_200,
    appExit,
  });

  it('serves again at the first of a run of successes', () => {
    const records = [
      ...streak(1_200, 3, 500),
      ...streak(1_230, servingStreak - 1),
      req(1_400, 5, 500),
      ...streak(1_500, servingStreak),
    ];
    expect(servingAgainAt(records, 1_200)?.startMs).toBe(1_500);
  });

  it('passes when it serves again without failing after, and counts the outage', () => {
    const records = [
      req(990, 20, 500),
      ...streak(1_000, 5, 500),
      ...streak(1_200, 2, 500),
      ...streak(1_300, 20),
    ];
    const verdict = judgeDeadConnection(figures(records));
    expect(verdict.status).toBe('pass');
    expect(verdict.figures).toMatchObject({
      databaseDownMs: 200,
      failedWhileDown: 6,
      failedWhileRecovering: 2,
      deadConnectionsHandedOut: 0,
      servedAgainAfterMs: 105,
      appExited: 0,
    });
  });

  it('warns when dead connections are handed out once it serves again', () => {
    const records = [...streak(1_300, servingStreak), req(1_450, 2, 500), ...streak(1_500, 5)];
    const verdict = judgeDeadConnection(figures(records));
    expect(verdict.status).toBe('warn');
    expect(verdict.figures.deadConnectionsHandedOut).toBe(1);
  });

  it('fails when the app exits or does not serve again in time (the boundary included)', () => {
    expect(judgeDeadConnection(figures(streak(1_300, 20), 'code 1')).status).toBe('fail');
    expect(judgeDeadConnection(figures(streak(1_300, 3))).status).toBe('fail');
    const at = (ms: number) => judgeDeadConnection(figures(streak(1_200 + ms - 5, servingStreak))).status;
    expect(at(recoverWithinMs)).toBe('pass');
    expect(at(recoverWithinMs + 1)).toBe('fail');
  });
});

describe('draining', () => {
  const signalAtMs = 1_000;
  const measured = (records: RequestRecord[]) => ({ records, signalAtMs, exitedAtMs: 1_040, exit: 'code 0' });

  it('counts requests sent before SIGTERM (less the margin) and still running at it', () => {
    const records = [
      req(800, 100), // ended before
      req(900, 200), // in flight, answered
      req(signalAtMs - inFlightMarginMs - 1, 50, 0), // in flight, dropped
      req(signalAtMs - inFlightMarginMs, 50, 0), // too close to SIGTERM to count
      req(1_010, 1, 0), // after: refused
    ];
    expect(drainCounts(measured(records))).toEqual({
      inFlight: 2,
      failedInFlight: 1,
      failedAfter: 1,
      exitMs: 40,
    });
  });

  it('passes when every in-flight request is answered, fails otherwise, and reports the comparison', () => {
    expect(judgeDraining({ measured: measured([req(900, 200), req(950, 200)]) }).status).toBe('pass');
    const verdict = judgeDraining({
      measured: measured([req(900, 200, 0), req(950, 200)]),
      compared: { knob: 'gracefulShutdown', measured: measured([req(900, 200), req(950, 200)]) },
    });
    expect(verdict.status).toBe('fail');
    expect(verdict.evidence).toContain('1 failed (dropped, not drained)');
    expect(verdict.evidence).toContain('With gracefulShutdown on: 0 of 2 in-flight requests failed.');
    expect(verdict.figures).toMatchObject({ gracefulInFlight: 2, gracefulFailedInFlight: 0 });
    expect(judgeDraining({ measured: measured([req(1_010, 1, 0)]) }).status).toBe('not-checked');
  });
});

describe('FD headroom', () => {
  const point = (concurrency: number, fds: number | undefined) => ({
    concurrency,
    fds,
    requests: 100,
    failed: 0,
  });
  const points = [point(8, 38), point(32, 62)];

  it('fits a line through two loads', () => {
    expect(fitFds(points)).toEqual({ slope: 1, intercept: 30 });
    expect(fitFds([point(8, 38)])).toBeUndefined();
  });

  it('judges the FDs at peak against the limit: below half passes, from half warns, from 80% fails', () => {
    // At a peak of 98 clients: 30 + 98 = 128 FDs.
    const at = (limit: number) => judgeFdHeadroom({ limit, points, peakConcurrency: 98 });
    expect(at(257).status).toBe('pass');
    expect(at(256).status).toBe('warn');
    expect(at(161).status).toBe('warn');
    expect(at(160).status).toBe('fail');
    expect(at(160).figures).toMatchObject({ fdsAtPeak: 128, runsOutAtConcurrency: 130, share: 0.8 });
    expect(at(160).evidence).toContain('they would run out near 130 concurrent clients');
  });

  it('is not checked without a limit or FD figures; flat FDs never run out', () => {
    expect(judgeFdHeadroom({ limit: undefined, points, peakConcurrency: 98 }).status).toBe('not-checked');
    expect(
      judgeFdHeadroom({ limit: 100, points: [point(8, undefined), point(32, 40)], peakConcurrency: 98 })
        .status,
    ).toBe('not-checked');
    const flat = judgeFdHeadroom({
      limit: 1_000,
      points: [point(8, 40), point(32, 40)],
      peakConcurrency: 98,
    });
    expect(flat.figures.runsOutAtConcurrency).toBeUndefined();
    expect(flat.status).toBe('pass');
  });
});

describe('probe plumbing', () => {
  it("reads the entry pool's size and timeouts in ms, by each knob's unit", () => {
    const target = targetSchema.parse(httpPg);
    expect(poolSettings(target, { max: 4, connectionTimeoutMillis: 1_000, statement_timeout: 0 })).toEqual({
      size: 4,
      idleTimeoutMs: 10_000,
      connectTimeoutMs: 1_000,
      readTimeoutMs: 0,
    });
    const idleKnob = target.knobs.idleTimeoutMillis;
    if (idleKnob === undefined) throw new Error('http-pg has an idle timeout knob');
    const inSeconds = {
      ...target,
      knobs: { ...target.knobs, idleTimeoutMillis: { ...idleKnob, unit: 's' } },
    };
    expect(poolSettings(inSeconds, { idleTimeoutMillis: 3 }).idleTimeoutMs).toBe(3_000);
  });

  it('keeps only finite figures, rounded', () => {
    const result = probeResult(
      { id: 'leaks', title: 'Leaks', checklistItem: 'leaks-prevented' },
      {
        status: 'pass',
        evidence: 'fine',
        figures: { a: 1.23456, b: undefined, c: Number.POSITIVE_INFINITY },
      },
    );
    expect(result.figures).toEqual({ a: 1.235 });
  });

  const fakeTarget = (applied: string[]): StartedTarget => {
    const definition = targetSchema.parse(httpPg);
    return {
      definition,
      entry: () => {
        throw new Error('no services in this fake');
      },
      service: () => {
        throw new Error('no services in this fake');
      },
      apply: async () => {
        applied.push('apply');
        return [];
      },
      restart: async () => undefined,
      facts: () => ({}),
      stop: async () => undefined,
      [Symbol.asyncDispose]: async () => undefined,
    };
  };

  const probe = (id: Probe['id'], run: Probe['run']): Probe => ({ id, title: id, checklistItem: 'x', run });
  const context = (applied: string[], signal = new AbortController().signal): ProbeContext => ({
    target: fakeTarget(applied),
    knobs: {},
    request: { method: 'GET', path: '/read' },
    concurrency: 1,
    peakConcurrency: 4,
    load: () => {
      throw new Error('no load in this fake');
    },
    collect: () => {
      throw new Error('no collector in this fake');
    },
    signal,
    clock: { now: () => performance.now() },
  });

  it('runs probes in order, turns a throw or an overrun into not-checked, and restores the target after each', async () => {
    const applied: string[] = [];
    const ok = probe('leaks', async () => probeResult(ok, { status: 'pass', evidence: 'fine', figures: {} }));
    const throws = probe('circuit-breaker', async () => {
      throw new Error('admin connection refused');
    });
    const hangs = probe('slow-dependency', () => new Promise<ProbeResult>(() => undefined));
    const results = await runProbes(context(applied), {
      probes: [ok, throws, hangs],
      probeDeadlineMs: 200,
      cleanupGraceMs: 50,
    });
    expect(results.map((r) => [r.id, r.status])).toEqual([
      ['leaks', 'pass'],
      ['circuit-breaker', 'not-checked'],
      ['slow-dependency', 'not-checked'],
    ]);
    expect(results[1]?.evidence).toBe('the probe could not run: admin connection refused');
    expect(results[2]?.evidence).toContain('did not finish within its deadline');
    expect(applied).toHaveLength(3);
  });

  it('skips what the overall deadline or an interruption leaves no time for, and honours `only`', async () => {
    const slow = probe('leaks', async (c) => {
      await new Promise((resolve) => setTimeout(resolve, 150));
      return probeResult(slow, { status: 'pass', evidence: c.request.path, figures: {} });
    });
    const next = probe('draining', async () =>
      probeResult(next, { status: 'pass', evidence: '', figures: {} }),
    );
    const late = await runProbes(context([]), { probes: [slow, next], deadlineMs: 100, cleanupGraceMs: 500 });
    expect(late.map((r) => r.status)).toEqual(['pass', 'not-checked']);
    expect(late[1]?.evidence).toContain('overall deadline');
    const only = await runProbes(context([]), { probes: [slow, next], only: ['draining'] });
    expect(only.map((r) => r.id)).toEqual(['draining']);
    const stopped = await runProbes(context([], AbortSignal.abort()), { probes: [next] });
    expect(stopped[0]?.evidence).toBe('the run was interrupted before this probe');
  });
});

describe('probes.json in the report', () => {
  const fixture = fileURLToPath(new URL('../fixtures/runs/tune-http-pg/', import.meta.url));
  const dirs: string[] = [];
  afterAll(async () => {
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });
  const runDir = async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'pooltune-probes-test-'));
    dirs.push(dir);
    await cp(fixture, dir, { recursive: true });
    return dir;
  };
  const result = (id: string, checklistItem: string, status: ProbeResult['status'], evidence: string) => ({
    id,
    title: id,
    status,
    evidence,
    figures: { n: 1 },
    checklistItem,
  });

  it('turns the probes of a run directory into checklist items, and keeps the trial evidence without them', async () => {
    const dir = await runDir();
    const without = buildChecklist(await readRun(dir));
    await writeProbeResults(dir, [
      result('draining', 'draining', 'fail', 'SIGTERM dropped 8 of 8 requests in flight.'),
      result('circuit-breaker', 'circuit-breakers', 'not-checked', 'the target declares no circuit breaker'),
      result('fd-headroom', 'fd-limits', 'pass', 'open FDs at peak about 286 of 4096.'),
    ]);
    const run = await readRun(dir);
    expect(run.probes).toHaveLength(3);
    const withProbes = buildChecklist(run);
    const item = (list: typeof without, id: string) => list.find((entry) => entry.id === id);
    expect(item(withProbes, 'draining')).toMatchObject({
      status: 'fail',
      evidence: 'Probe draining: SIGTERM dropped 8 of 8 requests in flight.',
    });
    expect(item(withProbes, 'circuit-breakers')).toMatchObject({
      status: 'not-checked',
      evidence: 'Probe circuit-breaker: the target declares no circuit breaker',
    });
    // The trials' verdict on FD limits still counts, after the probe's evidence.
    const fd = item(withProbes, 'fd-limits');
    const fdBefore = item(without, 'fd-limits');
    expect(
      fd?.evidence.startsWith('Probe fd-headroom: open FDs at peak about 286 of 4096. From the trials: '),
    ).toBe(true);
    expect(fd?.status).toBe(fdBefore?.status);
    expect(item(withProbes, 'timeouts-set')).toEqual(item(without, 'timeouts-set'));
  });

  it('names the file and field of a probes.json that is not one', async () => {
    const dir = await runDir();
    await writeFile(path.join(dir, PROBES_FILE), JSON.stringify({ schemaVersion: 1, probes: [{ id: 'x' }] }));
    await expect(readRun(dir)).rejects.toThrow(`${path.join(dir, PROBES_FILE)} at probes.0.title`);
    await writeFile(path.join(dir, PROBES_FILE), '{');
    await expect(readRun(dir)).rejects.toThrow('is not valid JSON');
  });
});
