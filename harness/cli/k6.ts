import { defineCommand } from 'citty';
import { scenarios } from '../../scenarios/index.ts';
import { scaleScenario } from '../../scenarios/scenario.ts';
import { bundledTargets } from '../../targets/index.ts';
import { loadConfig } from '../config/load.ts';
import { resolvePlan } from '../config/plan.ts';
import { defaultK6ManifestName, k6ManifestNameProblem, k6OperatorManifest } from '../drivers/k6-manifest.ts';
import { buildK6Script } from '../drivers/k6-script.ts';
import { ExitCode, usageError } from '../errors.ts';
import type { Host } from '../host/host.ts';
import { loopbackTarget } from '../loopback.ts';
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
      const { config } = await loadConfig(host.cwd, {
        ...(typeof args.config === 'string' ? { configPath: args.config } : {}),
        env: host.env,
        flags: configFlags(args, rawArgs),
      });
      const plan = resolvePlan(config, { targets: bundledTargets, scenarios });
      const { url } = loopbackTarget(args.url, config);
      const scenario = config.quick ? scaleScenario(plan.scenario, 0.25) : plan.scenario;
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

/** `pooltune k6 <command>`: k6 beyond one machine. */
export function k6Command(host: Host, result: (r: CommandResult) => void) {
  return defineCommand({
    meta: { name: 'k6', description: 'Run k6 beyond one machine: a k6-operator manifest for Kubernetes' },
    subCommands: { manifest: manifestCommand(host, result) },
  });
}
