// pgBouncer's own pool figures, as its admin console reports them (SHOW POOLS, SHOW STATS), and the
// Prometheus gauges the pgbouncer target's app exposes them as. Pure: no connection, no registry.

/** A row of an admin console `SHOW` command: column name → value (pg returns numbers as text). */
export type AdminRow = Readonly<Record<string, unknown>>;

/** pgBouncer's pool figures at one moment (SHOW POOLS), over every pool but the admin console's own. */
export interface PgBouncerFigures {
  /** Client connections logged in and not waiting: linked to a server connection, or idle between queries. */
  readonly cl_active: number;
  /** Client connections that sent a query and wait for a server connection. */
  readonly cl_waiting: number;
  /** Server connections linked to a client. */
  readonly sv_active: number;
  /** Server connections idle and ready for a client. */
  readonly sv_idle: number;
  /** Server connections idle for longer than server_check_delay (they get a check query before reuse). */
  readonly sv_used: number;
  /** Server connections being opened. */
  readonly sv_login: number;
  /** How long the oldest waiting client has waited, in seconds (the longest over the pools). */
  readonly maxwait: number;
}

/** The gauge series each figure is exposed as; the target's `metrics.native` maps its labels to these. */
export const pgbouncerSeries: Readonly<Record<keyof PgBouncerFigures, string>> = {
  cl_active: 'pgbouncer_cl_active',
  cl_waiting: 'pgbouncer_cl_waiting',
  sv_active: 'pgbouncer_sv_active',
  sv_idle: 'pgbouncer_sv_idle',
  sv_used: 'pgbouncer_sv_used',
  sv_login: 'pgbouncer_sv_login',
  maxwait: 'pgbouncer_maxwait_seconds',
};

/** What each series means, for its Prometheus HELP line. */
export const pgbouncerHelp: Readonly<Record<keyof PgBouncerFigures, string>> = {
  cl_active: 'pgBouncer client connections linked to a server or idle, not waiting (SHOW POOLS cl_active)',
  cl_waiting: 'pgBouncer client connections waiting for a server connection (SHOW POOLS cl_waiting)',
  sv_active: 'pgBouncer server connections linked to a client (SHOW POOLS sv_active)',
  sv_idle: 'pgBouncer server connections idle and ready (SHOW POOLS sv_idle)',
  sv_used: 'pgBouncer server connections idle past server_check_delay (SHOW POOLS sv_used)',
  sv_login: 'pgBouncer server connections logging in (SHOW POOLS sv_login)',
  maxwait: 'Longest current wait of a pgBouncer client for a server, seconds (SHOW POOLS maxwait)',
};

/** The counter of the time clients spent waiting for a server (SHOW STATS total_wait_time). */
export const waitSecondsSeries = 'pgbouncer_client_wait_seconds_total';

/** The admin console's own pseudo-database: its rows describe the console, not a pool. */
const adminDatabase = 'pgbouncer';

const numberOf = (row: AdminRow, column: string): number => {
  const value = Number(row[column] ?? 0);
  return Number.isFinite(value) ? value : 0;
};

const real = (rows: readonly AdminRow[]) => rows.filter((row) => row.database !== adminDatabase);

/**
 * Sums `SHOW POOLS` rows into one set of figures: connection counts add up over the pools, the wait
 * is the longest. Rows of the admin console's own database are left out.
 */
export function summarisePools(pools: readonly AdminRow[]): PgBouncerFigures {
  const sum = (column: string) => real(pools).reduce((total, row) => total + numberOf(row, column), 0);
  return {
    cl_active: sum('cl_active'),
    cl_waiting: sum('cl_waiting'),
    sv_active: sum('sv_active'),
    sv_idle: sum('sv_idle'),
    sv_used: sum('sv_used'),
    sv_login: sum('sv_login'),
    maxwait: Math.max(
      0,
      ...real(pools).map((row) => numberOf(row, 'maxwait') + numberOf(row, 'maxwait_us') / 1e6),
    ),
  };
}

/**
 * Seconds clients have waited for a server since pgBouncer started, over every database (`SHOW STATS`
 * total_wait_time, in microseconds). A counter: its rate is the mean number of clients waiting. (The
 * avg_wait_time column is left alone: its meaning changed in pgBouncer 1.23.)
 */
export function totalWaitSeconds(stats: readonly AdminRow[]): number {
  return real(stats).reduce((total, row) => total + numberOf(row, 'total_wait_time'), 0) / 1e6;
}

/** Server connections pgBouncer holds open to PostgreSQL, in any state. */
export function serverConnections(figures: PgBouncerFigures): number {
  return figures.sv_active + figures.sv_idle + figures.sv_used + figures.sv_login;
}
