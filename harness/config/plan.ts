import { closest } from 'fastest-levenshtein';
import type { Scenario } from '../../scenarios/scenario.ts';
import type { DriverName } from '../drivers/driver.ts';
import { usageError } from '../errors.ts';
import { remoteTargetProblem } from '../loopback.ts';
import type { KnobValue, KnobValues } from '../results/trial.ts';
import { formatIssue } from './issues.ts';
import {
  type Config,
  DEFAULT_CAPACITY_MAX_RATE,
  type KnobDefinition,
  type PoolDefinition,
  type TargetDefinition,
  type TargetInput,
  targetSchema,
} from './schema.ts';

export { isLoopbackUrl } from '../loopback.ts';

/** A validated, resolved plan: everything a run needs, with names turned into definitions. */
export interface Plan {
  readonly config: Config;
  readonly target: TargetDefinition;
  readonly scenario: Scenario;
  readonly driver: DriverName;
  /** The target's pools with their knob roles (a `poolKnob` shorthand becomes one pool of the entry service). */
  readonly pools: readonly PoolDefinition[];
  /** Every knob's value for trials that do not sweep it (target defaults < config.knobs). */
  readonly knobs: KnobValues;
  /** The knob `tune` sweeps and its values, capped below the database's max_connections; none when the target names no pool knob. */
  readonly sweep:
    | { readonly knob: string; readonly values: readonly number[]; readonly limit: number }
    | undefined;
}

/** The catalogues a plan resolves names against. */
export interface Catalogue {
  readonly targets: Readonly<Record<string, TargetInput>>;
  readonly scenarios: Readonly<Record<string, Scenario>>;
}

/** `unknown target "htp-pg"` plus a hint naming the nearest known name. */
function unknownName(kind: string, field: string, name: string, known: readonly string[]): string {
  return `${field}: unknown ${kind} "${name}" (did you mean "${closest(name, [...known])}"? known: ${known.join(', ')})`;
}

/**
 * Resolves a validated config against the catalogues and checks everything that needs more than one
 * field: names, knob ranges, the sweep against max_connections, driver against scenario, and that
 * external URLs are loopback or allowed (`allowRemote` + `allowHosts`). Lists every problem at once
 * (usage error, exit 2).
 */
export function resolvePlan(config: Config, catalogue: Catalogue): Plan {
  const problems: string[] = [];
  const target = resolveTarget(config, catalogue, problems);
  const scenario = catalogue.scenarios[config.scenario];
  if (scenario === undefined) {
    problems.push(unknownName('scenario', 'scenario', config.scenario, Object.keys(catalogue.scenarios)));
  }
  if (target === undefined || scenario === undefined) throw planError(problems);

  if (target.services[target.entry] === undefined) {
    problems.push(
      `target.entry: no service named "${target.entry}" (services: ${Object.keys(target.services).join(', ')})`,
    );
  }
  // allowRemote with nobody allowed is one mistake, named once (not again for each remote URL).
  const emptyAllowlist = config.allowRemote && config.allowHosts.length === 0;
  if (emptyAllowlist) {
    problems.push(
      'allowHosts: allowRemote is true but allowHosts is empty; list the hosts load may go to (exact names or IPs)',
    );
  }
  for (const [name, service] of Object.entries(target.services)) {
    const checked = service.kind === 'external' && !emptyAllowlist;
    const problem = checked ? remoteTargetProblem(service.url, config) : undefined;
    if (problem !== undefined) problems.push(`target.services.${name}.url: ${problem}`);
  }

  const knobs: Record<string, KnobValue> = Object.fromEntries(
    Object.entries(target.knobs).map(([name, knob]) => [name, knob.default]),
  );
  for (const [name, value] of Object.entries(config.knobs)) {
    const knob = target.knobs[name];
    if (knob === undefined) {
      problems.push(unknownKnob(`knobs.${name}`, name, target));
      continue;
    }
    const problem = checkKnobValue(knob, value);
    if (problem !== undefined) problems.push(`knobs.${name}: ${problem}`);
    knobs[name] = value;
  }

  const driver = chooseDriver(config.driver, scenario, problems);
  const pools = resolvePools(target, problems);
  const sweep = resolveSweep(config, target, pools, problems);
  if (problems.length > 0) throw planError(problems);
  return { config, target, scenario, driver, pools, knobs, sweep };
}

function planError(problems: readonly string[]) {
  return usageError(
    problems.length === 1 ? (problems[0] ?? 'invalid config') : `invalid config: ${problems.length} problems`,
    'run `pooltune targets` for the bundled targets and their knobs; see docs/configuration.md',
    problems.length === 1 ? [] : problems,
  );
}

function resolveTarget(
  config: Config,
  catalogue: Catalogue,
  problems: string[],
): TargetDefinition | undefined {
  const input = typeof config.target === 'string' ? catalogue.targets[config.target] : config.target;
  if (input === undefined) {
    problems.push(unknownName('target', 'target', String(config.target), Object.keys(catalogue.targets)));
    return undefined;
  }
  const parsed = targetSchema.safeParse(input);
  if (!parsed.success) {
    problems.push(...parsed.error.issues.map((issue) => `target.${formatIssue(issue)}`));
    return undefined;
  }
  const { maxConnections } = config;
  if (maxConnections === undefined) return parsed.data;
  const services = Object.fromEntries(
    Object.entries(parsed.data.services).map(([name, service]) => [
      name,
      service.kind === 'postgres' ? { ...service, maxConnections } : service,
    ]),
  );
  return { ...parsed.data, services };
}

function unknownKnob(field: string, name: string, target: TargetDefinition): string {
  const known = Object.keys(target.knobs);
  return known.length === 0
    ? `${field}: target "${target.name}" has no knobs`
    : unknownName('knob', field, name, known).replace(
        'unknown knob',
        `unknown knob of target "${target.name}":`,
      );
}

/** Why a value does not fit a knob, or undefined when it does. */
export function checkKnobValue(knob: KnobDefinition, value: KnobValue): string | undefined {
  switch (knob.type) {
    case 'int':
      if (typeof value !== 'number' || !Number.isInteger(value))
        return `expected a whole number, got ${JSON.stringify(value)}`;
      if (knob.min !== undefined && value < knob.min) return `${value} is below the minimum ${knob.min}`;
      if (knob.max !== undefined && value > knob.max) return `${value} is above the maximum ${knob.max}`;
      return undefined;
    case 'bool':
      return typeof value === 'boolean' ? undefined : `expected true or false, got ${JSON.stringify(value)}`;
    case 'enum':
      return typeof value === 'string' && (knob.values ?? []).includes(value)
        ? undefined
        : `expected one of ${(knob.values ?? []).join(', ')}, got ${JSON.stringify(value)}`;
  }
}

function chooseDriver(choice: Config['driver'], scenario: Scenario, problems: string[]): DriverName {
  if (choice === 'auto') return scenario.model === 'closed' ? 'autocannon' : 'arrival-rate';
  if (choice === 'autocannon' && scenario.model === 'open') {
    problems.push(
      `driver: autocannon is a closed-model generator and cannot run the open-model scenario "${scenario.name}" (use arrival-rate or k6)`,
    );
  }
  if (choice === 'arrival-rate' && scenario.model === 'closed') {
    problems.push(
      `driver: arrival-rate is an open-model generator and cannot run the closed-model scenario "${scenario.name}" (use autocannon or k6)`,
    );
  }
  return choice;
}

/** The database's max_connections, when the target has an embedded PostgreSQL. */
export function databaseMaxConnections(target: TargetDefinition): number | undefined {
  for (const service of Object.values(target.services)) {
    if (service.kind === 'postgres') return service.maxConnections;
  }
  return undefined;
}

/** A geometric series from `from`, times `factor`, up to and including `limit`. */
export function geometricValues(from: number, factor: number, limit: number): number[] {
  const values: number[] = [];
  for (let value = from; value <= limit; value = Math.max(value + 1, Math.round(value * factor)))
    values.push(value);
  return values;
}

/** The target's pools, each checked against its services and knobs. */
function resolvePools(target: TargetDefinition, problems: string[]): PoolDefinition[] {
  const pools: PoolDefinition[] =
    target.pools.length > 0 || target.poolKnob === undefined
      ? target.pools
      : [{ name: 'pool', service: target.entry, library: 'generic', knobs: { size: target.poolKnob } }];
  pools.forEach((pool, i) => {
    if (target.services[pool.service] === undefined) {
      problems.push(`target.pools.${i}.service: no service named "${pool.service}"`);
    }
    for (const [role, knob] of Object.entries(pool.knobs)) {
      if (knob !== undefined && target.knobs[knob] === undefined) {
        problems.push(unknownKnob(`target.pools.${i}.knobs.${role}`, knob, target));
      }
    }
  });
  return pools;
}

function resolveSweep(
  config: Config,
  target: TargetDefinition,
  pools: readonly PoolDefinition[],
  problems: string[],
): Plan['sweep'] {
  const knobName = config.sweep.knob ?? pools[0]?.knobs.size;
  // `pooltune run` needs no sweep; `tune` refuses a plan without one.
  if (knobName === undefined) return undefined;
  const knob = target.knobs[knobName];
  if (knob === undefined || knob.type !== 'int') {
    problems.push(
      knob === undefined
        ? unknownKnob('sweep.knob', knobName, target)
        : `sweep.knob: "${knobName}" is not a whole-number knob`,
    );
    return { knob: knobName, values: [], limit: 0 };
  }
  const maxConnections = databaseMaxConnections(target);
  const databaseLimit =
    maxConnections === undefined ? Number.POSITIVE_INFINITY : maxConnections - config.reserveConnections;
  const limit = Math.min(knob.max ?? 256, config.sweep.upTo ?? Number.POSITIVE_INFINITY, databaseLimit);
  const values = config.sweep.values ?? geometricValues(config.sweep.from, config.sweep.factor, limit);
  for (const value of config.sweep.values ?? []) {
    const problem = checkKnobValue(knob, value);
    if (problem !== undefined) problems.push(`sweep.values: ${problem}`);
    else if (value > databaseLimit) {
      problems.push(
        `sweep.values: ${knobName} ${value} is more than the database allows (max_connections ${maxConnections} minus reserveConnections ${config.reserveConnections} = ${databaseLimit})`,
      );
    }
  }
  const fixed = config.knobs[knobName];
  if (typeof fixed === 'number' && fixed > databaseLimit) {
    problems.push(
      `knobs.${knobName}: ${fixed} is more than the database allows (max_connections ${maxConnections} minus reserveConnections ${config.reserveConnections} = ${databaseLimit})`,
    );
  }
  if (values.length === 0)
    problems.push(`sweep: no values between ${config.sweep.from} and the limit ${limit}`);
  return { knob: knobName, values, limit };
}

/**
 * Whether `tune` runs the capacity search (step 8), and up to what rate: `tuning.capacity` as given,
 * or, unset, on unless `--quick`.
 */
export function capacitySettings(config: Config): { readonly enabled: boolean; readonly maxRate: number } {
  const given = config.tuning.capacity;
  if (typeof given === 'object') return { enabled: given.enabled, maxRate: given.maxRate };
  return { enabled: given ?? !config.quick, maxRate: DEFAULT_CAPACITY_MAX_RATE };
}
