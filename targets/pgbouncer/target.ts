import type { TargetInput } from '../../harness/config/schema.ts';
import { httpPg } from '../http-pg/target.ts';
import { pgbouncerSeries } from './admin-console.ts';

type ServiceInput = TargetInput['services'][string];
/** A process service as written in a target (defaults not applied). */
export type ProcessServiceInput = Extract<ServiceInput, { command: string }>;

/** The process service `name` of a target; anything else is a bug in the target's definition. */
export function processService(target: TargetInput, name: string): ProcessServiceInput {
  const service = target.services[name];
  if (service === undefined || !('command' in service)) {
    throw new Error(`target ${target.name} has no process service "${name}"`);
  }
  return service;
}

const httpPgApp = processService(httpPg, httpPg.entry);
const httpPgPool = httpPg.pools?.[0];
if (httpPgPool === undefined) throw new Error('target http-pg has no pool');
// The app sends no statement_timeout (see appService), so its pool has no read timeout here.
const { readTimeout: _statementTimeout, ...appPoolKnobs } = httpPgPool.knobs;

/** pgBouncer's figures as the app exposes them: label (pgBouncer's own name) → gauge series. */
export const nativeGauges: Readonly<Record<string, string>> = pgbouncerSeries;

/**
 * The app (http-pg's server, its node-postgres pool now connecting through the pgBouncer service
 * `bouncer`), exposing pgBouncer's figures next to its own pool's. The user is the one pooltune's
 * PostgreSQL is created with; pgBouncer lets it in without a password (auth_type trust, loopback only).
 */
export function appService(bouncer: string): ProcessServiceInput {
  const at = `postgres://pooltune@127.0.0.1:{{services.${bouncer}.port}}`;
  return {
    ...httpPgApp,
    args: ['--import', 'tsx', '{{packageRoot}}/targets/pgbouncer/server.ts'],
    env: {
      ...httpPgApp.env,
      DATABASE_URL: `${at}/postgres`,
      PGBOUNCER_ADMIN_URL: `${at}/pgbouncer`,
      // pgBouncer 1.18 refuses startup parameters it does not track (statement_timeout among them), and
      // a session-level SET would leak between clients under transaction pooling: send none.
      PG_STATEMENT_TIMEOUT_MS: '0',
    },
    metrics: { path: '/metrics', native: nativeGauges },
    dependsOn: [bouncer],
  };
}

/** pgBouncer (Debian's package) in front of the PostgreSQL service `db`, its config rendered from the knobs. */
export function bouncerService(db: string): ProcessServiceInput {
  return {
    command: 'sh',
    args: ['{{packageRoot}}/targets/pgbouncer/start-pgbouncer.sh', '{{configFile}}'],
    env: { PGBOUNCER_SERVER_URL: `{{services.${db}.url}}` },
    configFile: { template: '{{packageRoot}}/targets/pgbouncer/pgbouncer.ini.hbs', name: 'pgbouncer.ini' },
    readiness: { log: 'process up: PgBouncer', timeoutMs: 15_000 },
    dependsOn: [db],
  };
}

/**
 * A small HTTP app → pgBouncer → PostgreSQL. Two pools are tuned: pgBouncer's server pool (its knobs in
 * seconds, pgBouncer's own unit) and the app's node-postgres pool, which now sizes against pgBouncer.
 * pgBouncer's pool comes first: its size is the one PostgreSQL's max_connections bounds.
 */
export const pgbouncer: TargetInput = {
  name: 'pgbouncer',
  description: 'Node HTTP API → pgBouncer (Debian package) → embedded PostgreSQL',
  entry: 'api',
  requires: [{ command: 'pgbouncer', package: 'pgbouncer' }],
  pools: [
    {
      name: 'pgbouncer',
      service: 'bouncer',
      library: 'pgbouncer',
      knobs: {
        size: 'default_pool_size',
        idleTimeout: 'server_idle_timeout',
        connectTimeout: 'query_wait_timeout',
        maxLifetime: 'server_lifetime',
      },
    },
    { ...httpPgPool, name: 'app', knobs: appPoolKnobs },
  ],
  services: {
    db: { kind: 'postgres', maxConnections: 100 },
    bouncer: bouncerService('db'),
    api: appService('bouncer'),
  },
  knobs: {
    default_pool_size: {
      type: 'int',
      description: 'pgBouncer: server connections per database and user',
      unit: 'connections',
      min: 1,
      max: 256,
      scale: 'log',
      default: 20,
    },
    max_client_conn: {
      type: 'int',
      description:
        'pgBouncer: most client connections it accepts (every app instance × its pool size, and more)',
      unit: 'connections',
      min: 1,
      max: 10_000,
      default: 100,
    },
    pool_mode: {
      type: 'enum',
      description:
        'pgBouncer: when a server connection goes back to the pool (transaction: after each transaction)',
      values: ['session', 'transaction'],
      default: 'transaction',
    },
    server_idle_timeout: {
      type: 'int',
      description: 'pgBouncer: an idle server connection is closed after this long (0 = never)',
      unit: 's',
      min: 0,
      max: 86_400,
      default: 600,
    },
    server_lifetime: {
      type: 'int',
      description: 'pgBouncer: an unused server connection older than this is closed (0 = after one use)',
      unit: 's',
      min: 0,
      max: 86_400,
      default: 3_600,
    },
    query_wait_timeout: {
      type: 'int',
      description: 'pgBouncer: a client waiting longer than this for a server is disconnected (0 = never)',
      unit: 's',
      min: 0,
      max: 3_600,
      default: 120,
    },
    ...Object.fromEntries(
      Object.values(appPoolKnobs).flatMap((name) => {
        const knob = name === undefined ? undefined : httpPg.knobs?.[name];
        return name === undefined || knob === undefined ? [] : [[name, knob]];
      }),
    ),
  },
};
