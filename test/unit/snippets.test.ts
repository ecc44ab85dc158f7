import { describe, expect, it } from 'vitest';
import {
  envoySnippet,
  envSnippet,
  haproxySnippet,
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

  it('renders HAProxy defaults and an Envoy cluster for HTTP upstream pools', () => {
    expect(haproxySnippet(settings).code).toBe(
      'defaults\n  timeout connect 400ms\n  timeout queue 400ms\n  timeout server 1000ms\n  timeout http-keep-alive 30000ms\n  default-server maxconn 12',
    );
    const envoy = envoySnippet(settings).code;
    expect(envoy).toContain('  connect_timeout: 0.4s');
    expect(envoy).toContain(
      '    - priority: DEFAULT\n      max_connections: 12\n      max_pending_requests: 12\n      max_requests: 12',
    );
    expect(envoy).toContain('        idle_timeout: 30s\n        max_connection_duration: 1800s');
    // Unknown settings are left out rather than guessed.
    expect(envoySnippet({ size: 4 }).code).not.toMatch(
      /idle_timeout|connect_timeout|max_connection_duration/,
    );
  });

  it('offers database snippets for database pools and HTTP ones for HTTP pools', () => {
    const labels = (library: string) => snippetsFor(library, settings, {}, {}).map((s) => s.label);
    expect(labels('haproxy')).toEqual(['HAProxy', 'undici Pool', 'Envoy cluster']);
    expect(labels('undici')).toEqual(['undici Pool', 'HAProxy', 'Envoy cluster']);
    expect(labels('hikaricp')).toEqual(['HikariCP', 'node-postgres Pool', 'pgBouncer']);
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
