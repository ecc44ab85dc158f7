// The pgbouncer target's app: http-pg's server, unchanged (its DATABASE_URL points at pgBouncer), with
// pgBouncer's own pool figures added to its /metrics. They come from pgBouncer's admin console
// (PGBOUNCER_ADMIN_URL, the `pgbouncer` database), read once per scrape.
import pg from 'pg';
import client from 'prom-client';
import {
  type PgBouncerFigures,
  pgbouncerHelp,
  pgbouncerSeries,
  summarisePools,
  totalWaitSeconds,
  waitSecondsSeries,
} from './admin-console.ts';

const adminUrl = process.env.PGBOUNCER_ADMIN_URL;
if (adminUrl === undefined || adminUrl === '') throw new Error('PGBOUNCER_ADMIN_URL must be set');

let admin: Promise<pg.Client> | undefined;
/** One read of the admin console. */
interface Snapshot {
  readonly pools: PgBouncerFigures;
  readonly waitSeconds: number;
}

let latest: { at: number; snapshot: Promise<Snapshot> } | undefined;

/** One admin-console connection, opened on first use and again after any failure. */
function adminClient(): Promise<pg.Client> {
  admin ??= (async () => {
    const connection = new pg.Client({ connectionString: adminUrl });
    connection.on('error', () => {
      admin = undefined;
    });
    await connection.connect();
    return connection;
  })().catch((error: unknown) => {
    admin = undefined;
    throw error;
  });
  return admin;
}

/** SHOW POOLS and SHOW STATS (simple protocol: the admin console speaks no other). */
async function readConsole(): Promise<Snapshot> {
  const connection = await adminClient();
  try {
    const pools = await connection.query('SHOW POOLS');
    const stats = await connection.query('SHOW STATS');
    return { pools: summarisePools(pools.rows), waitSeconds: totalWaitSeconds(stats.rows) };
  } catch (error) {
    admin = undefined;
    await connection.end().catch(() => undefined);
    throw error;
  }
}

/** The figures of this scrape: every series of one scrape shares a single read of the console. */
function snapshotNow(): Promise<Snapshot> {
  const now = performance.now();
  if (latest === undefined || now - latest.at > 100) latest = { at: now, snapshot: readConsole() };
  return latest.snapshot;
}

// A failed read fails the scrape (the collector then leaves the sample out) rather than report stale zeros.
const series: client.Metric[] = [
  ...Object.entries(pgbouncerSeries).map(
    ([label, name]) =>
      new client.Gauge({
        name,
        help: pgbouncerHelp[label as keyof PgBouncerFigures],
        registers: [],
        async collect() {
          this.set((await snapshotNow()).pools[label as keyof PgBouncerFigures]);
        },
      }),
  ),
  new client.Counter({
    name: waitSecondsSeries,
    help: 'Seconds pgBouncer clients waited for a server connection (SHOW STATS total_wait_time)',
    registers: [],
    async collect() {
      // Mirrors pgBouncer's own counter.
      this.reset();
      this.inc((await snapshotNow()).waitSeconds);
    },
  }),
];

// http-pg's server keeps its Registry private, so every Registry made in this process is given
// pgBouncer's series as it is made. Installed before that server module loads.
const Base = client.Registry;
class WithPgBouncerGauges extends Base {
  constructor(...args: ConstructorParameters<typeof Base>) {
    super(...args);
    for (const metric of series) this.registerMetric(metric);
  }
}
Object.defineProperty(client, 'Registry', { value: WithPgBouncerGauges });

await import('../http-pg/server.ts');
