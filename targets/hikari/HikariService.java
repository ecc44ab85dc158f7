import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.HttpURLConnection;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.SQLTransientConnectionException;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * The bundled hikari target: an HTTP API on the JDK's built-in server with one HikariCP pool against
 * PostgreSQL. It mirrors targets/http-pg/server.ts request for request (/read, /write, /aggregate, /sleep,
 * /healthz, /metrics, same SQL, same statuses), so the harness loads and reads both alike and only the
 * pool differs. Settings: the pool's from the properties file given as the only argument (rendered from
 * the knobs, in HikariCP's own property names), the rest from env.
 */
public final class HikariService {
  /** One endpoint's work on a pooled connection. */
  @FunctionalInterface
  private interface Work {
    void run(Connection db) throws SQLException;
  }

  private final HikariDataSource pool;
  private final PoolMetrics metrics;
  private final int rows;
  private final double sleepSeconds;
  private final Map<String, Work> endpoints;
  /** False until the JVM has warmed up: /healthz answers 503 until then. */
  private volatile boolean warm;

  private HikariService(HikariDataSource pool, PoolMetrics metrics, int rows, int sleepMs) {
    this.pool = pool;
    this.metrics = metrics;
    this.rows = rows;
    this.sleepSeconds = sleepMs / 1000.0;
    this.endpoints = Map.of(
        "/read", db -> query(db, "SELECT id, value, payload FROM items WHERE id = ?", randomId()),
        "/write", this::write,
        "/aggregate", db -> query(db,
            "SELECT count(*), avg(value), max(length(payload)) FROM items WHERE id % 7 = ?", randomId() % 7),
        "/sleep", db -> query(db, "SELECT pg_sleep(?)", sleepSeconds));
  }

  public static void main(String[] args) throws Exception {
    if (args.length != 1) {
      System.err.println("usage: HikariService <hikari.properties>");
      System.exit(2);
    }
    int port = intEnv("PORT", 3000);
    PoolMetrics metrics = new PoolMetrics();
    HikariDataSource pool = new HikariDataSource(config(Path.of(args[0]), System.getenv("DATABASE_URL"), metrics));
    HikariService service = new HikariService(pool, metrics, intEnv("SEED_ROWS", 10_000), intEnv("SLEEP_MS", 10));
    service.prepare();

    HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", port), 1024);
    // Request threads, as a servlet container has (Tomcat's default is 200), run the endpoints: more
    // callers than connections is the case a pool is for, so they queue in HikariCP (and beyond 200 in
    // the executor). The server's own two threads parse requests, hand them over, and answer /metrics
    // themselves, as a separate management port would: a scrape never waits behind callers of the pool.
    ExecutorService requestThreads = Executors.newFixedThreadPool(intEnv("HTTP_THREADS", 200));
    server.setExecutor(Executors.newFixedThreadPool(2));
    server.createContext("/", exchange -> {
      if (exchange.getRequestURI().getPath().equals("/metrics")) service.handle(exchange);
      else requestThreads.execute(() -> service.handle(exchange));
    });
    // SIGTERM from the harness: stop taking requests, then close the pool (HikariCP aborts what is in use).
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      server.stop(0);
      requestThreads.shutdownNow();
      pool.close();
    }));
    server.start();
    warmUp(port, intEnv("WARMUP_REQUESTS", 1_000));
    service.warm = true;
    System.out.printf(
        "hikari listening on 127.0.0.1:%d; HikariCP settings in effect: maximumPoolSize=%d minimumIdle=%d"
            + " connectionTimeout=%d idleTimeout=%d maxLifetime=%d%n",
        port, pool.getMaximumPoolSize(), pool.getMinimumIdle(), pool.getConnectionTimeout(),
        pool.getIdleTimeout(), pool.getMaxLifetime());
  }

  /**
   * The pool's config: the properties file as HikariCP reads it, plus where the database is. HikariCP
   * checks the values itself (and replaces some out-of-range ones with its defaults, logging a warning);
   * the start-up line shows what it kept.
   */
  static HikariConfig config(Path file, String databaseUrl, PoolMetrics metrics) throws IOException {
    Properties settings = new Properties();
    try (InputStream in = Files.newInputStream(file)) {
      settings.load(in);
    }
    // HikariCP has no way to say "minimumIdle = maximumPoolSize" except leaving it unset (its default).
    if (Integer.parseInt(settings.getProperty("minimumIdle", "-1").trim()) < 0) settings.remove("minimumIdle");
    HikariConfig config = new HikariConfig(settings);
    if (databaseUrl == null || databaseUrl.isEmpty()) throw new IllegalArgumentException("DATABASE_URL must be set");
    // postgres://user:password@host:port/database -> jdbc:postgresql://host:port/database + credentials.
    URI url = URI.create(databaseUrl);
    config.setJdbcUrl("jdbc:postgresql://" + url.getHost() + ":" + url.getPort() + url.getRawPath());
    String[] credentials = url.getRawUserInfo() == null ? new String[0] : url.getRawUserInfo().split(":", 2);
    if (credentials.length > 0) config.setUsername(URLDecoder.decode(credentials[0], StandardCharsets.UTF_8));
    if (credentials.length > 1) config.setPassword(URLDecoder.decode(credentials[1], StandardCharsets.UTF_8));
    config.setMetricsTrackerFactory(metrics);
    return config;
  }

  /** Answers one request; the exchange is closed whatever happens. */
  private void handle(HttpExchange exchange) {
    try {
      // Drain the request body before answering so keep-alive connections stay usable.
      exchange.getRequestBody().readAllBytes();
      String path = exchange.getRequestURI().getPath();
      if (path.equals("/metrics")) {
        reply(exchange, 200, "text/plain; version=0.0.4; charset=utf-8", metrics.render(pool));
        return;
      }
      if (path.equals("/healthz") && !warm) {
        reply(exchange, 503, "text/plain", "warming up");
        return;
      }
      Work work = path.equals("/healthz") ? db -> query(db, "SELECT 1") : endpoints.get(path);
      if (work == null) {
        reply(exchange, 404, "text/plain", "not found");
        return;
      }
      try (Connection db = pool.getConnection()) {
        work.run(db);
        if (path.equals("/healthz")) reply(exchange, 200, "text/plain", "ok");
        else reply(exchange, 200, "application/json", "{\"ok\":true}");
      } catch (SQLException error) {
        // A broken connection is HikariCP's to evict (it checks the SQLState on every exception).
        String kind = classify(error);
        metrics.error(kind);
        reply(exchange, status(kind), "application/json", "{\"error\":\"" + kind + "\"}");
      }
    } catch (IOException error) {
      // The client went away: nothing to answer.
    } catch (RuntimeException error) {
      System.err.println("hikari: " + error);
    } finally {
      exchange.close();
    }
  }

  /**
   * Sends the service its own requests until the JIT has compiled the request path (the HTTP server,
   * HikariCP, the JDBC driver). The harness restarts the JVM at every knob change, and a cold JVM serves
   * a fraction of its warm rate for seconds: without this, the first trial after each restart would
   * measure the JIT, not the pool. Four clients, so the pool sees concurrent borrowers too.
   */
  private static void warmUp(int port, int requests) throws InterruptedException {
    String[] paths = {"/read", "/read", "/write", "/aggregate"};
    ExecutorService clients = Executors.newFixedThreadPool(4);
    for (int c = 0; c < 4; c++) {
      clients.execute(() -> {
        for (int i = 0; i < requests / 4; i++) {
          try {
            URI uri = URI.create("http://127.0.0.1:" + port + paths[i % paths.length]);
            HttpURLConnection connection = (HttpURLConnection) uri.toURL().openConnection();
            try (InputStream body = connection.getInputStream()) {
              body.readAllBytes();
            }
          } catch (IOException error) {
            // A failed warm-up request still warmed something; the trials will show real failures.
          }
        }
      });
    }
    clients.shutdown();
    clients.awaitTermination(1, TimeUnit.MINUTES);
  }

  /** The error kinds the harness reads, as http-pg names them. */
  static String classify(SQLException error) {
    if ("53300".equals(error.getSQLState())) return "too_many_connections";
    // HikariCP's getConnection() timed out (the pool was exhausted, or the database did not answer).
    if (error instanceof SQLTransientConnectionException) return "acquire_timeout";
    if ("57014".equals(error.getSQLState())) return "statement_timeout";
    return "connection_error";
  }

  private static int status(String kind) {
    return switch (kind) {
      case "acquire_timeout", "too_many_connections" -> 503;
      case "statement_timeout" -> 504;
      default -> 500;
    };
  }

  private void write(Connection db) throws SQLException {
    // HikariCP restores auto-commit (and rolls back an open transaction) when the connection goes back.
    db.setAutoCommit(false);
    try {
      int id = randomId();
      query(db, "UPDATE items SET value = value + 1 WHERE id = ?", id);
      query(db, "INSERT INTO events (item_id) VALUES (?)", id);
      db.commit();
    } catch (SQLException error) {
      db.rollback();
      throw error;
    }
  }

  /** Creates and seeds the tables (once, whichever instance comes first), as http-pg does. */
  private void prepare() throws SQLException {
    try (Connection db = pool.getConnection()) {
      query(db, "SELECT pg_advisory_lock(42)");
      query(db, "CREATE TABLE IF NOT EXISTS items (id integer PRIMARY KEY, value integer NOT NULL, payload text NOT NULL)");
      query(db, "CREATE TABLE IF NOT EXISTS events (id bigserial PRIMARY KEY, item_id integer NOT NULL)");
      query(db, "INSERT INTO items (id, value, payload)"
          + " SELECT g, g % 100, repeat(md5(g::text), 4) FROM generate_series(1, ?::integer) AS g"
          + " ON CONFLICT (id) DO NOTHING", rows);
      query(db, "SELECT pg_advisory_unlock(42)");
    }
  }

  /** Runs one statement and reads every row it returns. */
  private static void query(Connection db, String sql, Object... parameters) throws SQLException {
    try (PreparedStatement statement = db.prepareStatement(sql)) {
      for (int i = 0; i < parameters.length; i++) statement.setObject(i + 1, parameters[i]);
      if (!statement.execute()) return;
      try (ResultSet result = statement.getResultSet()) {
        while (result.next()) {
          // Reading the rows is part of the work.
        }
      }
    }
  }

  private int randomId() {
    return ThreadLocalRandom.current().nextInt(1, rows + 1);
  }

  private static void reply(HttpExchange exchange, int status, String type, String body) throws IOException {
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    exchange.getResponseHeaders().set("content-type", type);
    exchange.sendResponseHeaders(status, bytes.length);
    try (OutputStream out = exchange.getResponseBody()) {
      out.write(bytes);
    }
  }

  private static int intEnv(String name, int fallback) {
    String raw = System.getenv(name);
    if (raw == null || raw.isEmpty()) return fallback;
    try {
      int value = Integer.parseInt(raw);
      if (value >= 0) return value;
    } catch (NumberFormatException ignored) {
      // Reported below, with the name.
    }
    throw new IllegalArgumentException(name + " must be a whole number, got \"" + raw + "\"");
  }
}
