import type { TargetInput } from '../../harness/config/schema.ts';

/** HikariCP's own pool figures as the service exposes them: label → gauge series (HikariCP's names). */
export const nativeGauges: Readonly<Record<string, string>> = {
  active: 'hikaricp_active_connections',
  idle: 'hikaricp_idle_connections',
  pending: 'hikaricp_pending_threads',
  total: 'hikaricp_connections',
};

/**
 * A Java HTTP service (the JDK's built-in server) with one HikariCP pool against an embedded PostgreSQL:
 * the pool the guide's "cores × 2" starting point was written for. HikariCP, the JDBC driver and slf4j come
 * from Debian's packages; run.sh compiles the service with javac at start-up (there is no Maven registry
 * here) and fails naming the package when a jar is missing. The knobs are HikariCP's property names, in
 * its units (ms), rendered into a hikari.properties file, and their ranges start at HikariCP's minimums.
 * Debian's HikariCP is 2.7.9: it has no `keepaliveTime` (added in 4.0.1), so there is no knob for it.
 */
export const hikari: TargetInput = {
  name: 'hikari',
  description: 'Java HTTP service (JDK HttpServer) with a HikariCP 2.7 pool against an embedded PostgreSQL',
  entry: 'api',
  requires: [
    { command: 'java', package: 'default-jdk-headless' },
    { command: 'javac', package: 'default-jdk-headless' },
    { file: '/usr/share/java/HikariCP.jar', package: 'libhikaricp-java' },
    { file: '/usr/share/java/postgresql.jar', package: 'libpostgresql-jdbc-java' },
    { file: '/usr/share/java/slf4j-api.jar', package: 'libslf4j-java' },
  ],
  pools: [
    {
      name: 'hikari',
      service: 'api',
      library: 'hikaricp',
      knobs: {
        size: 'maximumPoolSize',
        idleTimeout: 'idleTimeout',
        connectTimeout: 'connectionTimeout',
        maxLifetime: 'maxLifetime',
      },
    },
  ],
  services: {
    db: { kind: 'postgres', maxConnections: 100 },
    api: {
      command: 'sh',
      args: ['{{packageRoot}}/targets/hikari/run.sh', '{{configFile}}'],
      env: { PORT: '{{port}}', DATABASE_URL: '{{services.db.url}}' },
      configFile: {
        template: '{{packageRoot}}/targets/hikari/hikari.properties.hbs',
        name: 'hikari.properties',
      },
      // javac (first start only) and the JVM's start are slow on a busy 2-core machine.
      readiness: { http: '/healthz', timeoutMs: 60_000 },
      metrics: { path: '/metrics', native: nativeGauges },
      dependsOn: ['db'],
    },
  },
  knobs: {
    maximumPoolSize: {
      type: 'int',
      description: 'pool size: most connections HikariCP holds, in use or idle',
      unit: 'connections',
      min: 1,
      max: 256,
      scale: 'log',
      default: 10,
    },
    minimumIdle: {
      type: 'int',
      description:
        'idle connections HikariCP keeps ready; -1 leaves it unset, which HikariCP makes equal to maximumPoolSize (a fixed-size pool, its recommendation)',
      unit: 'connections',
      min: -1,
      max: 256,
      default: -1,
    },
    connectionTimeout: {
      type: 'int',
      description:
        'longest wait in getConnection() for a connection, queueing or connecting, before SQLTransientConnectionException (HikariCP: at least 250 ms; its 0 = forever is left out)',
      unit: 'ms',
      min: 250,
      max: 600_000,
      default: 30_000,
    },
    idleTimeout: {
      type: 'int',
      description:
        'an idle connection above minimumIdle is retired after this long, checked every 30 s (so never with a fixed-size pool); HikariCP replaces values under 10 s with 10 min, and disables it within 1 s of maxLifetime',
      unit: 'ms',
      min: 10_000,
      max: 3_600_000,
      default: 600_000,
    },
    maxLifetime: {
      type: 'int',
      description:
        'a connection is retired after this long, once idle (HikariCP: at least 30 s, values under it become 30 min; its 0 = never is left out). HikariCP 2.7.9 has no keepaliveTime (4.0.1 added it), so this is the only guard against idle cutoffs on the path',
      unit: 'ms',
      min: 30_000,
      max: 86_400_000,
      default: 1_800_000,
    },
  },
};
