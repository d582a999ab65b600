package io.tessera.jdbc;

import io.tessera.common.errors.TesseraError;
import io.tessera.common.errors.TesseraException;
import io.tessera.common.options.ParsedOptions;
import io.tessera.common.redact.Redaction;
import io.tessera.jdbc.dialect.JdbcDialects;
import java.io.Serializable;
import java.sql.Connection;
import java.sql.Driver;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.Properties;

/**
 * Opens connections to one database. Serializable (it travels to executors in the writer factory),
 * and it never prints the password: {@link #toString()}, {@link #redact} and every error it raises
 * are scrubbed.
 */
public final class JdbcConnector implements Serializable {
  private static final long serialVersionUID = 1L;

  private final String url;
  private final String user;
  private final String password;
  private final String driverClass;
  private transient volatile Driver driver;

  public JdbcConnector(ParsedOptions options) {
    this.url = options.get(JdbcWriteOptions.URL);
    this.user = options.get(JdbcWriteOptions.USER);
    this.password = options.get(JdbcWriteOptions.PASSWORD);
    this.driverClass = JdbcDialects.forUrl(url).driverClass();
  }

  public String url() {
    return url;
  }

  public String user() {
    return user;
  }

  /** The driver class, for handing to Spark's JDBC reader. */
  String driverClass() {
    return driverClass;
  }

  /** The password, for handing to Spark's JDBC reader only. */
  String password() {
    return password;
  }

  public Connection open() {
    Properties p = new Properties();
    if (user != null) {
      p.setProperty("user", user);
    }
    if (password != null) {
      p.setProperty("password", password);
    }
    try {
      Connection c = driver().connect(url, p);
      if (c == null) {
        throw new SQLException("Driver " + driverClass + " does not accept this URL");
      }
      return c;
    } catch (SQLException e) {
      throw new TesseraException(
          TesseraError.CONNECTION_FAILED,
          "Cannot connect to "
              + redactedUrl()
              + (user == null ? "" : " as user '" + user + "'")
              + ": "
              + redact(e.getMessage())
              + "; check options 'url', 'user' and 'password'",
          redactThrowable(e));
    }
  }

  /**
   * The driver instance, loaded from the class loader that loaded Tessera (or the thread's), not
   * looked up in {@code DriverManager}, which cannot see drivers of Spark's user class loader.
   */
  private Driver driver() {
    Driver d = driver;
    if (d == null) {
      d = loadDriver();
      driver = d;
    }
    return d;
  }

  private Driver loadDriver() {
    List<ClassLoader> loaders = new java.util.ArrayList<>();
    loaders.add(JdbcConnector.class.getClassLoader());
    if (Thread.currentThread().getContextClassLoader() != null) {
      loaders.add(Thread.currentThread().getContextClassLoader());
    }
    Exception last = null;
    for (ClassLoader loader : loaders) {
      try {
        return (Driver)
            Class.forName(driverClass, true, loader).getDeclaredConstructor().newInstance();
      } catch (ReflectiveOperationException | LinkageError e) {
        last = e instanceof Exception ex ? ex : new IllegalStateException(e);
      }
    }
    throw new TesseraException(
        TesseraError.CONNECTION_FAILED,
        "Cannot load the JDBC driver "
            + driverClass
            + " for "
            + redactedUrl()
            + "; it ships with tessera-connector-jdbc, so check that the connector's dependencies"
            + " are on the class path (e.g. use --packages, not --jars with the connector alone)",
        last);
  }

  /** Rolls back {@code c}'s open transaction, if any; closing it would discard it too. */
  static void rollbackQuietly(Connection c) {
    try {
      if (!c.getAutoCommit()) {
        c.rollback();
      }
    } catch (SQLException ignored) {
      // closing the connection discards the transaction as well
    }
  }

  /** Runs {@code sql} statements, each auto-committed. */
  public void execute(List<String> sql) {
    execute(sql, (s, e) -> null);
  }

  /**
   * As {@link #execute(List)}; a failing statement and its error go to {@code clearer} first, which
   * may return a clearer error to throw instead (or null).
   */
  public void execute(
      List<String> sql,
      java.util.function.BiFunction<String, SQLException, RuntimeException> clearer) {
    try (Connection c = open();
        Statement st = c.createStatement()) {
      for (String s : sql) {
        try {
          st.execute(s);
        } catch (SQLException e) {
          RuntimeException clear = clearer.apply(s, e);
          throw clear != null ? clear : sqlFailed("Statement failed", s, e);
        }
      }
    } catch (SQLException e) {
      throw sqlFailed("Closing the connection failed", "", e);
    }
  }

  public TesseraException sqlFailed(String what, String sql, SQLException e) {
    return new TesseraException(
        TesseraError.SQL_FAILED,
        what
            + " on "
            + redactedUrl()
            + ": "
            + redact(describe(e))
            + (sql.isEmpty() ? "" : " [SQL: " + redact(sql) + "]"),
        redactThrowable(e));
  }

  /** The message of {@code e} and of its chained {@code getNextException()}s. */
  static String describe(SQLException e) {
    StringBuilder sb = new StringBuilder(String.valueOf(e.getMessage()));
    SQLException next = e.getNextException();
    for (int i = 0; next != null && i < 3; i++, next = next.getNextException()) {
      if (!sb.toString().contains(String.valueOf(next.getMessage()))) {
        sb.append("; ").append(next.getMessage());
      }
    }
    return sb.toString();
  }

  public String redactedUrl() {
    return Redaction.redactText(url, secrets());
  }

  public String redact(String text) {
    return Redaction.redactText(text, secrets());
  }

  public RuntimeException redactThrowable(Throwable t) {
    return Redaction.redactThrowable(t, secrets());
  }

  /** The password option and any password written into the URL itself. */
  private List<String> secrets() {
    List<String> out = new java.util.ArrayList<>();
    if (password != null && !password.isEmpty()) {
      out.add(password);
    }
    java.util.regex.Matcher m = URL_PASSWORD.matcher(url);
    while (m.find()) {
      out.add(m.group(1));
    }
    return out;
  }

  private static final java.util.regex.Pattern URL_PASSWORD =
      java.util.regex.Pattern.compile("(?i)password=([^&;]+)");

  @Override
  public String toString() {
    return redactedUrl();
  }
}
