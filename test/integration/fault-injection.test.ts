import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../harness/cli/main.ts';
import { ExitCode } from '../../harness/errors.ts';
import type { TrialResult } from '../../harness/results/trial.ts';
import { parseTrialLog } from '../../harness/results/trial-log.ts';
import { findOrphanDirs, findOrphanProcesses } from '../../harness/runtime/orphans.ts';
import { fakeHost } from '../helpers/fake-host.ts';
import { spawnPooltune } from '../helpers/interrupt.ts';

// Kills pooltune at random moments, by SIGINT and by SIGKILL, 20 times in one tune. After each kill
// `pooltune clean` and `pooltune tune --resume` carry on; at the end the run completes. The figures:
// kills survived, trials lost (goal 0), orphans found after clean (goal 0).

const kills = 20;
/** A seeded generator, so a failure can be replayed with the same kill moments. */
function lcg(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1_664_525) + 1_013_904_223) >>> 0;
    return state / 2 ** 32;
  };
}

let dir = '';
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'pooltune-faults-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

interface Finished {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs `pooltune <args>` as a real process. With `kill`, sends `signal` `afterMs` after it starts its
 * second trial (or, with `early`, after it starts at all), unless it ended by then.
 */
async function pooltune(
  args: readonly string[],
  kill?: { signal: NodeJS.Signals; afterMs: number; early: boolean },
): Promise<Finished> {
  const cli = spawnPooltune(args);
  let timer: NodeJS.Timeout | undefined;
  const arm = () => {
    if (kill !== undefined && timer === undefined)
      timer = setTimeout(() => cli.child.kill(kill.signal), kill.afterMs);
  };
  if (kill?.early === true) arm();
  // The second trial started in this attempt (replayed ones print only their end): one new trial at
  // least is on disk before the kill.
  cli.onStderr((stderr) => {
    if ((stderr.match(/\] t\d{3} .*\.\.\.$/gm)?.length ?? 0) >= 2) arm();
  });
  const code = await cli.exited;
  clearTimeout(timer);
  return { code, stdout: cli.stdout(), stderr: cli.stderr() };
}

async function finishedTrials(runDir: string): Promise<TrialResult[]> {
  const text = await readFile(path.join(runDir, 'trials.jsonl'), 'utf8').catch(() => '');
  return parseTrialLog(text).trials.filter((trial) => trial.status !== 'aborted');
}

/** A tune of a plain-Node service with a pool of slots: quick to start, short trials, one repetition. */
function semaphoreConfig(outDir: string) {
  return {
    target: {
      name: 'semaphore',
      entry: 'api',
      poolKnob: 'size',
      services: {
        api: {
          command: '{{node}}',
          args: [path.resolve('test/fixtures/targets/semaphore-server.mjs')],
          env: { PORT: '{{port}}', POOL_SIZE: '{{knobs.size}}' },
          readiness: { log: 'semaphore listening' },
        },
      },
      knobs: { size: { type: 'int', min: 1, max: 64, scale: 'log', default: 4 } },
    },
    runtime: 'process',
    quick: true,
    // Rates the generator keeps up with on a busy 2-core machine: invalid trials would only add noise.
    tuning: { steadyRate: 100, peakRate: 300 },
    repetitions: 2,
    outDir,
  };
}

describe('fault injection: 20 kills by SIGINT and SIGKILL at random moments', () => {
  it('clean plus resume completes the run, losing no finished trial and leaving nothing behind', async () => {
    const seed = 20_261_124;
    const random = lcg(seed);
    const out = path.join(dir, 'out');
    const config = path.join(dir, 'pooltune.config.json');
    await writeFile(config, JSON.stringify(semaphoreConfig(out)));
    const start = ['tune', '--config', config];
    const seen = new Map<string, string>();
    let lost = 0;
    let orphans = 0;
    let cleaned = 0;
    let delivered = 0;
    let runDir: string | undefined;
    for (let kill = 1; kill <= kills; kill++) {
      const signal: NodeJS.Signals = kill % 2 === 0 ? 'SIGKILL' : 'SIGINT';
      // Every fourth kill lands during start-up or replay; the others while trials run.
      const early = kill % 4 === 1;
      const afterMs = Math.floor(random() * (early ? 2_000 : 1_000));
      const args = runDir === undefined ? start : ['tune', '--resume', runDir];
      const ended = await pooltune(args, { signal, afterMs, early });
      const finished = ended.code === ExitCode.ok || ended.code === ExitCode.sloFailed;
      expect([ExitCode.interrupted, null], ended.stderr).toContain(finished ? null : ended.code);
      if (!finished) delivered += 1;
      runDir ??= (await readdir(out).catch(() => [] as string[])).map((name) => path.join(out, name))[0];
      // Where a kill came before the run directory was complete, the next attempt starts afresh.
      if (runDir !== undefined && !(await stat(path.join(runDir, 'origin.json')).catch(() => undefined))) {
        await rm(runDir, { recursive: true, force: true });
        runDir = undefined;
      }
      const clean = fakeHost(['clean', '--json'], { cwd: dir });
      expect(await main(clean), clean.err()).toBe(ExitCode.ok);
      const removed = JSON.parse(clean.out()) as { processes: string[]; dirs: string[]; removed: string[] };
      cleaned += removed.processes.length + removed.dirs.length + removed.removed.length;
      orphans += (await findOrphanProcesses()).length + (await findOrphanDirs(os.tmpdir())).length;
      if (runDir === undefined) continue;
      // Every trial that had finished before any kill is still there, unchanged.
      const trials = await finishedTrials(runDir);
      const now = new Map(trials.map((trial) => [trial.id, JSON.stringify(trial)]));
      for (const [id, line] of seen) if (now.get(id) !== line) lost += 1;
      for (const [id, line] of now) seen.set(id, line);
    }
    expect(runDir).toBeDefined();
    const final = await pooltune(['tune', '--resume', runDir ?? '', '--json']);
    expect([ExitCode.ok, ExitCode.sloFailed], final.stderr).toContain(final.code);
    const outcome = JSON.parse(final.stdout) as { interrupted: boolean; statuses: { aborted: number } };
    expect(outcome.interrupted).toBe(false);
    expect(outcome.statuses.aborted).toBe(0);
    const trials = await finishedTrials(runDir ?? '');
    const byId = new Map(trials.map((trial) => [trial.id, JSON.stringify(trial)]));
    for (const [id, line] of seen) if (byId.get(id) !== line) lost += 1;
    console.log(
      `fault injection (seed ${seed}): ${delivered} of ${kills} kills landed before the run ended and were survived, ` +
        `${seen.size} trials finished between kills, ` +
        `${lost} lost, ${orphans} orphans after clean (clean removed ${cleaned} leftovers of SIGKILLed runs)`,
    );
    expect(delivered).toBeGreaterThanOrEqual(15);
    expect(seen.size).toBeGreaterThanOrEqual(10);
    expect(lost).toBe(0);
    expect(orphans).toBe(0);
    expect(await readdir(runDir ?? '')).toContain('report.html');
  }, 420_000);
});
