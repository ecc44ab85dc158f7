import { describe, expect, it } from 'vitest';
import { validateConfig } from '../../harness/config/layers.ts';
import { geometricValues, isLoopbackUrl, resolvePlan } from '../../harness/config/plan.ts';
import { ExitCode, type PooltuneError } from '../../harness/errors.ts';
import { scenarios } from '../../scenarios/index.ts';
import { bundledTargets } from '../../targets/index.ts';

const catalogue = { targets: bundledTargets, scenarios };

function failure(run: () => unknown): PooltuneError {
  try {
    run();
  } catch (error) {
    return error as PooltuneError;
  }
  throw new Error('expected a usage error');
}

/** Every line the user would see: the message and its details. */
function lines(error: PooltuneError): string[] {
  return [error.message, ...error.details];
}

describe('config validation', () => {
  it('applies defaults to an empty config', () => {
    const config = validateConfig({}, 'test');
    expect(config).toMatchObject({
      target: 'http-pg',
      scenario: 'saturate',
      driver: 'auto',
      repetitions: 3,
      quick: false,
    });
  });

  it('lists every problem at once, each with its path, and rejects unknown keys', () => {
    const error = failure(() =>
      validateConfig(
        { repetitions: 0, driver: 'wrk', sweep: { factor: 'two', colour: 1 }, tagret: 'http-pg' },
        'pooltune.config.json',
      ),
    );
    expect(error.exitCode).toBe(ExitCode.usage);
    const text = lines(error).join('\n');
    expect(error.message).toContain('5 problems');
    expect(text).toContain('repetitions:');
    expect(text).toContain('driver:');
    expect(text).toMatch(/sweep: unknown key "colour"/);
    expect(text).toMatch(/unknown key "tagret"/);
  });

  it('k6.instances: 1 by default; a bad value is named with a hint; unknown k6 keys are rejected', () => {
    expect(validateConfig({}, 'test').k6).toEqual({ instances: 1 });
    expect(validateConfig({ driver: 'k6', k6: { instances: 4 } }, 'test').k6.instances).toBe(4);
    const problem = (instances: unknown) =>
      failure(() => validateConfig({ k6: { instances } }, 'pooltune.config.json')).message;
    expect(problem(0)).toMatch(/k6\.instances: must be at least 1 \(1 = one k6 process/);
    expect(problem(1.5)).toMatch(/k6\.instances: expected a whole number of k6 processes, e.g. 2/);
    expect(problem('two')).toMatch(/k6\.instances: expected a whole number of k6 processes/);
    expect(problem(1_000)).toMatch(
      /k6\.instances: must be at most 64; beyond one machine, use `pooltune k6 manifest`/,
    );
    const unknown = failure(() => validateConfig({ k6: { instance: 2 } }, 'pooltune.config.json'));
    expect(unknown.exitCode).toBe(ExitCode.usage);
    expect(unknown.message).toMatch(/k6: unknown key "instance"/);
    expect(unknown.hint).toContain('docs/configuration.md');
  });

  it('rejects unknown keys inside a user-described target', () => {
    const error = failure(() =>
      resolvePlan(
        validateConfig(
          {
            target: {
              name: 'mine',
              entry: 'api',
              services: { api: { command: 'node', args: ['server.js'], readyness: { tcp: true } } },
            },
          },
          'test',
        ),
        catalogue,
      ),
    );
    expect(lines(error).join('\n')).toContain('readyness');
  });
});

describe('plan resolution', () => {
  const plan = (raw: Record<string, unknown>) => resolvePlan(validateConfig(raw, 'test'), catalogue);

  it('suggests the nearest name for an unknown target or scenario', () => {
    expect(failure(() => plan({ target: 'htp-pg' })).message).toContain('did you mean "http-pg"');
    expect(failure(() => plan({ scenario: 'staedy' })).message).toContain('did you mean "steady"');
  });

  it('rejects knob values out of range and unknown knobs, all at once', () => {
    const error = failure(() => plan({ knobs: { max: 0, idleTimeoutMillis: 'soon', maxx: 3 } }));
    const text = lines(error).join('\n');
    expect(text).toContain('knobs.max: 0 is below the minimum 1');
    expect(text).toContain('knobs.idleTimeoutMillis: expected a whole number');
    expect(text).toContain('unknown knob of target "http-pg": "maxx"');
  });

  it('caps the sweep below max_connections minus the reserve', () => {
    const resolved = plan({ reserveConnections: 5 });
    expect(resolved.sweep?.knob).toBe('max');
    expect(resolved.sweep?.values).toEqual([1, 2, 4, 8, 16, 32, 64]);
    expect(resolved.sweep?.limit).toBe(95);
    expect(failure(() => plan({ sweep: { values: [8, 120] } })).message).toContain(
      'max 120 is more than the database allows (max_connections 100 minus reserveConnections 5 = 95)',
    );
  });

  it('refuses a non-loopback external service', () => {
    const error = failure(() =>
      plan({
        target: {
          name: 'remote',
          entry: 'api',
          services: { api: { kind: 'external', url: 'http://10.1.2.3:8080' } },
        },
      }),
    );
    expect(error.message).toContain(
      'target.services.api.url: http://10.1.2.3:8080 is not a loopback address',
    );
  });

  it('picks the driver from the scenario model and refuses a mismatch', () => {
    expect(plan({ scenario: 'saturate' }).driver).toBe('autocannon');
    expect(plan({ scenario: 'steady' }).driver).toBe('arrival-rate');
    expect(failure(() => plan({ scenario: 'steady', driver: 'autocannon' })).message).toContain(
      'closed-model generator',
    );
  });

  it('holds the target defaults and applies fixed knobs', () => {
    expect(plan({ knobs: { max: 7 } }).knobs).toMatchObject({
      max: 7,
      idleTimeoutMillis: 10_000,
      connectionTimeoutMillis: 5_000,
    });
  });
});

describe('helpers', () => {
  it('recognises loopback URLs only', () => {
    expect(isLoopbackUrl('http://127.0.0.1:3000')).toBe(true);
    expect(isLoopbackUrl('http://127.9.8.7')).toBe(true);
    expect(isLoopbackUrl('http://[::1]:80')).toBe(true);
    expect(isLoopbackUrl('http://localhost')).toBe(true);
    expect(isLoopbackUrl('http://192.168.1.2')).toBe(false);
    expect(isLoopbackUrl('http://127.0.0.1.example.com')).toBe(false);
  });

  it('builds geometric series', () => {
    expect(geometricValues(1, 2, 40)).toEqual([1, 2, 4, 8, 16, 32]);
    expect(geometricValues(1, 1.5, 10)).toEqual([1, 2, 3, 5, 8]);
  });
});

describe('pool size against max_connections', () => {
  it("takes the database's max_connections from config and caps the sweep below it", () => {
    const plan = resolvePlan(
      validateConfig({ maxConnections: 20, reserveConnections: 4 }, 'test'),
      catalogue,
    );
    expect(plan.sweep?.values).toEqual([1, 2, 4, 8, 16]);
    const db = plan.target.services.db;
    expect(db?.kind === 'postgres' ? db.maxConnections : undefined).toBe(20);
  });

  it('refuses a fixed pool size above max_connections minus the reserve', () => {
    const error = failure(() => resolvePlan(validateConfig({ knobs: { max: 99 } }, 'test'), catalogue));
    expect(error.message).toContain('knobs.max: 99 is more than the database allows');
  });
});
