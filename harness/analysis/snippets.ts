/** Recommended pool settings in milliseconds (and a size), whatever the library calls them. */
export interface PoolSettings {
  readonly size?: number;
  readonly idleTimeoutMs?: number;
  readonly connectTimeoutMs?: number;
  readonly maxLifetimeMs?: number;
  readonly readTimeoutMs?: number;
}

/** Ready-to-paste config for one system. */
export interface Snippet {
  readonly label: string;
  readonly language: 'ts' | 'properties' | 'ini' | 'sh' | 'haproxy' | 'yaml';
  readonly code: string;
}

const seconds = (ms: number) => Math.max(1, Math.round(ms / 1000));

function lines(
  entries: readonly (readonly [string, number | undefined])[],
  format: (key: string, value: number) => string,
): string[] {
  return entries
    .filter((entry): entry is [string, number] => entry[1] !== undefined)
    .map(([key, value]) => format(key, value));
}

/** node-postgres `Pool` options. It has no lifetime jitter: stagger instance start-up, or accept the wave. */
export function nodePostgresSnippet(s: PoolSettings): Snippet {
  const body = lines(
    [
      ['max', s.size],
      ['idleTimeoutMillis', s.idleTimeoutMs],
      ['connectionTimeoutMillis', s.connectTimeoutMs],
      ['maxLifetimeSeconds', s.maxLifetimeMs === undefined ? undefined : seconds(s.maxLifetimeMs)],
      ['statement_timeout', s.readTimeoutMs],
    ],
    (key, value) => `  ${key}: ${value},`,
  );
  return {
    label: 'node-postgres Pool',
    language: 'ts',
    code: `new Pool({\n  connectionString: process.env.DATABASE_URL,\n${body.join('\n')}\n});`,
  };
}

/** undici `Pool` options for an HTTP upstream. */
export function undiciSnippet(s: PoolSettings): Snippet {
  const body = lines(
    [
      ['connections', s.size],
      ['keepAliveTimeout', s.idleTimeoutMs],
      ['headersTimeout', s.readTimeoutMs],
      ['bodyTimeout', s.readTimeoutMs],
      ['clientTtl', s.maxLifetimeMs],
    ],
    (key, value) => `  ${key}: ${value},`,
  );
  const connect = s.connectTimeoutMs === undefined ? '' : `\n  connect: { timeout: ${s.connectTimeoutMs} },`;
  return {
    label: 'undici Pool',
    language: 'ts',
    code: `new Pool(origin, {\n${body.join('\n')}${connect}\n});`,
  };
}

/** HikariCP properties (milliseconds). */
export function hikariSnippet(s: PoolSettings): Snippet {
  const body = lines(
    [
      ['maximumPoolSize', s.size],
      ['minimumIdle', s.size],
      ['idleTimeout', s.idleTimeoutMs === undefined ? undefined : Math.max(10_000, s.idleTimeoutMs)],
      ['connectionTimeout', s.connectTimeoutMs === undefined ? undefined : Math.max(250, s.connectTimeoutMs)],
      ['maxLifetime', s.maxLifetimeMs === undefined ? undefined : Math.max(30_000, s.maxLifetimeMs)],
    ],
    (key, value) => `${key}=${value}`,
  );
  return { label: 'HikariCP', language: 'properties', code: body.join('\n') };
}

/** pgBouncer `[pgbouncer]` settings (seconds), when the pool sits in pgBouncer instead of the app. */
export function pgbouncerSnippet(s: PoolSettings): Snippet {
  const body = lines(
    [
      ['default_pool_size', s.size],
      ['server_idle_timeout', s.idleTimeoutMs === undefined ? undefined : seconds(s.idleTimeoutMs)],
      ['query_wait_timeout', s.connectTimeoutMs === undefined ? undefined : seconds(s.connectTimeoutMs)],
      ['server_lifetime', s.maxLifetimeMs === undefined ? undefined : seconds(s.maxLifetimeMs)],
    ],
    (key, value) => `${key} = ${value}`,
  );
  return { label: 'pgBouncer', language: 'ini', code: `[pgbouncer]\n${body.join('\n')}` };
}

/** HAProxy `defaults` settings (milliseconds), when the pool is HAProxy's per-server maxconn. */
export function haproxySnippet(s: PoolSettings): Snippet {
  const body = lines(
    [
      ['timeout connect', s.connectTimeoutMs],
      // Unset, timeout queue follows timeout connect (what was measured); written out in case a config sets it.
      ['timeout queue', s.connectTimeoutMs],
      ['timeout server', s.readTimeoutMs],
      ['timeout http-keep-alive', s.idleTimeoutMs],
      ['default-server maxconn', s.size],
    ],
    (key, value) => `  ${key} ${key.startsWith('timeout') ? `${value}ms` : value}`,
  );
  // HAProxy puts no time limit on a server connection's life (pool-purge-delay retires idle ones).
  return { label: 'HAProxy', language: 'haproxy', code: `defaults\n${body.join('\n')}` };
}

/**
 * Envoy cluster settings for an HTTP upstream pool: the circuit breaker's thresholds cap connections,
 * queued and in-flight requests; the HTTP protocol options carry the idle timeout and the lifetime.
 * Envoy queues up to `max_pending_requests` when every connection is busy: the pool size again, so the
 * queue never outgrows what the pool drains in one round.
 */
export function envoySnippet(s: PoolSettings): Snippet {
  const duration = (ms: number | undefined) => (ms === undefined ? undefined : `${ms / 1000}s`);
  const thresholds = [
    ['max_connections', s.size],
    ['max_pending_requests', s.size],
    ['max_requests', s.size],
  ] as const;
  const options = [
    ['idle_timeout', duration(s.idleTimeoutMs)],
    ['max_connection_duration', duration(s.maxLifetimeMs)],
  ] as const;
  const code = [
    'clusters:',
    '- name: upstream',
    ...(s.connectTimeoutMs === undefined ? [] : [`  connect_timeout: ${duration(s.connectTimeoutMs)}`]),
    '  circuit_breakers:',
    '    thresholds:',
    '    - priority: DEFAULT',
    ...thresholds.filter(([, v]) => v !== undefined).map(([k, v]) => `      ${k}: ${v}`),
    '  typed_extension_protocol_options:',
    '    envoy.extensions.upstreams.http.v3.HttpProtocolOptions:',
    "      '@type': type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions",
    '      common_http_protocol_options:',
    ...options.filter(([, v]) => v !== undefined).map(([k, v]) => `        ${k}: ${v}`),
    '      explicit_http_config:',
    '        http_protocol_options: {}',
  ];
  return { label: 'Envoy cluster', language: 'yaml', code: code.join('\n') };
}

/** Environment variables of the target's service whose templates read the given knob values. */
export function envSnippet(
  env: Readonly<Record<string, string>>,
  knobs: Readonly<Record<string, number>>,
): Snippet {
  const body = Object.entries(env).flatMap(([key, template]) => {
    const match = /^\{\{\s*knobs\.([A-Za-z0-9_]+)\s*\}\}$/.exec(template);
    const value = match?.[1] === undefined ? undefined : knobs[match[1]];
    return value === undefined ? [] : [`${key}=${value}`];
  });
  return { label: 'environment', language: 'sh', code: body.join('\n') };
}

/** Every snippet for a pool's kind of connection (database or HTTP), its own library's first. */
export function snippetsFor(
  library: string,
  settings: PoolSettings,
  env: Readonly<Record<string, string>>,
  knobs: Readonly<Record<string, number>>,
): Snippet[] {
  const database = [nodePostgresSnippet(settings), hikariSnippet(settings), pgbouncerSnippet(settings)];
  const http = [undiciSnippet(settings), haproxySnippet(settings), envoySnippet(settings)];
  const own: Record<string, string> = {
    'node-postgres': 'node-postgres Pool',
    undici: 'undici Pool',
    hikaricp: 'HikariCP',
    pgbouncer: 'pgBouncer',
    haproxy: 'HAProxy',
  };
  const family = ['undici', 'haproxy'].includes(library)
    ? http
    : library === 'generic'
      ? [...database, ...http]
      : database;
  const first = family.filter((snippet) => snippet.label === own[library]);
  const envSnip = envSnippet(env, knobs);
  return [
    ...first,
    ...(envSnip.code === '' ? [] : [envSnip]),
    ...family.filter((snippet) => !first.includes(snippet)),
  ];
}
