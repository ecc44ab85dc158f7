import com.zaxxer.hikari.HikariDataSource;
import com.zaxxer.hikari.HikariPoolMXBean;
import com.zaxxer.hikari.metrics.IMetricsTracker;
import com.zaxxer.hikari.metrics.MetricsTrackerFactory;
import com.zaxxer.hikari.metrics.PoolStats;
import java.math.BigDecimal;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.DoubleAdder;
import java.util.concurrent.atomic.LongAdder;

/**
 * The pool's figures as Prometheus text, written by hand (Debian packages no Prometheus client for Java).
 * Two sets of names: the ones pooltune's collector reads from every bundled target (pool_*, as in
 * targets/http-pg/server.ts), and HikariCP's own (hikaricp_*, as its Prometheus tracker names them), which
 * the target declares as its native figures. The gauges are read live from HikariPoolMXBean at each scrape;
 * the acquire wait and the connections opened come from HikariCP's metrics-tracker hooks.
 */
final class PoolMetrics implements MetricsTrackerFactory, IMetricsTracker {
  /** Upper bounds (seconds) of the acquire-wait histogram: the same as the Node target's. */
  private static final double[] BOUNDS = {
    0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
  };

  /** Acquire waits per bucket (not cumulative; the last one is above every bound). */
  private final LongAdder[] acquireBuckets = new LongAdder[BOUNDS.length + 1];
  private final DoubleAdder acquireSeconds = new DoubleAdder();
  private final LongAdder opened = new LongAdder();
  private final Map<String, LongAdder> errors = new ConcurrentHashMap<>();

  PoolMetrics() {
    for (int i = 0; i < acquireBuckets.length; i++) acquireBuckets[i] = new LongAdder();
  }

  /** HikariCP asks for a tracker when the pool starts; this object is the only one. */
  @Override
  public IMetricsTracker create(String poolName, PoolStats stats) {
    return this;
  }

  /** Every connection HikariCP opens, except the first: its fail-fast check runs before the tracker is attached. */
  @Override
  public void recordConnectionCreatedMillis(long millis) {
    opened.increment();
  }

  /** Called on every successful getConnection() with the time it took, queueing included. */
  @Override
  public void recordConnectionAcquiredNanos(long nanos) {
    double seconds = nanos / 1e9;
    int bucket = 0;
    while (bucket < BOUNDS.length && seconds > BOUNDS[bucket]) bucket++;
    acquireBuckets[bucket].increment();
    acquireSeconds.add(seconds);
  }

  /** Counts a failed request by kind (acquire_timeout, statement_timeout, too_many_connections, ...). */
  void error(String kind) {
    errors.computeIfAbsent(kind, k -> new LongAdder()).increment();
  }

  /** The exposition text (format 0.0.4) for the pool as it is now. */
  String render(HikariDataSource pool) {
    HikariPoolMXBean live = pool.getHikariPoolMXBean();
    int active = live.getActiveConnections();
    int idle = live.getIdleConnections();
    int total = live.getTotalConnections();
    int pending = live.getThreadsAwaitingConnection();
    StringBuilder out = new StringBuilder(4096);

    gauge(out, "pool_total_connections", "Connections held by the pool", "", total);
    gauge(out, "pool_idle_connections", "Idle connections in the pool", "", idle);
    gauge(out, "pool_waiting_clients", "Callers waiting for a connection", "", pending);
    gauge(out, "pool_max_connections", "The pool size setting", "", pool.getMaximumPoolSize());

    String label = "{pool=\"" + pool.getPoolName() + "\"}";
    gauge(out, "hikaricp_active_connections", "HikariCP: connections in use", label, active);
    gauge(out, "hikaricp_idle_connections", "HikariCP: idle connections", label, idle);
    gauge(out, "hikaricp_pending_threads", "HikariCP: threads waiting for a connection", label, pending);
    gauge(out, "hikaricp_connections", "HikariCP: connections held (active + idle)", label, total);
    gauge(out, "hikaricp_max_connections", "HikariCP: maximumPoolSize", label, pool.getMaximumPoolSize());
    gauge(out, "hikaricp_min_connections", "HikariCP: minimumIdle", label, pool.getMinimumIdle());

    header(out, "pool_acquire_wait_seconds", "Time from asking the pool for a connection to getting one", "histogram");
    long cumulative = 0;
    for (int i = 0; i < acquireBuckets.length; i++) {
      cumulative += acquireBuckets[i].sum();
      String le = i < BOUNDS.length ? BigDecimal.valueOf(BOUNDS[i]).stripTrailingZeros().toPlainString() : "+Inf";
      out.append("pool_acquire_wait_seconds_bucket{le=\"").append(le).append("\"} ").append(cumulative).append('\n');
    }
    out.append("pool_acquire_wait_seconds_sum ").append(acquireSeconds.sum()).append('\n');
    out.append("pool_acquire_wait_seconds_count ").append(cumulative).append('\n');

    header(out, "pool_connections_opened_total", "Connections the pool opened", "counter");
    out.append("pool_connections_opened_total ").append(opened.sum()).append('\n');

    header(out, "pool_errors_total", "Pool and query errors by kind", "counter");
    new TreeMap<>(errors).forEach((kind, count) ->
        out.append("pool_errors_total{kind=\"").append(kind).append("\"} ").append(count.sum()).append('\n'));
    return out.toString();
  }

  private static void gauge(StringBuilder out, String name, String help, String labels, long value) {
    header(out, name, help, "gauge");
    out.append(name).append(labels).append(' ').append(value).append('\n');
  }

  private static void header(StringBuilder out, String name, String help, String type) {
    out.append("# HELP ").append(name).append(' ').append(help).append('\n');
    out.append("# TYPE ").append(name).append(' ').append(type).append('\n');
  }
}
