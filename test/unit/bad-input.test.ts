import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../harness/cli/main.ts';
import { ExitCode, type PooltuneError } from '../../harness/errors.ts';
import { loopbackTarget, remoteTargetProblem } from '../../harness/loopback.ts';
import { freePort } from '../../harness/runtime/ports.ts';
import { fakeHost } from '../helpers/fake-host.ts';

// The catalogue of user mistakes: each must end in exit 2 with one `error:` line naming the field or
// file, one `hint:` line, no stack trace, and nothing left under the output directory that looks like
// a run. Every case runs the real CLI in-process from its own empty working directory.

/** What a case sets up beyond its files: a listening port, say. Disposed after the case. */
interface Prepared {
  readonly args?: readonly string[];
  readonly files?: Readonly<Record<string, string>>;
  readonly dispose?: () => Promise<void>;
}

/** One bad input and the error it must give. */
interface BadInput {
  readonly name: string;
  /** CLI arguments, run from the case's own working directory. */
  readonly args: readonly string[];
  /** Files written into that directory first (a `pooltune.config.json` there is found by default). */
  readonly files?: Readonly<Record<string, string>>;
  /** Environment variables on top of a clean environment (no POOLTUNE_*, CI=true). */
  readonly env?: Readonly<Record<string, string>>;
  /** Prepares state that needs a live resource; its args and files are added to the case's. */
  readonly prepare?: () => Promise<Prepared>;
  /** A substring of the one error line: it names the field, flag, file or directory. */
  readonly error: string;
  /** A substring of the hint line, where the hint itself matters (a suggestion, what to install). */
  readonly hint?: string;
}

/** A `pooltune.config.json` holding `config`. */
function config(value: unknown): Readonly<Record<string, string>> {
  return { 'pooltune.config.json': JSON.stringify(value) };
}

/** A config with a user-described target `mine` whose entry is the service `api` (a process unless `api` says so). */
function target(api: Record<string, unknown>, extra: Record<string, unknown> = {}) {
  return config({
    target: { name: 'mine', entry: 'api', services: { api: { command: '{{node}}', ...api } }, ...extra },
  });
}

/** A config whose entry is an external service at `url`. */
function external(url: string, top: Record<string, unknown> = {}) {
  return config({
    ...top,
    target: { name: 'ext', entry: 'api', services: { api: { kind: 'external', url } } },
  });
}

/** A real run that would start the target: kept short, and on local processes. */
const quickRun = ['run', '--quick', '--repetitions', '1', '--runtime', 'process'];

/** A TCP server on 127.0.0.1 holding a port. */
function listen(): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(server));
  });
}

const cases: readonly BadInput[] = [
  // Commands and flags.
  {
    name: 'an unknown command',
    args: ['tuen'],
    error: 'unknown command "tuen"',
    hint: 'did you mean "tune"?',
  },
  { name: 'an unknown flag', args: ['tune', '--quik'], error: 'unknown option --quik', hint: '--quick' },
  { name: 'a flag that is not a number', args: ['run', '--repetitions', 'abc'], error: 'repetitions' },
  { name: 'a flag out of range', args: ['run', '--repetitions', '0'], error: 'repetitions' },
  { name: 'a seed that is not whole', args: ['run', '--seed', '1.5'], error: 'seed' },
  { name: 'an unknown driver', args: ['run', '--driver', 'wrk'], error: 'driver' },
  { name: 'an unknown runtime', args: ['run', '--runtime', 'vm'], error: 'runtime' },
  { name: '--set without =', args: ['run', '--set', 'max'], error: '--set max: expected knob=value' },
  {
    name: 'a driver that cannot run the scenario',
    args: ['run', '--driver', 'autocannon', '--scenario', 'steady'],
    error: 'driver: autocannon is a closed-model generator',
  },
  // Environment variables.
  {
    name: 'a bad POOLTUNE_RUNTIME',
    args: ['run'],
    env: { POOLTUNE_RUNTIME: 'foo' },
    error: 'runtime (from POOLTUNE_RUNTIME): ',
  },
  {
    name: 'a bad POOLTUNE_REPETITIONS',
    args: ['run'],
    env: { POOLTUNE_REPETITIONS: 'many' },
    error: 'POOLTUNE_REPETITIONS',
  },
  // Config files.
  {
    name: 'a missing config file',
    args: ['tune', '--config', 'nope.ts'],
    error: 'config file not found: nope.ts',
  },
  {
    name: 'a TypeScript config that throws while loading',
    args: ['tune', '--config', 'throws.config.ts'],
    files: { 'throws.config.ts': "throw new Error('boom from config');\nexport default {};\n" },
    error: 'config file throws.config.ts failed to load: boom from config',
  },
  {
    name: 'an ES module config that throws while loading',
    args: ['run', '--config', 'throws.config.mjs'],
    files: { 'throws.config.mjs': "export default (() => { throw new TypeError('bad mjs'); })();\n" },
    error: 'config file throws.config.mjs failed to load: bad mjs',
  },
  {
    name: 'malformed JSON',
    args: ['run'],
    files: { 'pooltune.config.json': '{ "scenario": "steady", }' },
    error: 'config file pooltune.config.json failed to load',
  },
  {
    name: 'malformed YAML',
    args: ['run'],
    files: { 'pooltune.config.yaml': 'scenario: [steady\nknobs: {max: 4\n' },
    error: 'config file pooltune.config.yaml failed to load',
  },
  {
    name: 'a config that is not an object',
    args: ['run'],
    files: { 'pooltune.config.json': '[1, 2]' },
    error: 'config file pooltune.config.json must hold an object',
  },
  // Types, ranges and keys.
  {
    name: 'a string where a number belongs',
    args: ['run'],
    files: config({ repetitions: 'three' }),
    error: 'repetitions: ',
  },
  {
    name: 'a string where a boolean belongs',
    args: ['run'],
    files: config({ quick: 'yes' }),
    error: 'quick: ',
  },
  {
    name: 'a share above 1',
    args: ['run'],
    files: config({ tuning: { slo: { errorRate: 2 } } }),
    error: 'tuning.slo.errorRate: ',
  },
  {
    name: 'an unknown top-level key',
    args: ['run'],
    files: config({ colour: 'red' }),
    error: 'unknown key "colour"',
  },
  {
    name: 'an unknown nested key',
    args: ['run'],
    files: config({ sweep: { factr: 2 } }),
    error: 'sweep: unknown key "factr"',
  },
  {
    name: 'an unknown key in a service',
    args: ['run'],
    files: target({ ports: 8080 }),
    error: 'target.services.api: unknown key "ports"',
  },
  // Durations.
  {
    name: 'a zero readiness timeout',
    args: ['run'],
    files: target({ readiness: { tcp: true, timeoutMs: 0 } }),
    error: 'target.services.api.readiness.timeoutMs',
  },
  {
    name: 'a negative idle cutoff',
    args: ['run'],
    files: config({ tuning: { infraIdleCutoffsMs: [-100] } }),
    error: 'tuning.infraIdleCutoffsMs.0',
  },
  {
    name: 'a zero --max-duration',
    args: ['run', '--max-duration', '0'],
    error: 'maxDuration (from --max-duration)',
  },
  {
    name: 'a negative max duration in the config',
    args: ['run'],
    files: config({ maxDuration: '-5m' }),
    error: 'maxDuration: ',
  },
  {
    name: 'a negative timeout knob',
    args: ['run', '--set', 'connectionTimeoutMillis=-1'],
    error: 'knobs.connectionTimeoutMillis: -1 is below the minimum 0',
  },
  // Names.
  {
    name: 'an unknown target',
    args: ['tune', '--target', 'htp-pg'],
    error: 'target: unknown target "htp-pg" (did you mean "http-pg"?',
  },
  {
    name: 'an unknown scenario',
    args: ['run', '--scenario', 'steddy'],
    error: 'scenario: unknown scenario "steddy" (did you mean "steady"?',
  },
  { name: 'an unknown knob', args: ['run', '--set', 'maxx=8'], error: 'knobs.maxx: unknown knob' },
  {
    name: 'a knob of the wrong type',
    args: ['run', '--set', 'max=lots'],
    error: 'knobs.max: expected a whole number',
  },
  {
    name: 'a knob below its range',
    args: ['run', '--set', 'max=0'],
    error: 'knobs.max: 0 is below the minimum 1',
  },
  {
    name: 'a sweep value above the knob range',
    args: ['tune'],
    files: config({ sweep: { values: [300] } }),
    error: 'sweep.values: 300 is above the maximum 256',
  },
  // More pool than max_connections.
  {
    name: 'a pool size above max_connections minus the reserve',
    args: ['run', '--set', 'max=200'],
    error: 'knobs.max: 200 is more than the database allows',
  },
  {
    name: "a sweep reaching past the database's max_connections",
    args: ['tune'],
    env: { POOLTUNE_MAX_CONNECTIONS: '20' },
    files: config({ sweep: { values: [8, 12, 32] } }),
    error: 'sweep.values: max 32 is more than the database allows (max_connections 20',
  },
  // The target's shape.
  {
    name: 'an entry that is no service',
    args: ['run'],
    files: config({ target: { name: 'mine', entry: 'web', services: { api: { command: 'node' } } } }),
    error: 'target.entry: no service named "web"',
  },
  {
    name: 'a dependency cycle',
    args: quickRun,
    files: config({
      target: {
        name: 'mine',
        entry: 'api',
        services: {
          api: { command: 'node', dependsOn: ['db'] },
          db: { command: 'node', dependsOn: ['api'] },
        },
      },
    }),
    error: 'dependsOn: dependency cycle',
  },
  {
    name: 'a dependency on an unknown service',
    args: quickRun,
    files: target({ dependsOn: ['cache'] }),
    error: 'target.services.api.dependsOn: unknown service "cache"',
  },
  {
    name: 'a template naming an unknown variable',
    args: quickRun,
    files: target({ args: ['server.js', '--port', '{{prot}}'] }),
    error: 'services.api.args.2: template "{{prot}}" failed',
  },
  {
    name: 'a config-file template that does not exist',
    args: quickRun,
    files: target({ configFile: { template: 'missing.hbs', name: 'app.conf' } }),
    error: 'services.api.configFile.template: file not found',
  },
  {
    name: 'a pool naming an unknown knob',
    args: ['tune'],
    files: target(
      {},
      {
        knobs: { max: { type: 'int', min: 1, max: 64, default: 4 } },
        pools: [{ name: 'db', service: 'api', knobs: { size: 'max', idleTimeout: 'idle' } }],
      },
    ),
    error: 'target.pools.0.knobs.idleTimeout: unknown knob',
  },
  // URLs and where load may go.
  {
    name: 'a URL without a scheme',
    args: ['run'],
    files: external('localhost:8080'),
    error: 'target.services.api.url: expected an http:// or https:// URL',
  },
  {
    name: 'a malformed URL',
    args: ['run'],
    files: external('http://[::1'),
    error: 'target.services.api.url: ',
  },
  {
    name: 'a non-loopback target without allowRemote',
    args: ['run'],
    files: external('http://10.1.2.3:8080'),
    error: 'target.services.api.url: http://10.1.2.3:8080 is not a loopback address',
  },
  {
    name: 'allowRemote with an empty allowHosts',
    args: ['run'],
    files: external('http://10.1.2.3:8080', { allowRemote: true }),
    error: 'allowHosts',
  },
  {
    name: 'an allowHosts entry that is a URL',
    args: ['run'],
    files: external('http://10.1.2.3:8080', { allowRemote: true, allowHosts: ['http://10.1.2.3:8080'] }),
    error: 'allowHosts.0: expected a host name or IP address alone',
  },
  {
    name: 'a remote host missing from allowHosts',
    args: ['run'],
    files: external('http://10.1.2.3:8080', { allowRemote: true, allowHosts: ['10.9.9.9'] }),
    error: 'target.services.api.url: host 10.1.2.3 is not in allowHosts',
  },
  {
    name: 'an unreachable target',
    args: quickRun,
    prepare: async () => ({ files: external(`http://127.0.0.1:${await freePort()}`) }),
    error: 'target.services.api.url: nothing answers at http://127.0.0.1:',
  },
  {
    name: 'a port in use',
    args: quickRun,
    prepare: async () => {
      const server = await listen();
      const { port } = server.address() as { port: number };
      return {
        files: target({ args: ['-e', ''], port }),
        dispose: () => new Promise((resolve) => server.close(() => resolve())),
      };
    },
    error: 'service "api" is already in use',
    hint: 'services.api.port',
  },
  // Where pooltune writes, and what it needs installed.
  {
    name: 'an output directory that cannot be created',
    args: ['run', '--out', '/proc/pooltune-out'],
    error: 'cannot write to output directory /proc/pooltune-out',
  },
  {
    name: 'an output directory under a regular file',
    args: ['run', '--out', 'taken/out'],
    files: { taken: 'a file, not a folder\n' },
    error: 'taken/out (ENOTDIR',
  },
  {
    name: 'k6 selected without a binary',
    args: ['run', '--driver', 'k6'],
    env: { PATH: '/nonexistent' },
    error: 'k6 was not found',
    hint: 'POOLTUNE_K6',
  },
  {
    name: 'the container runtime without an engine',
    args: ['run', '--runtime', 'container'],
    env: { DOCKER_HOST: 'unix:///nonexistent/docker.sock' },
    error: 'runtime "container" needs a Docker engine',
    hint: '--runtime process',
  },
  // Runs to compare or re-render.
  { name: 'a baseline that does not exist', args: ['run', '--baseline', 'old-run'], error: 'old-run' },
  {
    name: 'compare with one run',
    args: ['compare', 'only-one'],
    error: 'compare needs a baseline and a current run',
  },
  { name: 'compare with missing dirs', args: ['compare', 'gone-a', 'gone-b'], error: 'gone-a: no such file' },
  { name: 'report on a folder that is no run', args: ['report', '.'], error: 'not a run directory' },
  {
    name: 'report on a run without trials',
    args: ['report', 'run'],
    files: { 'run/manifest.json': readFileSync('test/fixtures/runs/sweep-small/manifest.json', 'utf8') },
    error: 'trials.jsonl',
  },
];

let root = '';
beforeAll(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'pooltune-bad-input-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

/** The environment a case runs in: the real PATH and friends, none of the user's POOLTUNE_* settings. */
function cleanEnv(extra: Readonly<Record<string, string>> = {}): Record<string, string | undefined> {
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !name.startsWith('POOLTUNE_') && name !== 'DOCKER_HOST'),
  );
  return { ...env, CI: 'true', ...extra };
}

/** Every path under `dir`, with folders marked by a trailing slash. */
async function walk(dir: string): Promise<string[]> {
  const found: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) found.push(`${full}/`, ...(await walk(full)));
    else found.push(full);
  }
  return found;
}

/** Paths that look like a run: a run-id folder, a manifest, or a trial log with content. */
async function runLeftovers(dir: string, before: ReadonlySet<string>): Promise<string[]> {
  const leftovers: string[] = [];
  for (const file of await walk(dir)) {
    if (before.has(file)) continue;
    const name = path.basename(file);
    if (/^\d{8}-\d{6}-/.test(name) || name === 'manifest.json') leftovers.push(file);
    else if (name === 'trials.jsonl' && (await stat(file)).size > 0) leftovers.push(file);
  }
  return leftovers;
}

describe('the bad input catalogue', () => {
  it('has at least 30 cases, each named once', () => {
    expect(cases.length).toBeGreaterThanOrEqual(30);
    expect(new Set(cases.map((c) => c.name)).size).toBe(cases.length);
  });

  it.each(cases)('$name: exit 2, one error line naming it, a hint, no stack, no run left', async (bad) => {
    const dir = await mkdtemp(path.join(root, 'case-'));
    const prepared = (await bad.prepare?.()) ?? {};
    try {
      for (const [name, text] of Object.entries({ ...bad.files, ...prepared.files })) {
        await mkdir(path.dirname(path.join(dir, name)), { recursive: true });
        await writeFile(path.join(dir, name), text);
      }
      const before = new Set(await walk(dir));
      const host = fakeHost([...bad.args, ...(prepared.args ?? [])], { cwd: dir, env: cleanEnv(bad.env) });
      const code = await main(host);
      const err = host.err();
      const lines = err.trimEnd().split('\n');
      expect({ code, err }).toMatchObject({ code: ExitCode.usage });
      expect(lines, err).toHaveLength(2);
      expect(lines[0]).toMatch(/^error: \S/);
      expect(lines[0]).toContain(bad.error);
      expect(lines[1]).toMatch(/^hint: \S/);
      expect(lines[1]).toContain(bad.hint ?? 'hint: ');
      expect(err).not.toMatch(/^\s+at /m);
      expect(err).not.toMatch(/\b[A-Z]\w*Error: /);
      expect(host.out()).toBe('');
      expect(await runLeftovers(dir, before)).toEqual([]);
    } finally {
      await prepared.dispose?.();
    }
  });
});

describe('where load may go (decided before any load)', () => {
  const remote = { allowRemote: true, allowHosts: ['db.internal', '10.1.2.3', '[2001:db8::1]'] };

  it('always allows loopback, and nothing else without allowRemote', () => {
    for (const url of ['http://127.0.0.1:80', 'http://127.9.8.7', 'http://[::1]:8080', 'http://localhost']) {
      expect(remoteTargetProblem(url)).toBeUndefined();
      expect(remoteTargetProblem(url, remote)).toBeUndefined();
    }
    // Listed hosts stay refused until allowRemote is true; lookalikes of loopback are not loopback.
    for (const url of ['http://10.1.2.3', 'http://db.internal', 'http://127.0.0.1.example.com']) {
      expect(remoteTargetProblem(url, { ...remote, allowRemote: false })).toContain('not a loopback address');
    }
  });

  it('with allowRemote, allows exactly the listed hosts', () => {
    for (const url of ['http://10.1.2.3:8080', 'https://DB.Internal./x', 'http://[2001:db8::1]:80']) {
      expect(remoteTargetProblem(url, remote)).toBeUndefined();
    }
    for (const url of ['http://10.1.2.4', 'http://api.db.internal', 'http://db.internal.evil.com']) {
      expect(remoteTargetProblem(url, remote)).toMatch(/^host \S+ is not in allowHosts/);
    }
  });

  it('the drivers refuse what the config did not allow, before sending anything', () => {
    const refused = (() => {
      try {
        loopbackTarget('http://10.1.2.3:8080/api');
      } catch (error) {
        return error as PooltuneError;
      }
      return undefined;
    })();
    expect(refused?.exitCode).toBe(ExitCode.usage);
    expect(refused?.message).toContain('is not a loopback address');
    expect(loopbackTarget('http://10.1.2.3:8080/api/', remote)).toEqual({
      url: 'http://10.1.2.3:8080/api/',
      origin: 'http://10.1.2.3:8080',
      pathPrefix: '/api',
    });
  });
});
