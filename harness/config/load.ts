// The edge of config loading: finds and reads the config file (TS/JS via jiti, JSON, YAML), then hands
// it with the environment and the flags to the pure layering in layers.ts.
import { access, readFile } from 'node:fs/promises';
import path from 'node:path';
import { createJiti } from 'jiti';
import { parse as parseYaml } from 'yaml';
import { messageOf, usageError } from '../errors.ts';
import {
  type ConfigFlags,
  type ConfigLayer,
  configOrThrow,
  type EnvRecord,
  envLayer,
  flagLayer,
  layerConfig,
  mergeLayers,
} from './layers.ts';
import type { Config } from './schema.ts';

/** File names looked for in the working directory when no `--config` is given, in this order. */
export const configFileNames = [
  'pooltune.config.ts',
  'pooltune.config.mts',
  'pooltune.config.js',
  'pooltune.config.mjs',
  'pooltune.config.json',
  'pooltune.config.yaml',
  'pooltune.config.yml',
] as const;

/** The config file to read: the explicit one (which must exist), else the first default name found. */
export async function findConfigFile(cwd: string, explicit?: string): Promise<string | undefined> {
  if (explicit !== undefined) {
    const file = path.resolve(cwd, explicit);
    if (!(await exists(file))) {
      throw usageError(`config file not found: ${explicit}`, 'check the path given to --config');
    }
    return file;
  }
  for (const name of configFileNames) {
    const file = path.join(cwd, name);
    if (await exists(file)) return file;
  }
  return undefined;
}

async function exists(file: string): Promise<boolean> {
  return access(file).then(
    () => true,
    () => false,
  );
}

/** Reads a TS/JS (default export, via jiti), JSON or YAML config file into a plain object. */
export async function readConfigFile(file: string): Promise<ConfigLayer> {
  const name = path.basename(file);
  let value: unknown;
  try {
    if (/\.(json)$/.test(file)) value = JSON.parse(await readFile(file, 'utf8'));
    else if (/\.(ya?ml)$/.test(file)) value = parseYaml(await readFile(file, 'utf8'));
    else value = await createJiti(import.meta.url).import(file, { default: true });
  } catch (error) {
    throw usageError(
      `config file ${name} failed to load: ${firstLine(messageOf(error))}`,
      'fix the error in the file, or run without --config to use the defaults',
    );
  }
  if (value === null || value === undefined) return {};
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw usageError(`config file ${name} must hold an object`, 'export default defineConfig({ ... })');
  }
  return value as ConfigLayer;
}

function firstLine(text: string): string {
  return text.split('\n')[0] ?? text;
}

/** What a command gives: `--config`, the environment, and its config flags (none for `compare`). */
export interface ConfigRequest {
  readonly configPath?: string | undefined;
  readonly env: EnvRecord;
  readonly flags?: ConfigFlags | undefined;
}

/** How a config was given: what origin.json records so `--resume` layers the same config again. */
export interface ConfigOrigin {
  readonly cwd: string;
  /** The config file's absolute path (its contents may hold secrets, so they are not recorded). */
  readonly configFile?: string | undefined;
  readonly layers: { readonly env: ConfigLayer; readonly flags: ConfigLayer };
}

/** A validated config, the folder its relative paths resolve from, and how it was given. */
export interface LoadedConfig {
  readonly config: Config;
  readonly baseDir: string;
  readonly origin: ConfigOrigin;
}

/** Finds and reads the config file, layers env and flags over it, and validates it (usage error, exit 2). */
export async function loadConfig(cwd: string, request: ConfigRequest): Promise<LoadedConfig> {
  const file = await findConfigFile(cwd, request.configPath);
  const env = envLayer(request.env);
  const flags = request.flags === undefined ? undefined : flagLayer(request.flags);
  const config = await layerFile(cwd, file, env, flags);
  const origin = {
    cwd,
    ...(file === undefined ? {} : { configFile: file }),
    layers: { env, flags: flags ?? {} },
  };
  return { config, baseDir: file === undefined ? cwd : path.dirname(file), origin };
}

/**
 * The config a resumed run had: its config file read again, with the env and flag layers it was started
 * with; `overrides` (e.g. a new --max-duration) go on top of its flags.
 */
export async function reloadConfig(
  cwd: string,
  origin: ConfigOrigin,
  overrides: ConfigLayer = {},
): Promise<LoadedConfig> {
  const file = origin.configFile;
  const flags = mergeLayers(origin.layers.flags, overrides);
  const config = await layerFile(cwd, file, origin.layers.env, flags);
  return { config, baseDir: file === undefined ? origin.cwd : path.dirname(file), origin };
}

/** Reads the file (when there is one) and layers env and flags over it. */
async function layerFile(
  cwd: string,
  file: string | undefined,
  env: ConfigLayer,
  flags: ConfigLayer | undefined,
): Promise<Config> {
  const fileLayer =
    file === undefined
      ? undefined
      : { name: path.relative(cwd, file) || file, layer: await readConfigFile(file) };
  return configOrThrow(layerConfig({ file: fileLayer, env, flags }));
}
