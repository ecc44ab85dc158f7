import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../harness/cli/main.ts';
import { ExitCode } from '../../harness/errors.ts';
import { fakeHost } from '../helpers/fake-host.ts';

let dir = '';
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'pooltune-cli-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function cli(argv: string[], env?: Record<string, string | undefined>) {
  const host = fakeHost(argv, { cwd: dir, ...(env === undefined ? {} : { env }) });
  const code = await main(host);
  return { code, out: host.out(), err: host.err() };
}

/** A user error is one `error:` line (plus listed details) and a hint, never a stack trace. */
function expectUserError(err: string) {
  expect(err).toMatch(/^error: /);
  expect(err).toMatch(/\nhint: /);
  expect(err).not.toMatch(/\n\s+at /);
}

// One-line user errors (unknown names, bad values, missing files, ...) are in bad-input.test.ts.
describe('pooltune CLI (in-process)', () => {
  it('prints help with the commands and the exit codes', async () => {
    const { code, out } = await cli(['--help']);
    expect(code).toBe(ExitCode.ok);
    for (const command of ['tune', 'run', 'report', 'targets']) expect(out).toContain(command);
    expect(out).toContain('130  interrupted');
    const tune = await cli(['tune', '--help']);
    expect(tune.out).toContain('--quick');
    expect(tune.out).toContain('--set');
  });

  it("names the whole command on a command's usage line (pooltune capacity, pooltune k6 manifest)", async () => {
    const strip = (text: string) =>
      text.replace(new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, 'g'), '');
    expect(strip((await cli(['capacity', '--help'])).out)).toMatch(/USAGE\s+pooltune capacity \[OPTIONS\]/);
    expect(strip((await cli(['k6', 'manifest', '--help'])).out)).toMatch(
      /USAGE\s+pooltune k6 manifest \[OPTIONS\]/,
    );
  });

  it('prints its version', async () => {
    const { code, out } = await cli(['--version']);
    expect(code).toBe(0);
    expect(out.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it('lists every config problem at once from the file, with paths', async () => {
    const file = path.join(dir, 'bad.json');
    await writeFile(file, JSON.stringify({ repetitions: -1, sweep: { factr: 2 }, colour: 'red' }));
    const { code, err } = await cli(['tune', '--config', file]);
    expect(code).toBe(ExitCode.usage);
    expect(err).toContain('invalid config (bad.json): 3 problems');
    expect(err).toContain('repetitions:');
    expect(err).toContain('sweep: unknown key "factr"');
    expect(err).toContain('unknown key "colour"');
    expectUserError(err);
  });

  it('layers env over the file and flags over env', async () => {
    const file = path.join(dir, 'layers.yaml');
    await writeFile(file, 'scenario: stedy\n');
    const fromFile = await cli(['run', '--config', file]);
    expect(fromFile.err).toContain('unknown scenario "stedy"');
    const fromEnv = await cli(['run', '--config', file], { ...process.env, POOLTUNE_SCENARIO: 'brust' });
    expect(fromEnv.err).toContain('unknown scenario "brust"');
    const fromFlag = await cli(['run', '--config', file, '--scenario', 'rmap'], {
      ...process.env,
      POOLTUNE_SCENARIO: 'brust',
    });
    expect(fromFlag.err).toContain('unknown scenario "rmap"');
  });

  it('loads a TypeScript config written with defineConfig', async () => {
    const file = path.join(dir, 'pooltune.config.ts');
    await writeFile(
      file,
      `import { defineConfig } from ${JSON.stringify(path.resolve('harness/index.ts'))};\nexport default defineConfig({ scenario: 'no-such' });\n`,
    );
    const { err } = await cli(['run']);
    expect(err).toContain('unknown scenario "no-such"');
    await rm(file);
  });

  it('lists the bundled targets, also as JSON', async () => {
    const text = await cli(['targets']);
    expect(text.out).toContain('http-pg');
    expect(text.out).toContain('(pool pg: size)');
    const json = await cli(['targets', '--json']);
    const targets = JSON.parse(json.out) as { name: string; knobs: Record<string, unknown> }[];
    expect(targets.map((t) => t.name)).toContain('http-pg');
    expect(Object.keys(targets[0]?.knobs ?? {})).toEqual(
      expect.arrayContaining([
        'max',
        'idleTimeoutMillis',
        'connectionTimeoutMillis',
        'maxLifetimeSeconds',
        'statement_timeout',
      ]),
    );
  });
});
