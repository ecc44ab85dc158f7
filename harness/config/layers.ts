// Pure: the one home of config layering, defaults < file < env < flags. No fs, no process: the edge
// (config/load.ts) reads the file and hands in the environment and the parsed flags.
import { usageError } from '../errors.ts';
import { type ConfigOrigins, issueLines } from './issues.ts';
import { type Config, configSchema } from './schema.ts';

export type { ConfigOrigins } from './issues.ts';

/** A partial config from one layer (file, env or flags), before validation. */
export type ConfigLayer = Record<string, unknown>;

/** Environment variables as the host gives them. */
export type EnvRecord = Readonly<Record<string, string | undefined>>;

/** A config file's contents and the name messages call it by. */
export interface ConfigFile {
  readonly name: string;
  readonly layer: ConfigLayer;
}

/** The layers over the schema's defaults, lowest first. `env` and `flags` are what origin.json records. */
export interface ConfigLayers {
  readonly file?: ConfigFile | undefined;
  /** From POOLTUNE_* variables ({@link envLayer}). */
  readonly env: ConfigLayer;
  /** From flags ({@link flagLayer}); absent for a command without config flags (`compare`). */
  readonly flags?: ConfigLayer | undefined;
}

/** What validating a config found: the config, or every problem at once. */
export type CheckedConfig =
  | { readonly ok: true; readonly config: Config }
  | { readonly ok: false; readonly problems: readonly string[] };

/** The merged layers and what validating them found. */
export type LayeredConfig = {
  readonly raw: ConfigLayer;
  /** What the layers came from, for messages: the file's name, else "flags and environment". */
  readonly source: string;
} & CheckedConfig;

/**
 * Layers the config: schema defaults < file < env < flags (plain objects merge, anything else is
 * replaced), then validates it. Each problem names the env variable or flag that set its key.
 */
export function layerConfig(layers: ConfigLayers): LayeredConfig {
  const { file, env, flags } = layers;
  const raw = mergeLayers(file?.layer ?? {}, env, flags ?? {});
  const origins = { ...envOrigins(env), ...flagOrigins(flags ?? {}) };
  const source = file?.name ?? (flags === undefined ? 'environment' : 'flags and environment');
  return { raw, source, ...checkConfig(raw, origins) };
}

/** The validated config of {@link layerConfig}; a usage error (exit 2) listing every problem otherwise. */
export function configOrThrow(layered: { readonly source: string } & CheckedConfig): Config {
  if (layered.ok) return layered.config;
  const { problems, source } = layered;
  throw usageError(
    `invalid config (${source}): ${problems.length === 1 ? problems[0] : `${problems.length} problems`}`,
    'see docs/configuration.md; unknown keys are rejected',
    problems.length === 1 ? [] : problems,
  );
}

/**
 * Validates a merged config. Every problem is listed at once, each with its path (and the env variable
 * or flag that set it, from `origins`); unknown keys are rejected. Throws a usage error (exit 2) when
 * anything is wrong.
 */
export function validateConfig(raw: unknown, source: string, origins: ConfigOrigins = {}): Config {
  return configOrThrow({ source, ...checkConfig(raw, origins) });
}

function checkConfig(raw: unknown, origins: ConfigOrigins): CheckedConfig {
  const result = configSchema.safeParse(raw);
  return result.success
    ? { ok: true, config: result.data }
    : { ok: false, problems: issueLines(result.error.issues, origins) };
}

/** Deep-merges layers left to right: later layers win; plain objects merge, everything else replaces. */
export function mergeLayers(...layers: readonly ConfigLayer[]): ConfigLayer {
  const merged: ConfigLayer = {};
  for (const layer of layers) {
    for (const [key, value] of Object.entries(layer)) {
      if (value === undefined) continue;
      const previous = merged[key];
      merged[key] = isPlainObject(previous) && isPlainObject(value) ? mergeLayers(previous, value) : value;
    }
  }
  return merged;
}

function isPlainObject(value: unknown): value is ConfigLayer {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Reads "12" as 12 and "true"/"false" as booleans; everything else stays a string for the schema to judge. */
export function coerce(raw: string): string | number | boolean {
  if (raw === 'true') return true;
  if (raw === 'false') return false;
  if (/^-?\d+(\.\d+)?$/.test(raw)) return Number(raw);
  return raw;
}

/** Environment variables read as a config layer (they override the file, flags override them). */
export const envVariables = {
  POOLTUNE_TARGET: 'target',
  POOLTUNE_SCENARIO: 'scenario',
  POOLTUNE_DRIVER: 'driver',
  POOLTUNE_RUNTIME: 'runtime',
  POOLTUNE_REPETITIONS: 'repetitions',
  POOLTUNE_OUT_DIR: 'outDir',
  POOLTUNE_QUICK: 'quick',
  POOLTUNE_SEED: 'seed',
  POOLTUNE_MAX_CONNECTIONS: 'maxConnections',
  POOLTUNE_MAX_DURATION: 'maxDuration',
  POOLTUNE_PROBES: 'probes',
} as const;

/** The config layer given by POOLTUNE_* environment variables (empty ones are unset). */
export function envLayer(env: EnvRecord): ConfigLayer {
  const layer: ConfigLayer = {};
  for (const [variable, key] of Object.entries(envVariables)) {
    const raw = env[variable];
    if (raw !== undefined && raw !== '') layer[key] = coerce(raw);
  }
  return layer;
}

/** The env variable that set each key of an env layer. */
export function envOrigins(layer: ConfigLayer): ConfigOrigins {
  return Object.fromEntries(
    Object.entries(envVariables)
      .filter(([, key]) => layer[key] !== undefined)
      .map(([variable, key]) => [key, variable]),
  );
}

/** The config flags of `tune` and `run` as given (cli/options.ts reads them from argv). */
export interface ConfigFlags {
  readonly target?: string | undefined;
  readonly scenario?: string | undefined;
  readonly driver?: string | undefined;
  readonly runtime?: string | undefined;
  readonly repetitions?: string | undefined;
  readonly seed?: string | undefined;
  readonly out?: string | undefined;
  /** Only `true` counts: `--no-quick` does not undo a config's `quick: true`. */
  readonly quick?: boolean | undefined;
  readonly probes?: boolean | undefined;
  readonly maxDuration?: string | undefined;
  /** `--set knob=value`, split at the first `=` (a later one for the same knob wins). */
  readonly set?: Readonly<Record<string, string>> | undefined;
}

/** The config layer given by flags; names (target, scenario, ...) stay strings, numbers are read. */
export function flagLayer(flags: ConfigFlags): ConfigLayer {
  const read = (text: string | undefined) => (text === undefined ? undefined : coerce(text));
  const knobs = Object.entries(flags.set ?? {}).map(([knob, value]) => [knob, coerce(value)]);
  const layer: ConfigLayer = {
    target: flags.target,
    scenario: flags.scenario,
    driver: flags.driver,
    runtime: flags.runtime,
    repetitions: read(flags.repetitions),
    seed: read(flags.seed),
    outDir: flags.out,
    quick: flags.quick === true ? true : undefined,
    probes: flags.probes === true ? true : undefined,
    maxDuration: read(flags.maxDuration),
    knobs: knobs.length > 0 ? Object.fromEntries(knobs) : undefined,
  };
  return Object.fromEntries(Object.entries(layer).filter(([, value]) => value !== undefined));
}

/** Config keys whose flag is not `--<key>`. */
const flagNames: Readonly<Record<string, string>> = {
  outDir: '--out',
  knobs: '--set',
  maxDuration: '--max-duration',
};

/** The flag that set each key of a flag layer. */
export function flagOrigins(layer: ConfigLayer): ConfigOrigins {
  return Object.fromEntries(Object.keys(layer).map((key) => [key, flagNames[key] ?? `--${key}`]));
}
