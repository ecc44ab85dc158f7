// Faults the probes inject through the target's own PostgreSQL (one pooltune started, so on loopback):
// connections cut under the pool, and tables locked so every query that touches them waits.
import pg from 'pg';

/** An admin connection of our own; its errors (the server going away) are expected, never fatal. */
async function adminClient(url: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
  client.on('error', () => undefined);
  await client.connect();
  return client;
}

/**
 * Ends every client connection to the database but our own, as a failover or `pg_terminate_backend`
 * does: the pool's connections die under it, idle or mid-query. Resolves to how many were ended.
 */
export async function terminateConnections(url: string): Promise<number> {
  const client = await adminClient(url);
  try {
    const result = await client.query(
      `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
       WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()`,
    );
    return result.rowCount ?? 0;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Locks held on the database's tables until released. */
export interface TableLock extends AsyncDisposable {
  /** How many tables are locked (0: the database has none, so nothing waits). */
  readonly tables: number;
  release(): Promise<void>;
}

/**
 * Takes ACCESS EXCLUSIVE locks on every table outside the system schemas, in one transaction held open:
 * every query that touches them waits, as behind a migration or a stuck transaction. The dependency
 * stays up but has gone slow; only the caller's own timeouts end those waits.
 */
export async function lockTables(url: string): Promise<TableLock> {
  const client = await adminClient(url);
  let released: Promise<void> | undefined;
  const release = () => {
    released ??= client
      .query('ROLLBACK')
      .then(() => undefined)
      .catch(() => undefined)
      .finally(() => client.end().catch(() => undefined));
    return released;
  };
  try {
    // Waiting longer than this for the queries in flight to let go means something else is wrong.
    await client.query("SET lock_timeout = '5s'");
    await client.query('BEGIN');
    const { rows } = await client.query<{ name: string }>(
      `SELECT format('%I.%I', schemaname, tablename) AS name FROM pg_tables
       WHERE schemaname NOT IN ('pg_catalog', 'information_schema') ORDER BY 1`,
    );
    if (rows.length > 0) {
      await client.query(`LOCK TABLE ${rows.map((row) => row.name).join(', ')} IN ACCESS EXCLUSIVE MODE`);
    }
    return { tables: rows.length, release, [Symbol.asyncDispose]: release };
  } catch (error) {
    await release();
    throw error;
  }
}
