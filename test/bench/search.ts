import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { mean, median } from 'simple-statistics';
import { removeDrift } from '../../harness/analysis/drift.ts';
import { packageRoot } from '../../harness/cli/run-environment.ts';
import { validateConfig } from '../../harness/config/layers.ts';
import { resolvePlan } from '../../harness/config/plan.ts';
import { isMeasured } from '../../harness/results/trial.ts';
import type { MethodOutcome, SizeAnalysis } from '../../harness/tuning/outcome.ts';
import { shuffle } from '../../harness/tuning/search.ts';
import { stepIds } from '../../harness/tuning/step.ts';
import { saturateFor } from '../../harness/tuning/step-scenarios.ts';
import { scenarios } from '../../scenarios/index.ts';
import { seededRandom } from '../../scenarios/schedule.ts';
import { bundledTargets } from '../../targets/index.ts';
import { withBenchSession } from './bench-session.ts';

/** The exhaustive grid the tune is judged against: every size from 1 to this, three times, interleaved. */
const gridTo = 32;
const gridRepetitions = 3;
/** How long the CPU hog runs, and when it starts after its tune did (the hog stops by itself). */
const hogMs = 90_000;
const hogDelayMs = 30_000;

/** One default `pooltune tune` as a user runs it: its recommendation, interval, trials and wall time. */
interface TuneResult {
  readonly recommended: number | undefined;
  readonly interval: { readonly low: number; readonly high: number } | undefined;
  readonly plateau: { readonly low: number; readonly high: number } | undefined;
  readonly trials: number;
  readonly growTrials: number;
  readonly seconds: number;
  readonly code: number | null;
  readonly sizes: SizeAnalysis | undefined;
}

/** Runs `pooltune tune` on the bundled http-pg in a child process, with a CPU hog alongside if asked. */
async function runTune(out: string, hog: boolean, log: (line: string) => void): Promise<TuneResult> {
  const started = performance.now();
  const child = spawn(process.execPath, [path.join(packageRoot, 'bin/pooltune.js'), 'tune', '--out', out], {
    cwd: packageRoot,
    env: { ...process.env, CI: 'true' },
    stdio: 'ignore',
  });
  let hogChild: ReturnType<typeof spawn> | undefined;
  const hogTimer = hog
    ? setTimeout(() => {
        hogChild = startHog(hogMs, log);
      }, hogDelayMs)
    : undefined;
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  clearTimeout(hogTimer);
  hogChild?.kill('SIGKILL');
  const seconds = (performance.now() - started) / 1000;
  const runs = (await readdir(out)).sort();
  const dir = path.join(out, runs.at(-1) ?? '');
  const analysis = JSON.parse(await readFile(path.join(dir, 'analysis.json'), 'utf8')) as MethodOutcome;
  const trials = (await readFile(path.join(dir, 'trials.jsonl'), 'utf8')).trim().split('\n');
  const size = analysis.recommendations[0]?.knobs.find((k) => k.role === 'size');
  await rm(dir, { recursive: true, force: true });
  return {
    recommended: size?.value,
    interval: size?.interval,
    plateau: size?.plateau,
    trials: trials.length,
    growTrials: trials.filter((line) => line.includes(`"step":"${stepIds.grow}"`)).length,
    seconds,
    code,
    sizes: analysis.sizes?.[0],
  };
}

/** A bounded busy loop in a child process, pinned to core 1 when taskset is there; it stops by itself. */
function startHog(ms: number, log: (line: string) => void): ReturnType<typeof spawn> {
  const loop = `const end = Date.now() + ${ms}; while (Date.now() < end) {}`;
  const pinned = spawn('taskset', ['-c', '1', process.execPath, '-e', loop], { stdio: 'ignore' });
  pinned.once('error', () => log('  (taskset missing: the hog is not pinned)'));
  log(`  CPU hog started: ${ms / 1000} s busy loop on core 1`);
  return pinned;
}

/** The exhaustive grid on one started http-pg: every size, three times, in randomized blocks. */
async function runGrid(
  log: (line: string) => void,
): Promise<{ means: Map<number, number>; smoothed: Map<number, number>; drift: number; trials: number }> {
  const plan = resolvePlan(validateConfig({ sweep: { upTo: gridTo } }, 'bench'), {
    targets: bundledTargets,
    scenarios,
  });
  const pool = plan.pools[0];
  if (pool === undefined) throw new Error('http-pg has no pool');
  return withBenchSession(plan, gridRepetitions, async (session) => {
    const sizes = Array.from({ length: gridTo }, (_, i) => i + 1);
    const scenario = saturateFor(plan);
    for (let block = 1; block <= gridRepetitions; block++) {
      const order = shuffle(sizes, seededRandom(block));
      await session.block(
        order.map((n) => ({
          step: 'grid',
          knobs: { ...plan.knobs, [pool.knobs.size]: n },
          scenario,
          repetition: block,
        })),
      );
      log(`  grid block ${block} of ${gridRepetitions} done`);
    }
    const means = new Map<number, number>();
    const runs = sizes.map((n) => ({
      n,
      runs: session.trials.flatMap((t, at) =>
        isMeasured(t) && t.knobs[pool.knobs.size] === n
          ? [{ id: t.id, throughput: t.client.throughput, at }]
          : [],
      ),
    }));
    for (const size of runs) {
      if (size.runs.length > 0) means.set(size.n, mean(size.runs.map((r) => r.throughput)));
    }
    // A noise-robust reference: the same drift correction step 4 uses, then a running median over five
    // neighbouring sizes (the true curve is smooth in the size; the max of 32 noisy means is not).
    const corrected = removeDrift(runs.filter((size) => size.runs.length > 0));
    const level = new Map(corrected.sizes.map((size) => [size.n, mean(size.runs.map((r) => r.throughput))]));
    const smoothed = new Map<number, number>();
    for (const n of sizes) {
      const near = sizes.filter((m) => Math.abs(m - n) <= 2).flatMap((m) => level.get(m) ?? []);
      if (near.length > 0) smoothed.set(n, median(near));
    }
    return { means, smoothed, drift: corrected.correction?.largest ?? 0, trials: session.trials.length };
  });
}

const inside = (n: number | undefined, interval: TuneResult['interval']) =>
  n !== undefined && interval !== undefined && n >= interval.low && n <= interval.high;

/**
 * The recommendation against an exhaustive grid on the bundled http-pg, in one run (asserts nothing):
 * PF3 throughput at the recommended size / the grid's best; PF2 step 4's trials / the grid's; PF5 three
 * default tunes, each recommendation inside the others' intervals, each interval at most 50% of its
 * value wide; and a fourth tune with a CPU hog pinned to one core for part of it.
 */
export async function benchSearch(log: (line: string) => void): Promise<Record<string, number>> {
  const out = await mkdtemp(path.join(os.tmpdir(), 'pooltune-bench-search-'));
  try {
    const tunes: TuneResult[] = [];
    for (let i = 1; i <= 3; i++) {
      const result = await runTune(out, false, log);
      tunes.push(result);
      log(
        `tune ${i}: max=${result.recommended} (${result.interval?.low}–${result.interval?.high}), plateau ${result.plateau?.low}–${result.plateau?.high}, ${result.trials} trials (${result.growTrials} in step 4), ${result.seconds.toFixed(0)} s, exit ${result.code}`,
      );
      const noise = result.sizes?.noise;
      log(
        `  pooled noise CV ${noise === null || noise === undefined ? '?' : (noise.cv * 100).toFixed(1)}%, margin ±${((result.sizes?.margin ?? 0) * 100).toFixed(1)}%, validations ${result.sizes?.validations.map((v) => `${v.n}:${v.passed ? 'held' : 'full'}`).join(' ')}`,
      );
    }
    const hogged = await runTune(out, true, log);
    log(
      `tune with a CPU hog: max=${hogged.recommended} (${hogged.interval?.low}–${hogged.interval?.high}), ${hogged.seconds.toFixed(0)} s, exit ${hogged.code}`,
    );
    log(`grid 1..${gridTo} x ${gridRepetitions}, interleaved:`);
    const grid = await runGrid(log);
    const best = Math.max(...grid.means.values());
    const bestAt = [...grid.means].find(([, m]) => m === best)?.[0];
    log(`  grid means: ${[...grid.means].map(([n, m]) => `${n}:${Math.round(m)}`).join(' ')}`);
    log(`  grid best: ${Math.round(best)} req/s at max=${bestAt}`);
    const smoothBest = Math.max(...grid.smoothed.values());
    log(
      `  grid drift-corrected (largest correction ${(grid.drift * 100).toFixed(1)}%) and smoothed over 5 sizes: ${[...grid.smoothed].map(([n, m]) => `${n}:${Math.round(m)}`).join(' ')}; best ${Math.round(smoothBest)}`,
    );

    const pf3 = tunes.map((t) => (grid.means.get(t.recommended ?? -1) ?? Number.NaN) / best);
    const pf3Robust = tunes.map((t) => (grid.smoothed.get(t.recommended ?? -1) ?? Number.NaN) / smoothBest);
    const pf2 = mean(tunes.map((t) => t.growTrials)) / grid.trials;
    const pf2Whole = mean(tunes.map((t) => t.trials)) / grid.trials;
    const agreements = tunes.flatMap((a, i) =>
      tunes.filter((_, j) => j !== i).map((b) => inside(a.recommended, b.interval)),
    );
    const widths = tunes.map((t) =>
      t.interval === undefined || t.recommended === undefined
        ? Number.NaN
        : (t.interval.high - t.interval.low) / t.recommended,
    );
    const hogInside = tunes.map((t) => inside(hogged.recommended, t.interval));
    log(
      `PF3 throughput at the recommendation / grid best: ${pf3.map((r) => r.toFixed(3)).join(', ')} (goal >= 0.95); against the drift-corrected, smoothed grid: ${pf3Robust.map((r) => r.toFixed(3)).join(', ')}`,
    );
    log(
      `PF2 step-4 trials / grid trials: ${pf2.toFixed(2)} (goal <= 0.40); whole tune / grid: ${pf2Whole.toFixed(2)}`,
    );
    log(
      `PF5 recommendations inside the others' intervals: ${agreements.filter(Boolean).length} of ${agreements.length}; interval widths / value: ${widths.map((w) => w.toFixed(2)).join(', ')} (goal <= 0.50)`,
    );
    log(
      `noise injection: the hog run's ${hogged.recommended} inside the no-hog intervals: ${hogInside.map((b) => (b ? 'yes' : 'no')).join(', ')}`,
    );
    log(`default tune wall time: ${tunes.map((t) => t.seconds.toFixed(0)).join(', ')} s (goal <= 300)`);
    return {
      searchPf3Min: Math.min(...pf3),
      searchPf3RobustMin: Math.min(...pf3Robust),
      searchPf2GrowTrialRatio: pf2,
      searchPf2WholeTuneRatio: pf2Whole,
      searchPf5Agreements: agreements.filter(Boolean).length / agreements.length,
      searchPf5MaxWidth: Math.max(...widths),
      searchHogInside: hogInside.filter(Boolean).length / hogInside.length,
      searchTuneSecondsMax: Math.max(...tunes.map((t) => t.seconds)),
      searchGridTrials: grid.trials,
    };
  } finally {
    await rm(out, { recursive: true, force: true });
  }
}
