import { describe, expect, it } from 'vitest';
import { isPooltuneError } from '../../harness/errors.ts';
import { chooseRuntime } from '../../harness/runtime/choose-runtime.ts';

// The engine probe is the one stand-in here: whether an engine answers is the input under test.
const answering = () => Promise.resolve({ ok: true as const, version: '20.10.24' });
const silent = () => Promise.resolve({ ok: false as const, reason: 'connect ENOENT /var/run/docker.sock' });

describe('chooseRuntime', () => {
  it('auto picks containers when an engine answers and processes when none does, saying why', async () => {
    expect(await chooseRuntime('auto', answering)).toEqual({
      runtime: 'container',
      reason: 'runtime "auto": a Docker engine answered (Docker 20.10.24)',
    });
    const fallback = await chooseRuntime('auto', silent);
    expect(fallback.runtime).toBe('process');
    expect(fallback.reason).toContain('ENOENT /var/run/docker.sock');
  });

  it('process never asks for an engine', async () => {
    let asked = false;
    const probe = () => {
      asked = true;
      return answering();
    };
    expect((await chooseRuntime('process', probe)).runtime).toBe('process');
    expect(asked).toBe(false);
  });

  it('container without an engine is a usage error with a hint (exit 2)', async () => {
    const error = await chooseRuntime('container', silent).catch((e: unknown) => e);
    expect(isPooltuneError(error) && error.exitCode).toBe(2);
    expect(isPooltuneError(error) && error.hint).toContain('--runtime process');
  });
});
