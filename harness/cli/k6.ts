import { createReadStream } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { createGunzip } from 'node:zlib';
import { defineCommand } from 'citty';
import { scenarios } from '../../scenarios/index.ts';
import { type Scenario, scaleScenario } from '../../scenarios/scenario.ts';
import { bundledTargets } from '../../targets/index.ts';
import { loadConfig } from '../config/load.ts';
import type { Plan } from '../config/plan.ts';
import { resolvePlan } from '../config/plan.ts';
import { defaultK6ManifestName, k6ManifestNameProblem, k6OperatorManifest } from '../drivers/k6-manifest.ts';
import { type K6RunnerLog, K6RunnerLogReader, runnerLogsResult } from '../drivers/k6-runner-logs.ts';
import { buildK6Script } from '../drivers/k6-script.ts';
import { ExitCode, usageError } from '../errors.ts';
import type { Host } from '../host/host.ts';
import { loopbackTarget } from '../loopback.ts';
import { writeRunOutputs } from '../report/write-report.ts';
import type { Manifest } from '../results/manifest.ts';
import { maskSecrets } from '../results/mask.ts';
import { createRunDir, makeRunId, writeManifest } from '../results/run-dir.ts';
import type { CompletedTrial } from '../results/trial.ts';
import { TrialLog } from '../results/trial-log.ts';
import type { CommandResult } from './command.ts';
import { checkFlags, configFlags, runArgs } from './options.ts';

/** The image runners use unless `--image` names another: the k6 release pooltune's scripts are checked against. */
export const defaultRunnerImage = 'grafana/k6:0.45.1';

/** The most runners a manifest asks for: far above one machine's `k6.instances`, still a sanity bound. */
const maxParallelism = 1_000;

const manifestArgs = {
  config: runArgs.config,
  target: runArgs.target,
  scenario: runArgs.scenario,
  seed: runArgs.seed,
  quick: runArgs.quick,
  url: {
    type: 'string',
    valueHint: 'http://api.shop.svc:8080',
    description:
      "the target's URL as the runners reach it (required); its host must be in allowHosts with allowRemote: true, unless loopback",
  },
  parallelism: {
    type: 'string',
    alias: 'p',
    description: 'k6 runners, each on an equal execution segment (default: k6.instances from the config)',
  },
  name: {
    type: 'string',
    description: 'the TestRun name (default pooltune-<scenario>); the ConfigMap is <name>-script',
  },
  namespace: { type: 'string', alias: 'n', description: 'the namespace of both objects (default: none set)' },
  image: { type: 'string', description: `the runners' k6 image (default ${defaultRunnerImage})` },
  separate: {
    type: 'boolean',
    description: 'one runner per node (spec.separate: needs as many nodes as runners)',
  },
} as const;

/**
 * The plan from the config file, env and flags (`--config`, `--target`, `--scenario`, `--seed`,
 * `--quick`), and its scenario as the runners run it: quarter length under `quick`, as `pooltune run`.
 */
async function scenarioPlan(
  host: Host,
  args: Readonly<Record<string, unknown>>,
  rawArgs: readonly string[],
): Promise<{ readonly plan: Plan; readonly scenario: Scenario }> {
  const { config } = await loadConfig(host.cwd, {
    ...(typeof args.config === 'string' ? { configPath: args.config } : {}),
    env: host.env,
    flags: configFlags(args, rawArgs),
  });
  const plan = resolvePlan(config, { targets: bundledTargets, scenarios });
  return { plan, scenario: config.quick ? scaleScenario(plan.scenario, 0.25) : plan.scenario };
}

/** A whole number of runners from `--parallelism`, or `fallback` when it is not given. */
function parallelismOf(text: unknown, fallback: number): number {
  if (text === undefined || text === '') return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1 || value > maxParallelism) {
    throw usageError(
      `--parallelism ${String(text)}: expected a whole number of runners from 1 to ${maxParallelism}`,
      'e.g. --parallelism 4; each runner gets an equal execution segment',
    );
  }
  return value;
}

/**
 * `pooltune k6 manifest`: prints a k6-operator TestRun and the ConfigMap with the generated script, for
 * `kubectl apply -f -`. Nothing is sent: the runners load the target from inside the cluster. The URL is
 * checked against the config's remote policy all the same, so a manifest loads only what a run could.
 */
function manifestCommand(host: Host, result: (r: CommandResult) => void) {
  return defineCommand({
    meta: {
      name: 'manifest',
      description: "Print a k6-operator TestRun and the ConfigMap with the scenario's k6 script (YAML)",
    },
    args: manifestArgs,
    run: async ({ rawArgs, args }) => {
      checkFlags(rawArgs, manifestArgs);
      if (typeof args.url !== 'string' || args.url === '') {
        throw usageError(
          'k6 manifest needs --url: the target as the runners reach it',
          'e.g. --url http://api.shop.svc.cluster.local:8080 (with allowRemote: true and the host in allowHosts)',
        );
      }
      const { plan, scenario } = await scenarioPlan(host, args, rawArgs);
      const { config } = plan;
      const { url } = loopbackTarget(args.url, config);
      const name =
        typeof args.name === 'string' && args.name !== '' ? args.name : defaultK6ManifestName(scenario.name);
      const problem = k6ManifestNameProblem(name);
      if (problem !== undefined) throw usageError(`--name: ${problem}`, 'e.g. --name pooltune-saturate');
      const script = await buildK6Script(scenario, url, { seed: config.seed });
      host.stdout.write(
        k6OperatorManifest({
          name,
          ...(typeof args.namespace === 'string' && args.namespace !== ''
            ? { namespace: args.namespace }
            : {}),
          script,
          parallelism: parallelismOf(args.parallelism, config.k6.instances),
          image: typeof args.image === 'string' && args.image !== '' ? args.image : defaultRunnerImage,
          separate: args.separate === true,
        }),
      );
      result({ code: ExitCode.ok });
    },
  });
}

const collectArgs = {
  config: runArgs.config,
  target: runArgs.target,
  scenario: runArgs.scenario,
  quick: runArgs.quick,
  out: runArgs.out,
  json: { type: 'boolean', description: 'print the run directory and report path as JSON' },
} as const;

/** Reads one runner log (gzipped when it ends in .gz), streaming: it can be large. */
async function readRunnerLog(file: string, shown: string): Promise<K6RunnerLog> {
  const reader = new K6RunnerLogReader();
  const raw = createReadStream(file);
  const opened = new Promise<void>((resolve, reject) => {
    raw.once('open', () => resolve());
    raw.once('error', reject);
  });
  await opened.catch((error: NodeJS.ErrnoException) => {
    throw usageError(
      `cannot read runner log ${shown} (${error.code ?? error.message})`,
      'pass the files kubectl logs wrote, one per runner',
    );
  });
  const lines = createInterface({
    input: file.endsWith('.gz') ? raw.pipe(createGunzip()) : raw,
    crlfDelay: Number.POSITIVE_INFINITY,
  });
  for await (const line of lines) reader.add(line);
  return reader.result(shown);
}

/** The manifest of a collected run: what was asked, with the collecting machine as its environment. */
function collectedManifest(
  plan: Plan,
  host: Host,
  version: string,
  runId: string,
  runners: number,
): Manifest {
  const { system } = host;
  return {
    schemaVersion: 1,
    runId,
    createdAt: host.now().toISOString(),
    command: 'run',
    target: {
      name: plan.target.name,
      description: plan.target.description,
      services: Object.keys(plan.target.services),
      entry: plan.target.entry,
    },
    scenario: plan.scenario.name,
    driver: 'k6',
    runtime: 'container',
    runtimeReason: `k6-operator: ${runners} runner${runners === 1 ? '' : 's'} in a cluster, collected by pooltune k6 collect (the environment below is the collecting machine)`,
    fixedKnobs: plan.knobs,
    repetitions: 1,
    quick: plan.config.quick,
    slo: { p99Ms: plan.config.tuning.slo.p99Ms, errorRate: plan.config.tuning.slo.errorRate },
    config: maskSecrets(plan.config),
    environment: {
      pooltune: version,
      node: host.nodeVersion,
      platform: `${system.platform} ${system.release} ${system.arch}`,
      cpus: system.cpus.count,
      cpuModel: system.cpus.model,
      memoryBytes: system.totalMemoryBytes,
    },
  };
}

/**
 * `pooltune k6 collect <runner logs...>`: the runners' logs of a `k6 manifest` TestRun as a run
 * directory (one trial, its histogram the merge of the runners'), which `pooltune report` and
 * `pooltune compare` read like any other. The scenario must be the one the manifest was made from.
 */
function collectCommand(host: Host, version: string, result: (r: CommandResult) => void) {
  return defineCommand({
    meta: {
      name: 'collect',
      description:
        "Merge the runner logs of a k6 manifest's TestRun into a run directory for report and compare",
    },
    args: collectArgs,
    run: async ({ rawArgs, args }) => {
      checkFlags(rawArgs, collectArgs);
      const files = args._.filter((arg) => arg !== 'k6' && arg !== 'collect');
      if (files.length === 0) {
        throw usageError(
          'k6 collect needs the runner logs',
          'pooltune k6 collect runner-1.log runner-2.log ...',
        );
      }
      const { plan, scenario } = await scenarioPlan(host, args, rawArgs);
      const { config } = plan;
      const logs: K6RunnerLog[] = [];
      for (const file of files) logs.push(await readRunnerLog(path.resolve(host.cwd, file), file));
      const client = runnerLogsResult(scenario, logs);
      const finished = host.now();
      const paths = await createRunDir(
        path.resolve(host.cwd, config.outDir),
        makeRunId(finished, plan.target.name, 'k6-operator'),
      );
      const runId = path.basename(paths.dir);
      await writeManifest(paths, collectedManifest(plan, host, version, runId, logs.length));
      const ranMs = logs.reduce((most, log) => Math.max(most, log.summary?.testRunDurationMs ?? 0), 0);
      const trial: CompletedTrial = {
        id: 't001',
        step: 'single',
        knobs: plan.knobs,
        scenario: scenario.name,
        driver: 'k6',
        repetition: 0,
        startedAt: new Date(finished.getTime() - ranMs).toISOString(),
        finishedAt: finished.toISOString(),
        status: 'completed',
        client,
        // The target ran in the cluster: pooltune's collectors did not sample it.
        server: { samples: [] },
      };
      {
        await using log = await TrialLog.open(paths.trials);
        await log.append(trial);
      }
      const outputs = await writeRunOutputs(paths.dir);
      host.stdout.write(
        args.json === true
          ? `${JSON.stringify({ runDir: paths.dir, report: outputs.report, verdict: outputs.summary.verdict })}\n`
          : `run: ${paths.dir}\nreport: ${outputs.report}\n`,
      );
      result({ code: ExitCode.ok });
    },
  });
}

/** `pooltune k6 <command>`: k6 beyond one machine. */
export function k6Command(host: Host, version: string, result: (r: CommandResult) => void) {
  return defineCommand({
    meta: {
      name: 'k6',
      description: "k6 beyond one machine: a k6-operator manifest, and its runners' logs back as a run",
    },
    subCommands: { manifest: manifestCommand(host, result), collect: collectCommand(host, version, result) },
  });
}
