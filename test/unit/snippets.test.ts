import { describe, expect, it } from 'vitest';
import {
  envSnippet,
  hikariSnippet,
  nodePostgresSnippet,
  pgbouncerSnippet,
  snippetsFor,
  undiciSnippet,
} from '../../harness/analysis/snippets.ts';

const settings = {
  size: 12,
  idleTimeoutMs: 30_000,
  connectTimeoutMs: 400,
  maxLifetimeMs: 1_800_000,
  readTimeoutMs: 1_000,
};

describe('config snippets', () => {
  it('renders each library in its own names and units', () => {
    expect(nodePostgresSnippet(settings).code).toContain(
      'max: 12,\n  idleTimeoutMillis: 30000,\n  connectionTimeoutMillis: 400,\n  maxLifetimeSeconds: 1800,\n  statement_timeout: 1000,',
    );
    expect(undiciSnippet(settings).code).toContain('connections: 12,');
    expect(undiciSnippet(settings).code).toContain('connect: { timeout: 400 }');
    expect(hikariSnippet(settings).code).toBe(
      'maximumPoolSize=12\nminimumIdle=12\nidleTimeout=30000\nconnectionTimeout=400\nmaxLifetime=1800000',
    );
    expect(pgbouncerSnippet(settings).code).toBe(
      '[pgbouncer]\ndefault_pool_size = 12\nserver_idle_timeout = 30\nquery_wait_timeout = 1\nserver_lifetime = 1800',
    );
  });

  it('writes env vars only for templates that read a knob', () => {
    const env = { PG_POOL_MAX: '{{knobs.max}}', PORT: '{{port}}', DATABASE_URL: '{{services.db.url}}' };
    expect(envSnippet(env, { max: 12 }).code).toBe('PG_POOL_MAX=12');
  });

  it("puts the pool's own library first", () => {
    expect(snippetsFor('undici', settings, {}, {})[0]?.label).toBe('undici Pool');
    expect(
      snippetsFor('node-postgres', settings, { A: '{{knobs.max}}' }, { max: 1 })
        .map((s) => s.label)
        .slice(0, 2),
    ).toEqual(['node-postgres Pool', 'environment']);
  });
});
