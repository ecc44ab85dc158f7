// The commands' flags: citty argument definitions, and argv read into typed values. No I/O.
import type { ConfigFlags } from '../config/layers.ts';
import { usageError } from '../errors.ts';

/** Flags shared by `tune` and `run`: each maps onto a config key and wins over the file and env. */
export const runArgs = {
  config: {
    type: 'string',
    alias: 'c',
    description: 'config file (default: pooltune.config.{ts,js,json,yaml} in the working directory)',
  },
  target: { type: 'string', alias: 't', description: 'bundled target name (see `pooltune targets`)' },
  scenario: { type: 'string', alias: 's', description: 'scenario: steady, saturate, burst, ramp, idle-gaps' },
  driver: { type: 'string', alias: 'd', description: 'auto, autocannon, arrival-rate or k6' },
  runtime: {
    type: 'string',
    description: 'process, container (a Docker engine), or auto (containers when an engine answers)',
  },
  repetitions: { type: 'string', alias: 'r', description: 'repetitions of each trial' },
  out: {
    type: 'string',
    alias: 'o',
    description: 'output directory for run directories (default reports/out)',
  },
  seed: { type: 'string', description: 'seed for arrival jitter and the request mix' },
  set: {
    type: 'string',
    valueHint: 'knob=value',
    description: 'hold a knob at a value (repeatable), e.g. --set max=8',
  },
  quick: { type: 'boolean', description: 'short durations: a fast look, and the CI smoke run' },
  probes: {
    type: 'boolean',
    description: 'tune: then probe leaks, dead connections, slow dependency, draining, FDs, breaker',
  },
  baseline: {
    type: 'string',
    description: 'compare with this run directory or summary.json afterwards; exit 4 on a regression',
  },
  'max-duration': {
    type: 'string',
    valueHint: '45m',
    description: 'stop the whole run after this long (90s, 45m, 2h); it can then be resumed',
  },
  json: {
    type: 'boolean',
    description: 'print the outcome as JSON on stdout (progress still goes to stderr)',
  },
} as const;

/** The flag names each command accepts, for rejecting unknown ones. */
export type ArgSpec = Readonly<Record<string, { readonly type: string; readonly alias?: string }>>;

/**
 * Rejects flags a command does not define (citty ignores them), suggesting the nearest. `--help`,
 * `-h`, `--version` and `--no-*` forms of booleans are allowed.
 */
export function checkFlags(rawArgs: readonly string[], spec: ArgSpec): void {
  const known = new Set(['help', 'h', 'version', 'v']);
  for (const [name, def] of Object.entries(spec)) {
    known.add(name);
    if (def.alias !== undefined) known.add(def.alias);
    if (def.type === 'boolean') known.add(`no-${name}`);
  }
  for (const arg of rawArgs) {
    if (arg === '--') break;
    const match = /^--?([^=]+)/.exec(arg);
    if (match === null || /^-\d/.test(arg)) continue;
    const name = match[1] ?? '';
    if (!known.has(name)) {
      const names = Object.keys(spec).map((n) => `--${n}`);
      throw usageError(
        `unknown option ${arg.split('=')[0]}`,
        names.length > 0 ? `options: ${names.join(', ')}` : 'this command takes no options',
      );
    }
  }
}

/** Every value given to a repeatable string flag such as `--set a=1 --set b=2`. */
export function repeated(rawArgs: readonly string[], name: string): string[] {
  const values: string[] = [];
  rawArgs.forEach((arg, i) => {
    if (arg === `--${name}`) {
      const next = rawArgs[i + 1];
      if (next === undefined || next.startsWith('--'))
        throw usageError(`--${name} needs a value`, `e.g. --${name} max=8`);
      values.push(next);
    } else if (arg.startsWith(`--${name}=`)) values.push(arg.slice(name.length + 3));
  });
  return values;
}

/** The config flags given to `tune` or `run`, read from citty's parsed args and (for `--set`) argv. */
export function configFlags(
  args: Readonly<Record<string, unknown>>,
  rawArgs: readonly string[],
): ConfigFlags {
  const text = (name: string) => (typeof args[name] === 'string' ? (args[name] as string) : undefined);
  const set: Record<string, string> = {};
  for (const pair of repeated(rawArgs, 'set')) {
    const at = pair.indexOf('=');
    if (at <= 0) throw usageError(`--set ${pair}: expected knob=value`, 'e.g. --set max=8');
    set[pair.slice(0, at)] = pair.slice(at + 1);
  }
  return {
    target: text('target'),
    scenario: text('scenario'),
    driver: text('driver'),
    runtime: text('runtime'),
    repetitions: text('repetitions'),
    seed: text('seed'),
    out: text('out'),
    quick: args.quick === true,
    probes: args.probes === true,
    maxDuration: text('max-duration'),
    set,
  };
}
