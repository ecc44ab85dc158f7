/** Names of the Prometheus series a target exposes about its connection pool. */
export interface PoolMetricNames {
  /** Gauge: connections the pool holds (in use + idle). */
  readonly total: string;
  /** Gauge: idle connections. */
  readonly idle: string;
  /** Gauge: callers waiting for a connection. */
  readonly waiting: string;
  /** Histogram (seconds): time from asking the pool to getting a client. */
  readonly acquireWait: string;
  /** Counter: connections the pool opened. */
  readonly connectionsOpened: string;
  /** Counter with a `kind` label: pool errors (acquire_timeout, statement_timeout, connection_error). */
  readonly errors: string;
}

/** The names the bundled targets use; a user's target can map its own in config. */
export const defaultPoolMetricNames: PoolMetricNames = {
  total: 'pool_total_connections',
  idle: 'pool_idle_connections',
  waiting: 'pool_waiting_clients',
  acquireWait: 'pool_acquire_wait_seconds',
  connectionsOpened: 'pool_connections_opened_total',
  errors: 'pool_errors_total',
};

/** The default names with a target's own mapping laid over them (unset entries keep the default). */
export function poolMetricNames(
  overrides: Readonly<Partial<Record<keyof PoolMetricNames, string | undefined>>>,
): PoolMetricNames {
  const d = defaultPoolMetricNames;
  return {
    total: overrides.total ?? d.total,
    idle: overrides.idle ?? d.idle,
    waiting: overrides.waiting ?? d.waiting,
    acquireWait: overrides.acquireWait ?? d.acquireWait,
    connectionsOpened: overrides.connectionsOpened ?? d.connectionsOpened,
    errors: overrides.errors ?? d.errors,
  };
}
