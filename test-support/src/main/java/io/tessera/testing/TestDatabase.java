package io.tessera.testing;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;

/**
 * A real database with a fresh schema of its own (a database, on MariaDB), dropped on {@link
 * #close()}. H2 is an in-memory database unique to the test; PostgreSQL and MariaDB are the servers
 * on 127.0.0.1. When a server cannot be reached the test is skipped, or failed when {@code CI=true}
 * (see {@link RequiredService}).
 */
public final class TestDatabase implements AutoCloseable {
  private static final Map<DatabaseKind, String> UNREACHABLE = new EnumMap<>(DatabaseKind.class);
  private static final Map<DatabaseKind, Boolean> CHECKED = new EnumMap<>(DatabaseKind.class);

  private final DatabaseKind kind;
  private final String url;
  private final String schema;
  private final Connection keepAlive;
  private final List<String> users = new ArrayList<>();

  private TestDatabase(DatabaseKind kind, String url, String schema, Connection keepAlive) {
    this.kind = kind;
    this.url = url;
    this.schema = schema;
    this.keepAlive = keepAlive;
  }

  /** A database of {@code kind} with a new, empty schema named {@link #schema()}. */
  public static TestDatabase create(DatabaseKind kind) {
    String schema = Names.unique("ts");
    String url = kind == DatabaseKind.H2 ? h2Url(schema) : kind.serverUrl();
    requireReachable(kind, url);
    try {
      Connection c = DriverManager.getConnection(url, properties(kind));
      try (Statement st = c.createStatement()) {
        st.execute(
            kind == DatabaseKind.MARIADB
                ? "CREATE DATABASE `" + schema + "`"
                : "CREATE SCHEMA \"" + schema + "\"");
      }
      return new TestDatabase(kind, url, schema, c);
    } catch (SQLException e) {
      throw new IllegalStateException("Could not create test schema on " + kind, e);
    }
  }

  private static org.h2.tools.Server h2Server;

  /**
   * An in-memory H2 database. With a cluster master the executors are other JVMs, so it is served
   * over TCP by this JVM (an in-memory database is visible only inside its own JVM).
   */
  private static synchronized String h2Url(String schema) {
    String master = System.getProperty("tessera.test.master", "local");
    if (master.startsWith("local[") || master.equals("local")) {
      return "jdbc:h2:mem:" + schema + ";DB_CLOSE_DELAY=-1";
    }
    if (h2Server == null) {
      try {
        // Without -tcpAllowOthers the server accepts loopback connections only (the test
        // cluster's workers are on 127.0.0.1 and 127.0.0.2), and it lives as long as this JVM.
        h2Server = org.h2.tools.Server.createTcpServer("-tcpPort", "0", "-ifNotExists").start();
      } catch (SQLException e) {
        throw new IllegalStateException("Could not start the H2 TCP server", e);
      }
    }
    return "jdbc:h2:tcp://127.0.0.1:"
        + h2Server.getPort()
        + "/mem:"
        + schema
        + ";DB_CLOSE_DELAY=-1";
  }

  private static synchronized void requireReachable(DatabaseKind kind, String url) {
    if (kind == DatabaseKind.H2) {
      return;
    }
    if (!CHECKED.containsKey(kind)) {
      DriverManager.setLoginTimeout(5);
      try (Connection c = DriverManager.getConnection(url, properties(kind))) {
        c.isValid(5);
      } catch (SQLException e) {
        UNREACHABLE.put(kind, e.getMessage());
      }
      CHECKED.put(kind, true);
    }
    String reason = UNREACHABLE.get(kind);
    if (reason != null) {
      throw RequiredService.unavailable(
          kind + " at " + url,
          reason,
          "start it, or point TESSERA_" + kind + "_URL/_USER/_PASSWORD at a reachable server");
    }
  }

  private static Properties properties(DatabaseKind kind) {
    Properties p = new Properties();
    if (kind != DatabaseKind.H2) {
      p.setProperty("user", kind.user());
      p.setProperty("password", kind.password());
    }
    return p;
  }

  public DatabaseKind kind() {
    return kind;
  }

  /** The JDBC URL of the database (not of the schema): qualify names with {@link #schema()}. */
  public String url() {
    return url;
  }

  public String user() {
    return kind == DatabaseKind.H2 ? "" : kind.user();
  }

  public String password() {
    return kind == DatabaseKind.H2 ? "" : kind.password();
  }

  /** This test's own schema (lower case; quote it in SQL). */
  public String schema() {
    return schema;
  }

  /** A new connection; the caller closes it. */
  public Connection connect() throws SQLException {
    return DriverManager.getConnection(url, properties(kind));
  }

  /** {@code name} quoted for this database. */
  public String quote(String name) {
    return kind == DatabaseKind.MARIADB
        ? "`" + name.replace("`", "``") + "`"
        : "\"" + name.replace("\"", "\"\"") + "\"";
  }

  /** {@code schema.table}, both quoted. */
  public String qualified(String table) {
    return quote(schema) + "." + quote(table);
  }

  /** Runs statements in one auto-committed session. */
  public void execute(String... sql) throws SQLException {
    try (Connection c = connect();
        Statement st = c.createStatement()) {
      for (String s : sql) {
        st.execute(s);
      }
    }
  }

  /** Every row of {@code query}, each as a list of column values. */
  public List<List<Object>> query(String query) throws SQLException {
    try (Connection c = connect();
        Statement st = c.createStatement();
        ResultSet rs = st.executeQuery(query)) {
      List<List<Object>> rows = new ArrayList<>();
      int n = rs.getMetaData().getColumnCount();
      while (rs.next()) {
        List<Object> row = new ArrayList<>(n);
        for (int i = 1; i <= n; i++) {
          row.add(rs.getObject(i));
        }
        rows.add(row);
      }
      return rows;
    }
  }

  /**
   * How many sessions now wait for a lock while running a statement on this test's schema (on H2,
   * whose database belongs to the test, any waiting session). For tests that make writers queue.
   */
  public long sessionsWaitingForLocks() throws SQLException {
    String sql =
        switch (kind) {
          case H2 ->
              "SELECT COUNT(*) FROM INFORMATION_SCHEMA.SESSIONS WHERE BLOCKER_ID IS NOT NULL";
          case POSTGRESQL ->
              "SELECT COUNT(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
                  + " AND query LIKE '%"
                  + schema
                  + "%'";
          case MARIADB ->
              "SELECT COUNT(*) FROM information_schema.PROCESSLIST p WHERE p.INFO LIKE '%"
                  + schema
                  + "%' AND p.ID <> CONNECTION_ID() AND (p.STATE LIKE '%lock%' OR p.ID IN"
                  + " (SELECT trx_mysql_thread_id FROM information_schema.INNODB_TRX"
                  + " WHERE trx_state = 'LOCK WAIT'))";
        };
    return ((Number) query(sql).get(0).get(0)).longValue();
  }

  /**
   * Names of the tables now in this test's schema, except Tessera's lock table {@code
   * tessera_locks} and ledger {@code tessera_ledger}, which connectors create on demand and keep.
   */
  public List<String> tables() throws SQLException {
    return tables(false);
  }

  /** Tessera's ledgers in this schema (one per database user that wrote atomically). */
  public List<String> ledgerTables() throws SQLException {
    return tables(true).stream()
        .filter(t -> t.matches("tessera_ledger(_[a-z0-9_]*_[0-9a-f]{8}_[0-9a-f]{8})?"))
        .toList();
  }

  /** Whether the schema holds {@code table}, Tessera's own lock and ledger tables included. */
  public boolean hasTable(String table) throws SQLException {
    return tables(true).contains(table);
  }

  private List<String> tables(boolean withTesseraTables) throws SQLException {
    try (Connection c = connect()) {
      String catalog = kind == DatabaseKind.MARIADB ? schema : null;
      String schemaPattern = kind == DatabaseKind.MARIADB ? null : schema;
      try (ResultSet rs = c.getMetaData().getTables(catalog, schemaPattern, "%", null)) {
        List<String> out = new ArrayList<>();
        while (rs.next()) {
          String name = rs.getString("TABLE_NAME");
          if (withTesseraTables
              || !name.startsWith("tessera_locks") && !name.startsWith("tessera_ledger")) {
            out.add(name);
          }
        }
        return out;
      }
    }
  }

  /**
   * A new database user (a PostgreSQL role, a MariaDB account {@code user@'%'}, an H2 user) with
   * {@code password}, dropped on {@link #close()}. With {@code mayCreate} it may create tables in
   * this test's schema and use them, which Tessera's atomic writes need: PostgreSQL CREATE on the
   * schema; MariaDB CREATE, ALTER, DROP, SELECT, INSERT, UPDATE, DELETE on the database (MariaDB
   * gives a table's creator no privileges of its own); H2 ALTER ANY SCHEMA. Without it the user can
   * only reach the schema (PostgreSQL USAGE); grant table privileges with {@link #grant}. Returns
   * the name to connect with.
   */
  public String createUser(String user, String password, boolean mayCreate) throws SQLException {
    users.add(user);
    switch (kind) {
      case POSTGRESQL -> {
        execute(
            "CREATE ROLE " + quote(user) + " LOGIN PASSWORD '" + password + "'",
            "GRANT USAGE ON SCHEMA " + quote(schema) + " TO " + quote(user));
        if (mayCreate) {
          execute("GRANT CREATE ON SCHEMA " + quote(schema) + " TO " + quote(user));
        }
      }
      case MARIADB -> {
        execute("CREATE USER '" + user + "'@'%' IDENTIFIED BY '" + password + "'");
        if (mayCreate) {
          execute(
              "GRANT CREATE, ALTER, DROP, SELECT, INSERT, UPDATE, DELETE ON "
                  + quote(schema)
                  + ".* TO '"
                  + user
                  + "'@'%'");
        }
      }
      case H2 -> {
        execute("CREATE USER " + quote(user) + " PASSWORD '" + password + "'");
        if (mayCreate) {
          execute("GRANT ALTER ANY SCHEMA TO " + quote(user));
        }
      }
    }
    return user;
  }

  /** Grants {@code privileges} (e.g. "SELECT, INSERT") on {@code table} of this schema. */
  public void grant(String privileges, String table, String user) throws SQLException {
    execute(
        "GRANT "
            + privileges
            + " ON "
            + qualified(table)
            + " TO "
            + (kind == DatabaseKind.MARIADB ? "'" + user + "'@'%'" : quote(user)));
  }

  /**
   * The URL a user made by {@link #createUser} connects with: H2 lets only admins connect with
   * database settings in the URL, and a MariaDB user may connect only to a database it has
   * privileges in (so it connects to none).
   */
  public String userUrl() {
    return switch (kind) {
      case H2 -> url.replace(";DB_CLOSE_DELAY=-1", "");
      case MARIADB -> url.replaceFirst("(//[^/]+/)[^?;]*", "$1");
      case POSTGRESQL -> url;
    };
  }

  @Override
  public void close() throws SQLException {
    try (Connection c = keepAlive;
        Statement st = c.createStatement()) {
      switch (kind) {
        case H2 -> st.execute("SHUTDOWN");
        case POSTGRESQL -> {
          st.execute("DROP SCHEMA IF EXISTS \"" + schema + "\" CASCADE");
          for (String user : users) {
            st.execute("DROP OWNED BY " + quote(user) + " CASCADE");
            st.execute("DROP ROLE IF EXISTS " + quote(user));
          }
        }
        case MARIADB -> {
          st.execute("DROP DATABASE IF EXISTS `" + schema + "`");
          for (String user : users) {
            st.execute("DROP USER IF EXISTS '" + user + "'@'%'");
          }
        }
      }
    }
  }

  @Override
  public String toString() {
    return kind + " " + url + " schema " + schema;
  }
}
