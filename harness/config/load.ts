import { access, readFile } from 'node:fs/promises';
import path from 'node:path';
import { createJiti } from 'jiti';
import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';
import { messageOf, usageError } from '../errors.ts';
import { type Config, configSchema } from './schema.ts';

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

/** A partial config from one layer (file, env or flags), before validation. */
export type ConfigLayer = Record<string, unknown>;

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

/** The config layer given by POOLTUNE_* environment variables. */
export function envLayer(env: Readonly<Record<string, string | undefined>>): ConfigLayer {
  const layer: ConfigLayer = {};
  for (const [variable, key] of Object.entries(envVariables)) {
    const raw = env[variable];
    if (raw !== undefined && raw !== '') layer[key] = coerce(raw);
  }
  return layer;
}

/** Reads "12" as 12 and "true"/"false" as booleans; everything else stays a string for the schema to judge. */
export function coerce(raw: string): string | number | boolean {
  if (raw === 'true') return true;
  if (raw === 'false') return false;
  if (/^-?\d+(\.\d+)?$/.test(raw)) return Number(raw);
  return raw;
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

/** Where a top-level key's value came from when not the file, e.g. `runtime` → `POOLTUNE_RUNTIME`. */
export type ConfigOrigins = Readonly<Record<string, string>>;

/** The env variable that set each key of an env layer. */
export function envOrigins(layer: ConfigLayer): ConfigOrigins {
  return Object.fromEntries(
    Object.entries(envVariables)
      .filter(([, key]) => layer[key] !== undefined)
      .map(([variable, key]) => [key, variable]),
  );
}

/**
 * Validates a merged config. Every problem is listed at once, each with its path (and the env variable
 * or flag that set it, from `origins`); unknown keys are rejected. Throws a usage error (exit 2) when
 * anything is wrong.
 */
export function validateConfig(raw: unknown, source: string, origins: ConfigOrigins = {}): Config {
  const result = configSchema.safeParse(raw);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => {
    const origin = origins[String(issue.path[0])];
    const line = formatIssue(issue);
    return origin === undefined ? line : line.replace(/^([^:]*):/, `$1 (from ${origin}):`);
  });
  throw usageError(
    `invalid config (${source}): ${problems.length === 1 ? problems[0] : `${problems.length} problems`}`,
    'see docs/configuration.md; unknown keys are rejected',
    problems.length === 1 ? [] : problems,
  );
}

/** One line per problem: `path: message`. A union's problem is its likeliest branch's, with the full path. */
export function formatIssue(issue: z.core.$ZodIssue): string {
  const leaf = likeliestIssue(issue, []);
  const where = leaf.path.length === 0 ? '' : `${leaf.path.map(String).join('.')}: `;
  if (leaf.issue.code === 'unrecognized_keys') {
    const { keys } = leaf.issue;
    return `${where}unknown key${keys.length > 1 ? 's' : ''} ${keys.map((key) => `"${key}"`).join(', ')}`;
  }
  return `${where === '' ? '(top level): ' : where}${leaf.issue.message}`;
}

/**
 * Follows a union's problem into the branch the user most likely meant, through nested unions: not a
 * branch whose literal (a service's `kind`) did not match, and of the rest the one that got furthest.
 */
function likeliestIssue(
  issue: z.core.$ZodIssue,
  prefix: readonly PropertyKey[],
): { issue: z.core.$ZodIssue; path: PropertyKey[] } {
  const path = [...prefix, ...issue.path];
  if (issue.code !== 'invalid_union') return { issue, path };
  const branches = issue.errors.filter((branch) => branch.length > 0);
  const matching = branches.filter(
    (branch) => !branch.some((inner) => inner.code === 'invalid_value' && inner.path.length === 1),
  );
  const best = (matching.length > 0 ? matching : branches).sort((a, b) => depth(b) - depth(a))[0];
  const first = best?.[0];
  return first === undefined ? { issue, path } : likeliestIssue(first, path);
}

function depth(branch: readonly z.core.$ZodIssue[]): number {
  return Math.max(...branch.map((issue) => issue.path.length + (issue.code === 'invalid_type' ? 0 : 0.5)));
}
