import { describe, expect, it } from 'vitest';
import {
  type ConfigFlags,
  configOrThrow,
  type EnvRecord,
  envLayer,
  flagLayer,
  type LayeredConfig,
  layerConfig,
  mergeLayers,
} from '../../harness/config/layers.ts';
import type { Config } from '../../harness/config/schema.ts';
import type { PooltuneError } from '../../harness/errors.ts';

/** Layers as the CLI gives them, without touching disk: a file's contents, the env record, the flags. */
function layered(given: {
  file?: Record<string, unknown>;
  env?: EnvRecord;
  flags?: ConfigFlags;
}): LayeredConfig {
  return layerConfig({
    file: given.file === undefined ? undefined : { name: 'pooltune.config.json', layer: given.file },
    env: envLayer(given.env ?? {}),
    flags: flagLayer(given.flags ?? {}),
  });
}

function config(given: Parameters<typeof layered>[0]): Config {
  return configOrThrow(layered(given));
}

/**
 * Keys all three layers can set, with a distinct value for each layer (as the file holds it, the env
 * variable and its text, the flag and its text) and the value each layer's text reads as.
 */
const keys = [
  {
    key: 'target',
    file: 'f',
    variable: 'POOLTUNE_TARGET',
    env: 'e',
    flag: { target: 'x' },
    read: ['e', 'x'],
  },
  {
    key: 'scenario',
    file: 'steady',
    variable: 'POOLTUNE_SCENARIO',
    env: 'burst',
    flag: { scenario: 'ramp' },
    read: ['burst', 'ramp'],
  },
  {
    key: 'driver',
    file: 'autocannon',
    variable: 'POOLTUNE_DRIVER',
    env: 'arrival-rate',
    flag: { driver: 'k6' },
    read: ['arrival-rate', 'k6'],
  },
  {
    key: 'runtime',
    file: 'auto',
    variable: 'POOLTUNE_RUNTIME',
    env: 'container',
    flag: { runtime: 'process' },
    read: ['container', 'process'],
  },
  {
    key: 'repetitions',
    file: 2,
    variable: 'POOLTUNE_REPETITIONS',
    env: '4',
    flag: { repetitions: '5' },
    read: [4, 5],
  },
  { key: 'seed', file: 11, variable: 'POOLTUNE_SEED', env: '12', flag: { seed: '13' }, read: [12, 13] },
  {
    key: 'outDir',
    file: 'f/out',
    variable: 'POOLTUNE_OUT_DIR',
    env: 'e/out',
    flag: { out: 'x/out' },
    read: ['e/out', 'x/out'],
  },
  {
    key: 'maxDuration',
    file: '1m',
    variable: 'POOLTUNE_MAX_DURATION',
    env: '2m',
    flag: { maxDuration: '3m' },
    read: ['2m', '3m'],
  },
] as const;

describe('config layering (defaults < file < env < flags)', () => {
  it('resolves each key to the highest layer that sets it, for every combination of layers', () => {
    const defaults = config({});
    for (const { key, file, variable, env, flag, read } of keys) {
      for (let mask = 0; mask < 8; mask++) {
        const [inFile, inEnv, inFlags] = [mask & 1, mask & 2, mask & 4].map(Boolean);
        const resolved = config({
          file: { ...(inFile ? { [key]: file } : {}) },
          env: inEnv ? { [variable]: env } : {},
          flags: inFlags ? flag : {},
        });
        const expected = inFlags ? read[1] : inEnv ? read[0] : inFile ? file : defaults[key];
        expect({ key, mask, value: resolved[key] }).toEqual({ key, mask, value: expected });
      }
    }
  });

  it('takes the flag over env and file, and --set over the file knobs, merging the rest', () => {
    const resolved = config({
      file: { repetitions: 2, knobs: { max: 4, idleTimeoutMillis: 1 } },
      env: { POOLTUNE_REPETITIONS: '4' },
      flags: { repetitions: '5', set: { max: '8' } },
    });
    expect(resolved.repetitions).toBe(5);
    expect(resolved.knobs).toEqual({ max: 8, idleTimeoutMillis: 1 });
  });

  it('takes env over the file', () => {
    const resolved = config({
      file: { scenario: 'steady' },
      env: { POOLTUNE_SCENARIO: 'burst', UNRELATED: 'x' },
    });
    expect(resolved.scenario).toBe('burst');
  });

  it('takes the file over the defaults, nested keys one by one', () => {
    const resolved = config({ file: { sweep: { factor: 3 } } });
    expect(resolved.sweep.factor).toBe(3);
    expect(resolved.sweep.from).toBe(1);
    expect(config({}).sweep.factor).toBe(2);
  });

  it('ignores empty env variables and reads "true" and numbers', () => {
    expect(envLayer({ POOLTUNE_TARGET: '', POOLTUNE_QUICK: 'true', POOLTUNE_SEED: '-7' })).toEqual({
      quick: true,
      seed: -7,
    });
  });

  it('reports a bad env value naming the env variable, with every other problem', () => {
    const result = layered({
      file: { sweep: { factor: 'two' } },
      env: { POOLTUNE_REPETITIONS: 'many', POOLTUNE_RUNTIME: 'vm' },
    });
    expect(result.ok).toBe(false);
    const problems = result.ok ? [] : result.problems;
    expect(problems).toHaveLength(3);
    expect(problems.join('\n')).toMatch(/^runtime \(from POOLTUNE_RUNTIME\): /m);
    expect(problems.join('\n')).toMatch(/^repetitions \(from POOLTUNE_REPETITIONS\): /m);
    expect(problems.join('\n')).toMatch(/^sweep\.factor: /m);
    let error: PooltuneError | undefined;
    try {
      configOrThrow(result);
    } catch (thrown) {
      error = thrown as PooltuneError;
    }
    expect(error?.message).toBe('invalid config (pooltune.config.json): 3 problems');
    expect(error?.details).toEqual(problems);
  });

  it('names the flag when the flag that wins over env is bad', () => {
    const result = layered({ env: { POOLTUNE_MAX_DURATION: '5m' }, flags: { maxDuration: '0' } });
    expect(result.ok ? [] : result.problems).toEqual([
      expect.stringMatching(/^maxDuration \(from --max-duration\): /),
    ]);
    expect(result.source).toBe('flags and environment');
  });

  it('says "environment" for a command without config flags and no file', () => {
    const result = layerConfig({ env: envLayer({ POOLTUNE_REPETITIONS: '0' }) });
    expect(result.source).toBe('environment');
    expect(() => configOrThrow(result)).toThrow(
      /^invalid config \(environment\): repetitions \(from POOLTUNE_REPETITIONS\): /,
    );
  });

  it('merges nested objects instead of replacing them', () => {
    expect(mergeLayers({ knobs: { max: 4, idleTimeoutMillis: 1 } }, { knobs: { max: 8 } })).toEqual({
      knobs: { max: 8, idleTimeoutMillis: 1 },
    });
  });
});
