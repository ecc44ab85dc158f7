import type { TargetInput } from '../../harness/config/schema.ts';

// Each upstream is the http-upstream target's upstream service (targets/http-upstream/upstream.ts) over
// plain HTTP. Its WORK_MS delay stands in for an I/O wait, so how many requests a server may hold at once
// (maxconn) decides throughput, as it does for a real application server behind HAProxy. Idle
// connections are never closed by the upstream (0): HAProxy's own idle pool (pool-purge-delay) retires
// them, so no request races an upstream-side close.
const upstream = {
  command: '{{node}}',
  args: ['--import', 'tsx', '{{packageRoot}}/targets/http-upstream/upstream.ts'],
  cwd: '{{packageRoot}}',
  env: { PORT: '{{port}}', WORK_MS: '10', UPSTREAM_KEEP_ALIVE_MS: '0' },
  readiness: { http: '/healthz', timeoutMs: 30_000 },
};

/**
 * The bundled HAProxy target: Debian's `haproxy` (2.6) in front of two instances of a small Node
 * upstream, with haproxy.cfg rendered from the knobs. Its pool is HAProxy's: `maxconn` per server caps
 * the requests in flight on each upstream, and the rest wait in HAProxy's queue.
 *
 * Figures come from HAProxy's built-in Prometheus exporter on the same frontend (`/metrics`):
 * - native, by HAProxy's own stats names (each summed over the servers or the one backend):
 *   `qcur` requests queued in HAProxy for a free slot (`haproxy_backend_current_queue`: with
 *   round-robin and no persistence nothing is queued on a single server), `scur` requests in flight on
 *   the servers, each holding one maxconn slot (`haproxy_server_current_sessions`), `used_conn_cur` and
 *   `idle_conn_cur` server connections in use and idle in HAProxy's reuse pool, and the counters
 *   `connect` (server connections opened) and `reuse` (requests sent over an existing connection),
 *   cumulative since HAProxy started;
 * - the pool's connections opened (the idle-timeout step's churn): server connections HAProxy opened
 *   (`haproxy_backend_connection_attempts_total`; with http-reuse never or safe it rises as
 *   timeout http-keep-alive closes client connections).
 * The generic pool gauges (total, idle, waiting) are left unmapped on purpose: HAProxy's maxconn caps
 * requests per server, not connections (idle connections come on top of it), and the exporter sums over
 * servers, so no series means "connections held, at most the size knob" and the checks built on it
 * (pool use against the size, more connections than the maximum) would be wrong.
 */
export const haproxy: TargetInput = {
  name: 'haproxy',
  description: "Debian's HAProxy in front of two Node upstreams; haproxy.cfg rendered from the knobs",
  entry: 'haproxy',
  requires: [{ command: 'haproxy', package: 'haproxy' }],
  pools: [
    {
      name: 'upstreams',
      service: 'haproxy',
      library: 'haproxy',
      knobs: {
        size: 'maxconn',
        idleTimeout: 'timeout_http_keep_alive',
        connectTimeout: 'timeout_connect',
        readTimeout: 'timeout_server',
      },
    },
  ],
  services: {
    upstream1: upstream,
    upstream2: upstream,
    haproxy: {
      command: 'haproxy',
      // -db: foreground, no daemon and no master process, so pooltune owns the process that serves.
      args: ['-db', '-f', '{{configFile}}'],
      configFile: { template: '{{packageRoot}}/targets/haproxy/haproxy.cfg.hbs', name: 'haproxy.cfg' },
      readiness: { http: '/healthz', timeoutMs: 30_000 },
      metrics: {
        path: '/metrics',
        pool: { connectionsOpened: 'haproxy_backend_connection_attempts_total' },
        native: {
          qcur: 'haproxy_backend_current_queue',
          scur: 'haproxy_server_current_sessions',
          used_conn_cur: 'haproxy_server_used_connections_current',
          idle_conn_cur: 'haproxy_server_idle_connections_current',
          connect: 'haproxy_backend_connection_attempts_total',
          reuse: 'haproxy_backend_connection_reuses_total',
        },
      },
      dependsOn: ['upstream1', 'upstream2'],
    },
  },
  knobs: {
    maxconn: {
      type: 'int',
      description:
        "per-server maxconn: requests in flight on each upstream at once; the rest wait in HAProxy's queue",
      unit: 'connections',
      min: 1,
      max: 256,
      scale: 'log',
      default: 16,
    },
    timeout_connect: {
      type: 'int',
      description:
        'timeout connect: longest wait to connect to a server; with timeout queue unset, also the longest wait in the queue',
      unit: 'ms',
      min: 1,
      max: 600_000,
      default: 5_000,
    },
    timeout_server: {
      type: 'int',
      description: 'timeout server: longest silence while a server is expected to answer (504 after it)',
      unit: 'ms',
      min: 1,
      max: 600_000,
      // Debian's example haproxy.cfg uses 50 s for the client and server timeouts.
      default: 50_000,
    },
    timeout_client: {
      type: 'int',
      description: 'timeout client: longest silence from a client while it is expected to send',
      unit: 'ms',
      min: 1,
      max: 600_000,
      default: 50_000,
    },
    timeout_http_keep_alive: {
      type: 'int',
      description:
        "timeout http-keep-alive: a client's idle keep-alive connection is closed after this long (timeout client still caps it)",
      unit: 'ms',
      // 0 would mean "unset" to HAProxy (timeout http-request, then timeout client apply): "never" is the maximum.
      min: 1,
      max: 3_600_000,
      default: 10_000,
    },
    http_reuse: {
      type: 'enum',
      description:
        'http-reuse: which requests may go over an idle server connection another client used (safe: all but the first of a client connection)',
      values: ['never', 'safe', 'aggressive', 'always'],
      default: 'safe',
    },
  },
};
