import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { targetSchema } from '../../harness/config/schema.ts';
import { ExitCode, type PooltuneError } from '../../harness/errors.ts';
import { startTarget } from '../../harness/runtime/process-runtime.ts';
import { system } from '../helpers/system.ts';

const fixtures = path.resolve('test/fixtures/targets');
const options = {
  env: { PATH: process.env.PATH ?? '' },
  tmpDir: os.tmpdir(),
  node: process.execPath,
  packageRoot: path.resolve('.'),
  baseDir: fixtures,
  system,
};

// A target described the way a user describes their own: a process configured by a rendered file.
const target = targetSchema.parse({
  name: 'configured',
  entry: 'api',
  services: {
    api: {
      command: '{{node}}',
      args: ['config-file-server.mjs', '{{configFile}}'],
      cwd: '.',
      env: { GREETING: 'hello from {{knobs.mode}}' },
      configFile: { template: 'server.conf.hbs', name: 'server.conf' },
      readiness: { http: '/', timeoutMs: 10_000 },
    },
  },
  knobs: {
    size: { type: 'int', min: 1, max: 64, default: 4 },
    mode: { type: 'enum', values: ['session', 'transaction'], default: 'session' },
  },
});

async function settingsOf(url: string): Promise<{ settings: Record<string, string>; env: string }> {
  return (await (await fetch(url)).json()) as { settings: Record<string, string>; env: string };
}

describe('a user-described target', () => {
  it('renders its config file and env from the knob values, and restarts it when they change', async () => {
    await using started = await startTarget(target, { size: 4, mode: 'session' }, options);
    const first = await settingsOf(started.entry().url);
    expect(first.settings).toMatchObject({
      pool_size: '4',
      mode: 'session',
      port: String(started.entry().port),
    });
    expect(first.env).toBe('hello from session');

    expect(await started.apply({ size: 16, mode: 'transaction' })).toEqual(['api']);
    const second = await settingsOf(started.entry().url);
    expect(second.settings).toMatchObject({ pool_size: '16', mode: 'transaction' });
    expect(second.env).toBe('hello from transaction');
  });

  it('names the service and field when a template uses an unknown name', async () => {
    const broken = targetSchema.parse({
      ...target,
      services: { api: { command: '{{node}}', args: ['{{knobs.sise}}'] } },
    });
    const error = (await startTarget(broken, { size: 4, mode: 'session' }, options).catch(
      (e: unknown) => e,
    )) as PooltuneError;
    expect(error.exitCode).toBe(ExitCode.usage);
    expect(error.message).toContain('services.api.args.0');
    expect(error.message).toContain('knobs.sise');
  });
});
