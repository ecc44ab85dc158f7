import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { median } from 'simple-statistics';
import { chooseSize, sizeInterval } from '../../harness/analysis/pool-size.ts';
import { packageRoot } from '../../harness/cli/options.ts';
import { validateConfig } from '../../harness/config/load.ts';
import { resolvePlan } from '../../harness/config/plan.ts';
import { createDriver } from '../../harness/drivers/index.ts';
import { TrialLog } from '../../harness/results/trial-log.ts';
import { startTarget } from '../../harness/runtime/process-runtime.ts';
import { growPool } from '../../harness/tuning/grow-pool.ts';
import { silentProgress } from '../../harness/tuning/progress.ts';
import { Session } from '../../harness/tuning/session.ts';
import { saturateScenario } from '../../harness/tuning/step-scenarios.ts';
import { scenarios } from '../../scenarios/index.ts';
import { seededRandom } from '../../scenarios/schedule.ts';
import { bundledTargets } from '../../targets/index.ts';

/** The exhaustive grid the adaptive search is compared with: every size from 1 to this. */
const gridTo = 32;

/**
 * Step 4's adaptive search against an exhaustive grid over the same pool range on http-pg, in the
 * same run and with the same trial length: the sizes each recommends and the trials each used
 * (goal: the same size within one grid step, with at most 40% of the grid's trials). Asserts nothing.
 */
export async function benchSearch(log: (line: string) => void): Promise<Record<string, number>> {
  const plan = resolvePlan(
    // The default tune's trial length and repetitions: what a user's recommendation comes from.
    validateConfig({ sweep: { upTo: gridTo } }, 'bench'),
    { targets: bundledTargets, scenarios },
  );
  const pool = plan.pools[0];
  if (pool === undefined) throw new Error('http-pg has no pool');
  const env = Object.fromEntries(
    Object.entries(process.env).filter((e): e is [string, string] => e[1] !== undefined),
  );
  const dir = await mkdtemp(path.join(os.tmpdir(), 'pooltune-bench-'));
  try {
    await using target = await startTarget(plan.target, plan.knobs, {
      env,
      tmpDir: os.tmpdir(),
      node: process.execPath,
      packageRoot,
      baseDir: packageRoot,
    });
    await using trialLog = await TrialLog.open(path.join(dir, 'trials.jsonl'));
    const byModel = { closed: createDriver('autocannon', env), open: createDriver('arrival-rate', env) };
    const session = new Session({
      plan,
      target,
      log: trialLog,
      drivers: (scenario) => byModel[scenario.model],
      progress: silentProgress,
      signal: new AbortController().signal,
      now: () => new Date(),
      repetitions: plan.config.repetitions,
    });

    const adaptiveStart = performance.now();
    const adaptive = await growPool(session, pool, plan.knobs);
    const adaptiveSeconds = (performance.now() - adaptiveStart) / 1000;
    const adaptiveTrials = session.trials.length;
    log(
      `adaptive: ${adaptive.points.map((p) => p.n).join(', ')} -> ${pool.knobs.size}=${adaptive.recommended} (${adaptive.why})`,
    );
    log(`  ${adaptiveTrials} trials, ${adaptiveSeconds.toFixed(0)} s`);

    const gridStart = performance.now();
    const grid = [];
    for (let n = 1; n <= gridTo; n++) {
      const point = await session.point({
        step: 'grid',
        knobs: { ...plan.knobs, [pool.knobs.size]: n },
        scenario: saturateScenario(plan),
      });
      grid.push({ n, throughputs: point.completed.map((trial) => trial.client.throughput) });
    }
    const gridSeconds = (performance.now() - gridStart) / 1000;
    const gridTrials = session.trials.length - adaptiveTrials;
    // The grid is judged by the same rule as the adaptive search (chooseSize), on its 32 sizes.
    const gridChoice = chooseSize(grid, plan.config.tuning.minGain)?.n ?? Number.NaN;
    const gridInterval = sizeInterval(grid, plan.config.tuning.minGain, seededRandom(1));
    log(
      `grid 1..${gridTo}: ${pool.knobs.size}=${gridChoice}, ${gridTrials} trials, ${gridSeconds.toFixed(0)} s`,
    );
    log(
      `  95% intervals: adaptive ${adaptive.interval?.low}–${adaptive.interval?.high}, grid ${gridInterval?.low}–${gridInterval?.high}`,
    );
    log(`  grid medians: ${grid.map((g) => `${g.n}:${Math.round(median(g.throughputs))}`).join(' ')}`);
    const difference = Math.abs((adaptive.recommended ?? Number.NaN) - gridChoice);
    log(
      `  agreement: |adaptive - grid| = ${difference} (goal <= 1 grid step); trials adaptive/grid = ${(adaptiveTrials / gridTrials).toFixed(2)} (goal <= 0.40)`,
    );
    return {
      searchAdaptiveRecommended: adaptive.recommended ?? Number.NaN,
      searchGridRecommended: gridChoice,
      searchDifference: difference,
      searchAdaptiveTrials: adaptiveTrials,
      searchGridTrials: gridTrials,
      searchTrialRatio: adaptiveTrials / gridTrials,
      searchAdaptiveSeconds: adaptiveSeconds,
      searchGridSeconds: gridSeconds,
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
